"""The GIL's share of a call, from a sleeper thread's lateness while the
function runs (:func:`gil_heartbeat`); standard library only: under another
Python the probe's script loads this file by path.
"""

from __future__ import annotations

import sys

if __package__:
    from .._timing import _loop
    from .._timing._machine import DelayClock
    from ._target import FunctionFailed, _exc_text, describe_call
else:  # loaded by path by the script _measure.py, after the modules it needs
    import _gilfree_loop as _loop  # type: ignore[import-not-found,no-redef]
    from _gilfree_machine import DelayClock  # type: ignore[import-not-found,no-redef]
    from _gilfree_target import (  # type: ignore[import-not-found,no-redef]
        FunctionFailed, _exc_text, describe_call)

#: A beat later than this fraction of the switch interval found the GIL held:
#: a thread that wants the GIL waits one whole switch interval (5 ms by
#: default) before it asks the holder to drop it, so a held GIL makes a beat
#: at least that late, while a free GIL lets it run at once (0.05-0.1 ms; a
#: busy 2-core VM adds up to 2-3 ms of scheduling delay, still below 4.5 ms).
HELD_FRACTION_OF_INTERVAL = 0.9


class _Stopped(Exception):
    """Raised in a calling thread when the probe stops (Ctrl-C, a failure)."""


def gil_heartbeat(fn, args, duration: float, checker, counts=None,
                  stop=None) -> dict:
    """The fraction of time `fn` holds the GIL, from a sleeper thread's lateness.

    A thread sleeps 1 ms in a loop while `fn` runs on this one.  When it
    wakes it needs the GIL: if the GIL is free it runs at once; if `fn`
    holds it, the sleeper waits a whole switch interval before asking for it
    (or until `fn` releases it).  Each of the sleeper's cycles (its sleep
    plus its lateness) is counted as GIL-held time when the beat was later
    than 0.9 switch intervals: the held fraction is the counted time over
    all the sleeper's time.  Holding periods shorter than the switch interval
    between releases are not seen (the thread speedup catches those).

    On Linux two scheduler run delays (time spent runnable while other
    programs held the CPUs, from ``schedstat``) are taken out, so that a busy
    machine does not distort the figure: the sleeper's own, from each
    lateness (waiting for the GIL is sleeping on a condition variable, not
    being runnable), and the function's thread's, from each cycle's length
    (while that thread waits for a CPU it neither runs nor holds the GIL):
    the fraction is about the time the function was running.  A sample of
    the results goes to `checker` (:class:`gilfree._probe._measure.Checker`).
    """
    period = 1e-3
    late: list = []
    keep: list = []

    counts = [0] if counts is None else counts
    kmax = checker.share(1, 64)  # a sample: the heartbeat makes hundreds of calls
    call = describe_call(fn, args)

    def once():
        if stop is not None and stop.is_set():
            raise _Stopped
        try:
            r = fn(*args)
        except BaseException as exc:
            raise FunctionFailed(f"{call} raised {_exc_text(exc)} (while the heartbeat "
                                 f"ran)") from exc
        counts[0] += 1
        if len(keep) < kmax:
            keep.append(r)

    clock = DelayClock()
    use_clock = clock.works()
    try:
        hb = _loop.heartbeat(once, duration, period=period, samples=late,
                             clock=clock if use_clock else None)
    finally:
        clock.close()
    checker.check([keep], "while the heartbeat ran")
    interval = sys.getswitchinterval()
    threshold = max(HELD_FRACTION_OF_INTERVAL * interval, 0.5e-3)
    # the function's thread's run delay during each beat (0 where unknown)
    marks = clock.marks
    main_delay = [max(0.0, marks[2 * k + 1] - marks[2 * k]) if 2 * k + 1 < len(marks) else 0.0
                  for k in range(len(late))]
    # Each beat's cycle minus the function's thread's run delay booked in it
    # (the scheduler books a delay when the thread gets a CPU, so a stall
    # that spans beats lands in the last one: on a very busy machine some of
    # it stays in the free time and the fraction reads low).
    held = free = 0.0
    for v, dm in zip(late, main_delay):
        cycle = max(0.0, period + v - dm)
        if v >= threshold:
            held += cycle
        else:
            free += cycle
    total = held + free
    hb.update(held_fraction=(held / total) if total > 0 else None,
              threshold_ms=threshold * 1e3, switch_interval_ms=interval * 1e3,
              late_beats=sum(1 for v in late if v >= threshold),
              function_run_delay_s=sum(main_delay))
    return hb
