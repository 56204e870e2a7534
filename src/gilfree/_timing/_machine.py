"""The one reading of the machine every timing tool uses: usable CPUs (by
``gilfree.cpu_count()``'s rule: affinity and cgroup quota), the CPU's model
and cache, the load, who wants a CPU now (for the settle), the hypervisor's
steal, and scheduler run delays (``schedstat``, taken out of the heartbeat).
Linux ``/proc`` where there is one, "unknown" elsewhere.  Standard library
only: the probe loads this file by path under other interpreters (only
:func:`usable_cpus`, which the host calls, imports gilfree).  The
interpreter description is the worker's
(:func:`gilfree._timing._worker.interpreter_info`): Jython 2.7 must give it
too.
"""

from __future__ import annotations

import glob
import os
import platform
import sys
import threading


def usable_cpus() -> int:
    """CPUs this process may use: affinity and cgroup quota (``gilfree.cpu_count()``)."""
    from gilfree._threads import cpu_count  # the library's rule, read when needed

    return cpu_count()


def cpu_model() -> str:
    """The CPU's name (``/proc/cpuinfo``, macOS ``sysctl``, else ``platform``)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    if sys.platform == "darwin":
        import subprocess

        try:
            return subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"],
                                  capture_output=True, text=True, timeout=5).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or platform.machine()


def llc_bytes() -> int | None:
    """Size of the largest CPU cache (Linux sysfs), or None where unknown: the
    bench says "in cache" instead of a fraction of the bandwidth below it."""
    best = None
    for path in glob.glob("/sys/devices/system/cpu/cpu0/cache/index*/size"):
        try:
            with open(path, encoding="ascii") as f:
                text = f.read().strip()
        except OSError:
            continue
        digits = text.rstrip("KMG")
        if digits.isdigit():
            best = max(best or 0, int(digits) * {"K": 2**10, "M": 2**20, "G": 2**30}.get(
                text[-1:], 1))
    return best


def loadavg() -> float | None:
    """The 1-minute load average, or None where the OS has none (Windows)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def os_threads() -> int:
    """Threads of this process, as the OS counts them (Linux), else Python's."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return threading.active_count()


def procs_running() -> int | None:
    """Runnable tasks on the whole machine, this thread included (Linux), or None."""
    try:
        with open("/proc/stat", "rb") as f:
            for line in f:
                if line.startswith(b"procs_running "):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def cpu_ticks() -> tuple[int, int] | None:
    """``(steal, total)`` jiffies over all CPUs since boot (Linux ``/proc/stat``),
    or None: the share of CPU time a hypervisor took from this VM between two
    readings."""
    try:
        with open("/proc/stat") as f:
            v = [int(t) for t in f.readline().split()[1:]]
        return v[7], sum(v[:8])
    except (OSError, ValueError, IndexError):
        return None


def _runnable_in(proc: str) -> tuple[int | None, list]:
    """``(runnable threads, child pids)`` of process `proc` (``"self"`` or a
    pid) from /proc; ``(None, [])`` where that cannot be read (not Linux, or
    the process is gone).  Only ``"self"`` lists its children."""
    base = f"/proc/{proc}/task"
    try:
        tids = os.listdir(base)
    except OSError:
        return None, []
    n = 0
    kids: list = []
    for t in tids:
        d = f"{base}/{t}"
        try:
            with open(f"{d}/stat", "rb") as f:
                stat = f.read()
            j = stat.rindex(b")")  # the command name may hold spaces and parentheses
            if stat[j + 2:j + 3] == b"R":
                n += 1
        except (OSError, ValueError):
            continue  # the thread has just exited
        if proc == "self":
            try:
                with open(f"{d}/children", "rb") as f:
                    kids += f.read().split()
            except OSError:
                pass  # a kernel without CONFIG_PROC_CHILDREN
    return n, kids


def own_runnable() -> int | None:
    """Runnable threads of this process, the caller left out, and of its child
    processes (Linux), or None where /proc cannot tell.

    These are the threads a strategy may leave spinning (BLAS, OpenMP, a
    process pool's children): the load the settle is there to wait out.
    """
    n, kids = _runnable_in("self")
    if n is None:
        return None
    total = n - 1  # the caller, reading this, is running
    for k in kids:
        total += _runnable_in(k.decode("ascii"))[0] or 0
    return max(0, total)


def run_delays() -> dict | None:
    """``{thread id: seconds it waited, runnable, for a CPU}`` for this
    process's threads (Linux: ``/proc/self/task/*/schedstat``), or None."""
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return None
    out = {}
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/schedstat", "rb") as f:
                out[tid] = int(f.read().split()[1]) * 1e-9
        except (OSError, ValueError, IndexError):
            continue  # the thread ended meanwhile
    return out


def own_delay() -> float | None:
    """The calling thread's run delay in seconds (Linux), or None."""
    try:
        with open("/proc/thread-self/schedstat", "rb") as f:
            return int(f.read().split()[1]) * 1e-9
    except (OSError, ValueError, IndexError):
        return None


def delay_between(before: dict | None, after: dict | None) -> float:
    """Run delay of the process's threads between two :func:`run_delays` (0 if unknown).

    Threads that ended in between are left out; threads that started count whole.
    """
    if before is None or after is None:
        return 0.0
    return sum(v - before.get(tid, 0.0) for tid, v in after.items())


class DelayClock:
    """The calling thread's scheduler run delay in seconds (Linux), read with
    ``pread`` on its own ``/proc/thread-self/schedstat`` (about 1.5 us).

    Each reading from another thread than the one that made the clock also
    appends, to ``marks``, the run delay of that creating thread (the
    function's, in the heartbeat) at the same moment.
    """

    def __init__(self) -> None:
        self.fds: dict = {}
        self.marks: list = []
        self.owner = threading.get_ident()
        self._owner_fd: int | None = None
        try:
            self._owner_fd = os.open(f"/proc/self/task/{threading.get_native_id()}/schedstat",
                                     os.O_RDONLY)
        except (OSError, AttributeError):
            pass

    def works(self) -> bool:
        try:
            self()
            return True
        except (OSError, ValueError, IndexError, AttributeError):
            return False

    def __call__(self) -> float:
        tid = threading.get_ident()
        fd = self.fds.get(tid)
        if fd is None:
            fd = self.fds[tid] = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
        mine = int(os.pread(fd, 128, 0).split()[1]) * 1e-9
        if tid != self.owner and self._owner_fd is not None:
            self.marks.append(int(os.pread(self._owner_fd, 128, 0).split()[1]) * 1e-9)
        return mine

    def close(self) -> None:
        fds, self.fds = self.fds, {}
        if self._owner_fd is not None:
            fds["owner"], self._owner_fd = self._owner_fd, None
        for fd in fds.values():
            os.close(fd)
