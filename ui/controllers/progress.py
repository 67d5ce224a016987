"""How fast a boot's progress moves: the rate of the step in progress and the
time it still needs, from the fractions the daemon reports and when they came."""

from __future__ import annotations

import time
from collections.abc import Callable


class StepRate:
    """Time left of the current step (a download, mostly), from its start."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.stage = ""
        self.start = (0.0, 0.0)

    def update(self, stage: str, fraction: float) -> float | None:
        """Seconds the boot still needs at this step's pace; None until it is known."""
        now = self.clock()
        if stage != self.stage:
            self.stage, self.start = stage, (now, fraction)
            return None
        t0, f0 = self.start
        if now - t0 < 0.5 or fraction <= f0 or fraction >= 1.0:
            return None
        return (1.0 - fraction) * (now - t0) / (fraction - f0)


def describe_left(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    return f"{int(seconds // 60)} min {round(seconds % 60):02d} s"
