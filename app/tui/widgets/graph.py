"""The phase graph: the workflow's DAG drawn left to right by level, with
box-drawing edges and, per phase, a progress bar and done/running/failed
counts. Global phases are marked ◆ (one cell per job), per-unit phases ≡."""

from __future__ import annotations

from typing import Any

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

U, D, L, R = 1, 2, 4, 8
BOX = {
    L | R: "─",
    L: "─",
    R: "─",
    U | D: "│",
    U: "│",
    D: "│",
    D | R: "┌",
    D | L: "┐",
    U | R: "└",
    U | L: "┘",
    U | D | R: "├",
    U | D | L: "┤",
    L | R | D: "┬",
    L | R | U: "┴",
    U | D | L | R: "┼",
}
EDGE_STYLE = Style(color="bright_black")
GAP = 3
ROWS_PER_LANE = 3


def assign_lanes(nodes: list[Any], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Give every node a lane (row band); long edges keep their source's lane free."""
    level = {n.id: n.level for n in nodes}
    deps: dict[str, list[str]] = {n.id: list(n.depends_on) for n in nodes}
    lane: dict[str, int] = {}
    by_level: dict[int, list[Any]] = {}
    for n in nodes:
        by_level.setdefault(n.level, []).append(n)
    for lv in sorted(by_level):
        used: set[int] = set()
        for src, dst in edges:  # pass-through long edges reserve their lane
            if src in lane and level[src] < lv < level[dst]:
                used.add(lane[src])
        for n in by_level[lv]:
            choice = None
            for d in deps[n.id]:
                if d in lane and lane[d] not in used:
                    choice = lane[d]
                    break
            if choice is None:
                choice = 0
                while choice in used:
                    choice += 1
            lane[n.id] = choice
            used.add(choice)
    return lane


class PhaseGraph(Widget):
    DEFAULT_CSS = """
    PhaseGraph { height: auto; padding: 0 1; }
    """

    def __init__(self, description: Any, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.description = description
        self.nodes = list(description.nodes)
        self.edges = [tuple(e) for e in description.edges]
        self.lanes = assign_lanes(self.nodes, self.edges)
        self.n_levels = 1 + max((n.level for n in self.nodes), default=0)
        self.progress: dict[str, tuple[int, int, int, int, int]] = {}
        """phase -> (done, running, failed, total, blocked)."""

    def set_progress(self, phases: list[Any]) -> None:
        """From a JobView's phases (PhaseProgress: id, counts, total)."""
        new = {}
        for ph in phases:
            c = ph.counts
            done = c.get("succeeded", 0) + c.get("skipped", 0)
            running = c.get("running", 0) + c.get("waiting", 0)
            failed = c.get("failed", 0)
            blocked = c.get("blocked", 0) + c.get("cancelled", 0)
            new[ph.id] = (done, running, failed, ph.total, blocked)
        if new != self.progress:
            self.progress = new
            self.refresh(layout=False)

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        return (1 + max(self.lanes.values(), default=0)) * ROWS_PER_LANE - 1

    def render(self) -> Text:
        width = max(20, self.content_size.width or 80)
        n = self.n_levels
        node_w = max(8, min(28, (width - GAP * (n - 1)) // n))
        lanes = 1 + max(self.lanes.values(), default=0)
        height = lanes * ROWS_PER_LANE - 1
        total_w = n * node_w + (n - 1) * GAP
        chars = [[" "] * total_w for _ in range(height)]
        masks = [[0] * total_w for _ in range(height)]
        styles: list[list[Style | None]] = [[None] * total_w for _ in range(height)]
        level = {nd.id: nd.level for nd in self.nodes}

        def x0(lv: int) -> int:
            return lv * (node_w + GAP)

        def mark(y: int, x: int, m: int) -> None:
            if 0 <= y < height and 0 <= x < total_w:
                masks[y][x] |= m

        for src, dst in self.edges:
            ys, yd = self.lanes[src] * ROWS_PER_LANE, self.lanes[dst] * ROWS_PER_LANE
            xs = x0(level[src]) + node_w
            turn = x0(level[dst]) - 2
            for x in range(xs, turn):
                mark(ys, x, L | R)
            if ys == yd:
                mark(ys, turn, L | R)
            else:
                mark(ys, turn, L | (D if yd > ys else U))
                for y in range(min(ys, yd) + 1, max(ys, yd)):
                    mark(y, turn, U | D)
                mark(yd, turn, R | (U if yd > ys else D))
            mark(yd, turn + 1, L | R)
        for y in range(height):
            for x in range(total_w):
                if masks[y][x]:
                    chars[y][x] = BOX.get(masks[y][x], "┼")
                    styles[y][x] = EDGE_STYLE

        for nd in self.nodes:
            x = x0(nd.level)
            y = self.lanes[nd.id] * ROWS_PER_LANE
            done, running, failed, total, blocked = self.progress.get(nd.id, (0, 0, 0, 0, 0))
            marker = "≡" if nd.per_unit else "◆"
            title = f"{marker} {nd.title}"[:node_w].ljust(node_w)
            if failed:
                tstyle = Style(color="red", bold=True)
            elif total and done + blocked >= total:
                tstyle = Style(color="green", bold=not nd.per_unit, italic=not nd.per_unit)
            else:
                tstyle = Style(bold=True, italic=not nd.per_unit)
            for i, ch in enumerate(title):
                chars[y][x + i] = ch
                styles[y][x + i] = tstyle
            self._bar(chars, styles, y + 1, x, node_w, done, running, failed, total, nd.per_unit)

        text = Text(no_wrap=True, overflow="crop")
        for y in range(height):
            row, st = chars[y], styles[y]
            start = 0
            for x in range(1, total_w + 1):
                if x == total_w or st[x] != st[start]:
                    text.append("".join(row[start:x]), st[start])
                    start = x
            if y < height - 1:
                text.append("\n")
        return text

    @staticmethod
    def _bar(chars, styles, y, x, w, done, running, failed, total, per_unit) -> None:
        if per_unit:
            counts = f"{done}/{total}"
            extra = (f" ▸{running}" if running else "") + (f" ✗{failed}" if failed else "")
            if len(counts) + len(extra) + 4 <= w:
                counts += extra
            elif failed and len(counts) + len(f" ✗{failed}") + 3 <= w:
                counts += f" ✗{failed}"
        else:
            if failed:
                counts = "✗ failed"
            elif done:
                counts = "✓ done"
            else:
                counts = "» running" if running else "· pending"
        bar_w = max(0, w - len(counts) - 1)
        frac = (done / total) if total else 0.0
        fail_w = min(bar_w, round(bar_w * (failed / total))) if total and failed else 0
        full = min(bar_w - fail_w, int(bar_w * frac))
        segs = [("█", "green")] * full + [("▓", "red")] * fail_w
        segs += [("░", "bright_black")] * (bar_w - full - fail_w)
        for i, (ch, color) in enumerate(segs):
            chars[y][x + i] = ch
            styles[y][x + i] = Style(color=color)
        text = (" " if bar_w else "") + counts
        cstyle = Style(color="red") if failed else None
        for i, ch in enumerate(text[: w - bar_w]):
            chars[y][x + bar_w + i] = ch
            styles[y][x + bar_w + i] = cstyle
