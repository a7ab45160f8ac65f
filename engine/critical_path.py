"""Which ready cell goes first: the one with the most work still behind it.

A unit's makespan is set by its longest chain of activities, not by how many of its
cells are done. A cell's height is the longest path from it to a sink of the phase
DAG, each phase weighted by the activities it waits for one after another
(`PhasePlan.waits` of the confirmed plan; 1 where there is no plan), with the number
of phases on the path as the tie-break. Higher goes first; among equals, the cell on
the longer path through it (the unit's critical chain before a leaf with slack); then
the earlier unit. So work that unblocks other work starts first, and leaf work
(passphrases, LAN ports) fills the budget that is left. Global cells go before
everything: every unit may wait on them.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.cell_plans import CellPlans

GLOBAL_FIRST = -(1 << 62)
"""Priority of global cells: everything of every unit may wait on them."""


class CriticalPath:
    """Heights of every cell of one job, and the priorities derived from them."""

    def __init__(
        self,
        *,
        deps: Sequence[Sequence[int]],
        children: Sequence[Sequence[int]],
        per_unit: Sequence[bool],
        phase_ids: Sequence[str],
        n: int,
        plans: CellPlans,
    ) -> None:
        """`children` of each phase (phases listed in topological order); `n` units."""
        P = len(phase_ids)
        self.n = n
        scale = P + 1  # waits dominate; the phase count only breaks ties

        def weight(row: int | None, p: int) -> int:
            waits = plans.waits(row, phase_ids[p])
            return (1 if waits is None else waits) * scale + 1

        self.unit: list[list[int]] = [[0] * P for _ in range(n)]
        self.global_: list[int] = [0] * P
        for p in reversed(range(P)):
            if per_unit[p]:
                for row in range(n):
                    below = 0
                    for c in children[p]:
                        h = self.unit[row][c] if per_unit[c] else self.global_[c]
                        below = max(below, h)
                    self.unit[row][p] = weight(row, p) + below
            else:
                below = 0
                for c in children[p]:
                    h = max((u[c] for u in self.unit), default=0) if per_unit[c] else 0
                    below = max(below, h if per_unit[c] else self.global_[c])
                self.global_[p] = weight(None, p) + below
        # the longest path through each unit cell: what lies before it plus its height
        before: list[list[int]] = [[0] * P for _ in range(n)]
        self.through: list[list[int]] = [[0] * P for _ in range(n)]
        for p in range(P):
            if not per_unit[p]:
                continue
            for row in range(n):
                ahead = 0
                for d in deps[p]:
                    if per_unit[d]:
                        ahead = max(ahead, before[row][d] + weight(row, d))
                before[row][p] = ahead
                self.through[row][p] = ahead + self.unit[row][p]
        self._span = max((t for u in self.through for t in u), default=0) + 1

    def key(self, row: int, p: int) -> tuple[int, int, int]:
        """Heap key of a ready cell (lower first): global cells, then height, then the
        path through it, then unit."""
        if row >= self.n:
            return (GLOBAL_FIRST, 0, row)
        return (-self.unit[row][p], -self.through[row][p], row)

    def call_priority(self, row: int, p: int) -> int:
        """`engine.limits.CALL_PRIORITY` for the cell's calls: `key` as one int."""
        if row >= self.n:
            return GLOBAL_FIRST
        rank = self.unit[row][p] * self._span + self.through[row][p]
        return -rank * (self.n + 1) + row
