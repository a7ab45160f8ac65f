"""Screens: jobs, new job, plan review, job, unit detail, help, modals."""
