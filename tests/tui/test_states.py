"""The TUI draws the engine's cell states: their names, order and codes come from
`engine.states`; the TUI adds only a glyph and a colour per state."""

from __future__ import annotations

from types import SimpleNamespace

from app.tui import style
from app.tui.model import GridModel
from engine import states
from engine.models import CellRecord
from engine.states import CELL_STATES, STATE_CODES, CellState


def test_the_tui_uses_the_engines_state_declaration():
    assert style.CODE is STATE_CODES
    assert tuple(s.value for s in CELL_STATES) == style.STATES
    assert [STATE_CODES[s] for s in CellState] == list(range(len(CellState)))


def test_every_state_has_its_own_glyph_and_a_colour():
    assert len(style.GLYPH) == len(style.COLOR) == len(CELL_STATES)
    assert len(set(style.GLYPH)) == len(CELL_STATES)
    assert style.GLYPH[states.SUCCEEDED] == "✓" and style.COLOR[states.FAILED] == "red"


def test_the_grid_decodes_every_engine_state_to_the_engines_code():
    grid = GridModel(keys=["u"], phases=[s.value for s in CELL_STATES])
    page = [SimpleNamespace(index=0, phases={s.value: CellRecord(state=s) for s in CELL_STATES})]
    grid.load_page(page)
    assert list(grid.row_states(0)) == [s.code for s in CELL_STATES]
    assert grid.bad_rows == {0}  # failed and blocked cells need attention
