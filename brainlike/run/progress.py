"""Progress of a sweep: what it tells a person while it runs, and its clock."""

from __future__ import annotations

import sys
import time
from typing import Callable, NamedTuple


class Progress(NamedTuple):
    """Where a sweep stands; passed to a ``progress`` callback after init and after every chunk."""

    group: int  # index of the group of conditions now running (they share one compiled function)
    n_groups: int
    names: tuple[str, ...]  # the conditions of this group
    conditions_done: int  # conditions finished before this group
    n_conditions: int
    logs_done: int  # logged points done in this group (0 right after init)
    n_logs: int
    steps_done: int  # RL environment steps per seed done in this group
    steps_total: int
    elapsed_s: float  # since the sweep started
    eta_s: float | None  # of the whole sweep, compilation of later groups not included
    phase: str = ""  # what runs next: "compiling, then pretraining and fitting the probe", "RL", ...


def progress_bar(stream=None) -> Callable[[Progress], None]:
    """Progress: conditions, steps, elapsed time, ETA and the phase. On a terminal one line redrawn
    in place; elsewhere (a log file, a pipe) a plain line per report, with no carriage returns."""
    stream = stream or sys.stderr
    live = hasattr(stream, "isatty") and stream.isatty()
    width = [0]  # of the last line drawn, so that a shorter one covers it

    def show(p: Progress):
        finished = p.logs_done == p.n_logs
        bar = "#" * int(24 * p.logs_done / p.n_logs)
        label = p.names[0] if len(p.names) == 1 else \
            f"group {p.group + 1}/{p.n_groups}: {len(p.names)} conditions"
        eta = "  eta   --  " if p.eta_s is None else f"  eta {_clock(p.eta_s)}"
        done = p.conditions_done + (len(p.names) if finished else 0)
        line = (f"[{done}/{p.n_conditions} conditions] {label[:40]} [{bar:<24}] "
                f"{p.steps_done}/{p.steps_total} steps  {_clock(p.elapsed_s)}{eta}") + (f"  {p.phase}" if p.phase else "")
        if live:
            stream.write(f"\r{line:<{width[0]}}" + ("\n" if finished else ""))
            width[0] = 0 if finished else len(line)
        else:
            stream.write(line + "\n")
        stream.flush()

    return show


def _clock(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


class Clock:
    """Elapsed time and an ETA from the steady-state rate: each group's first chunk, which
    compiles, and its init are left out of the rate."""

    def __init__(self, total_work: float):
        self.start, self.total, self.done = time.perf_counter(), total_work, 0.0
        self.measured_work, self.measured_s, self.mark, self.warm = 0.0, 0.0, None, False

    def begin_chunks(self):
        self.mark, self.warm = time.perf_counter(), False

    def add(self, work: float):
        now = time.perf_counter()
        self.done += work
        if self.warm:
            self.measured_work += work
            self.measured_s += now - self.mark
        self.mark, self.warm = now, True

    def skip(self, work: float):
        self.done += work

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def eta(self) -> float | None:
        if self.measured_work <= 0:
            return None
        return (self.total - self.done) * self.measured_s / self.measured_work
