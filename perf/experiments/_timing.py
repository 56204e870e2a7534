"""The timing loop the experiments share (they run as scripts from the repository
root, so this directory is on sys.path): the measuring core's."""
from gilfree._timing import time_calls


def per_call(fn, reps):
    """Seconds per call of fn over `reps` back-to-back calls, after one untimed call."""
    fn()
    return time_calls(fn, reps) / reps
