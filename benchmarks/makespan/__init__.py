"""Makespan benchmark (issue 12): W500 by phasegrid and by the usual designs on the
same R1 client and simulator, against a lower bound from the drawn durations."""
