"""The timing loop the probes share (they run as scripts from the repository
root, so this directory is on sys.path)."""
import time


def per_call(fn, reps):
    """Seconds per call of fn over `reps` back-to-back calls, after one untimed call."""
    fn()
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps
