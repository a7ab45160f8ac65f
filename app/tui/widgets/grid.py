"""The per-unit grid: units as rows, phases as columns, drawn with the Line
API (a ScrollView whose `render_line` builds one Strip per visible row, cached
until that row changes). A sticky header row names the phases.

Every segment, padding included, carries a real Style layered on the widget's
own `rich_style` (as Textual's Log and DataTable do): Textual's line filters
(NO_COLOR's monochrome) read each segment's style and fail on None."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from app.tui.model import GridModel
from app.tui.style import CURSOR_STYLE, GLYPH, STYLE

HEADER_STYLE = Style(bold=True, underline=True)
NAME_STYLE = Style()
NAME_CURSOR = Style(reverse=True, bold=True)
DIM = Style(color="bright_black")


class UnitGrid(ScrollView, can_focus=True):
    BINDINGS = [
        Binding("up", "move(-1, 0)", "Up", show=False),
        Binding("down", "move(1, 0)", "Down", show=False),
        Binding("left", "move(0, -1)", "Left", show=False),
        Binding("right", "move(0, 1)", "Right", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "Top", show=False),
        Binding("end", "jump(-1)", "Bottom", show=False),
        Binding("enter", "open", "Unit detail", id="grid.open"),
    ]

    DEFAULT_CSS = """
    UnitGrid { height: 1fr; overflow-x: hidden; scrollbar-size-vertical: 1; }
    """

    cursor_row: reactive[int] = reactive(0, always_update=True, repaint=False)
    cursor_col: reactive[int] = reactive(0, repaint=False)

    class Open(Message):
        def __init__(self, unit: str) -> None:
            super().__init__()
            self.unit = unit

    class Moved(Message):
        pass

    def __init__(self, model: GridModel, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model = model
        self.view: list[int] | None = None
        """Rows shown (None: all, in order)."""
        self._pos: dict[int, int] | None = None
        self._cache: dict[int, Strip] = {}
        self._cache_key: tuple[int, int, int, Style | None] = (0, 0, 0, None)
        self._base = Style()
        self.name_w = max([4, *(len(k) for k in model.keys[:2000])]) + 1
        self.name_w = min(self.name_w, 24)
        self.cell_w = 3

    # -- geometry ---------------------------------------------------------------

    @property
    def rows(self) -> int:
        return self.model.n if self.view is None else len(self.view)

    def row_at(self, pos: int) -> int:
        return pos if self.view is None else self.view[pos]

    def pos_of(self, row: int) -> int | None:
        if self.view is None:
            return row
        return (self._pos or {}).get(row)

    def _layout(self) -> None:
        width = self.scrollable_content_region.width or self.size.width or 80
        p = max(1, self.model.p)
        avail = max(0, width - self.name_w - 1)
        self.cell_w = max(3, min(12, avail // p))
        self.virtual_size = Size(self.name_w + 1 + self.cell_w * p, self.rows + 1)

    def on_resize(self) -> None:
        self._layout()
        self._cache.clear()

    def on_mount(self) -> None:
        self._layout()

    def set_view(self, rows: list[int] | None) -> None:
        self.view = rows
        self._pos = None if rows is None else {r: i for i, r in enumerate(rows)}
        self._cache.clear()
        self.cursor_row = min(self.cursor_row, max(0, self.rows - 1))
        self._layout()
        self.refresh()

    def rows_changed(self, rows: set[int]) -> None:
        """Invalidate and repaint just the changed rows that are on screen."""
        if not rows:
            return
        top = int(self.scroll_offset.y)
        bottom = top + self.size.height
        cache = self._cache
        for row in rows:
            pos = self.pos_of(row)
            if pos is None:
                continue
            cache.pop(pos, None)
            if top <= pos < bottom:
                self.refresh_line(pos + 1)

    @property
    def current_unit(self) -> str | None:
        if not self.rows:
            return None
        return self.model.keys[self.row_at(min(self.cursor_row, self.rows - 1))]

    # -- cursor -------------------------------------------------------------------

    def watch_cursor_row(self, old: int, new: int) -> None:
        self._cache.pop(old, None)
        self._cache.pop(new, None)
        self.refresh_line(old + 1)
        self.refresh_line(new + 1)
        self._ensure_visible()
        self.post_message(self.Moved())

    def watch_cursor_col(self, old: int, new: int) -> None:
        self._cache.pop(self.cursor_row, None)
        self.refresh_line(self.cursor_row + 1)
        self.refresh_line(0)

    def _ensure_visible(self) -> None:
        height = max(1, self.size.height - 1)
        y = self.scroll_offset.y
        if self.cursor_row < y:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= y + height:
            self.scroll_to(y=self.cursor_row - height + 1, animate=False, immediate=True)

    def action_move(self, dy: int, dx: int) -> None:
        if dy:
            self.cursor_row = max(0, min(self.rows - 1, self.cursor_row + dy))
        if dx:
            self.cursor_col = max(0, min(self.model.p - 1, self.cursor_col + dx))

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(1, self.size.height - 2), 0)

    def action_jump(self, where: int) -> None:
        self.cursor_row = 0 if where == 0 else max(0, self.rows - 1)

    def action_open(self) -> None:
        unit = self.current_unit
        if unit is not None:
            self.post_message(self.Open(unit))

    # -- rendering ------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self._base = self.rich_style  # follows the theme: part of the cache key
        key = (width, self.cell_w, int(self.scroll_offset.x), base)
        if key != self._cache_key:
            self._cache.clear()
            self._cache_key = key
        if y == 0:
            return self._header(width)
        pos = int(self.scroll_offset.y) + y - 1
        if pos >= self.rows:
            return Strip.blank(width, base)
        strip = self._cache.get(pos)
        if strip is None:
            strip = self._row(pos, width)
            self._cache[pos] = strip
        return strip

    def _phase_part(self, segments: list[Segment], width: int) -> Strip:
        x = int(self.scroll_offset.x)
        strip = Strip(segments)
        if x:
            strip = strip.crop(x, x + width)
        return strip

    def _header(self, width: int) -> Strip:
        cw = self.cell_w
        segs = []
        for j, pid in enumerate(self.model.phases):
            label = pid if cw > 4 else str(j + 1)
            text = label[: cw - 1].center(cw)
            style = HEADER_STYLE + Style(reverse=True) if j == self.cursor_col else HEADER_STYLE
            segs.append(Segment(text, style))
        name = Segment("unit".ljust(self.name_w) + " ", HEADER_STYLE)
        phase = self._phase_part(segs, width - self.name_w - 1)
        return self._finish([name, *phase], width)

    def _row(self, pos: int, width: int) -> Strip:
        model = self.model
        row = self.row_at(pos)
        cursor = pos == self.cursor_row
        states = model.states
        base = row * model.p
        cw = self.cell_w
        left = (cw - 1) // 2
        right = cw - 1 - left
        pad_l, pad_r = " " * left, " " * right
        segs = []
        for j in range(model.p):
            code = states[base + j]
            if cursor and j == self.cursor_col:
                segs.append(Segment(pad_l + GLYPH[code] + pad_r, CURSOR_STYLE[code]))
            else:
                segs.append(Segment(pad_l + GLYPH[code] + pad_r, STYLE[code]))
        key = model.keys[row][: self.name_w].ljust(self.name_w) + " "
        name = Segment(key, NAME_CURSOR if cursor else NAME_STYLE)
        phase = self._phase_part(segs, width - self.name_w - 1)
        return self._finish([name, *phase], width)

    def _finish(self, segments: list[Segment], width: int) -> Strip:
        """The row at full width on the widget's base style: no segment is left unstyled."""
        base = self._base
        return Strip(segments).apply_style(base).adjust_cell_length(width, base)
