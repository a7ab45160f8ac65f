"""The phasegrid TUI (Textual): jobs, new job, plan review, live job, unit detail."""

from app.tui.app import PhasegridApp

__all__ = ["PhasegridApp"]
