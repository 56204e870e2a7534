"""Why do Jython threads (not) scale on the range loop?  Run under Jython:

    jython tools/jython_threads_probe.py VARIANT N REPEATS
    e.g.  jython tools/jython_threads_probe.py for 1e7 3
    JAVA_TOOL_OPTIONS="-XX:+UseParallelGC" jython tools/jython_threads_probe.py for 1e7 3

VARIANT: ``for`` (``s += i*i`` over xrange, the seed's loop), ``small``
(``s += i & 63``: small ints only), ``float``.  For 1 and 2 threads (after one
warm-up round) it prints wall time, each worker thread's CPU time and its
blocked/waited counts (JVM thread contention monitoring), the process CPU time
and the garbage collections, from java.lang.management.  See docs/interpreters.md.
"""
from __future__ import print_function, division
import sys, threading
from java.lang import System
from java.lang.management import ManagementFactory
N = int(float(sys.argv[2])); variant = sys.argv[1]; reps = int(sys.argv[3])
tmx = ManagementFactory.getThreadMXBean()
tmx.setThreadContentionMonitoringEnabled(True)
from java.lang import Thread as JThread
osb = ManagementFactory.getOperatingSystemMXBean()
gcs = ManagementFactory.getGarbageCollectorMXBeans()
def k_for(a, b):
    s = 0
    for i in xrange(a, b):
        s += i * i
    return s
def k_small(a, b):
    s = 0
    for i in xrange(a, b):
        s += i & 63
    return s
def k_float(a, b):
    s = 0.0
    for i in xrange(a, b):
        s += 1.5
    return s
fn = {"for": k_for, "small": k_small, "float": k_float}[variant]
blk = []
def gc():
    return sum(g.getCollectionCount() for g in gcs), sum(g.getCollectionTime() for g in gcs)
def run(w):
    step = N // w
    res = [None] * w; cpu = [0] * w; blk[:] = []
    def work(k):
        tid = JThread.currentThread().getId()
        i0 = tmx.getThreadInfo(tid)
        c0 = tmx.getCurrentThreadCpuTime(); w0 = System.nanoTime()
        res[k] = fn(k * step, (k + 1) * step)
        cpu[k] = (tmx.getCurrentThreadCpuTime() - c0) / 1e9
        i1 = tmx.getThreadInfo(tid)
        blk.append("thread%d wall %.2f cpu %.2f blocked %d x %d ms, waited %d x %d ms" % (k, (System.nanoTime() - w0) / 1e9, cpu[k], i1.getBlockedCount() - i0.getBlockedCount(), i1.getBlockedTime() - i0.getBlockedTime(), i1.getWaitedCount() - i0.getWaitedCount(), i1.getWaitedTime() - i0.getWaitedTime()))
    ts = [threading.Thread(target=work, args=(k,)) for k in range(w)]
    g0 = gc(); p0 = osb.getProcessCpuTime(); t0 = System.nanoTime()
    for t in ts: t.start()
    for t in ts: t.join()
    wall = (System.nanoTime() - t0) / 1e9; pc = (osb.getProcessCpuTime() - p0) / 1e9; g1 = gc()
    return wall, sum(cpu), pc, g1[0] - g0[0], g1[1] - g0[1]
run(1); run(2)
for rep in range(reps):
    for w in (1, 2):
        wall, tcpu, pcpu, gn, gms = run(w)
        print("%s w=%d wall %.2f s  worker-thread cpu %.2f s  process cpu %.2f s  GCs %d (%d ms)" % (variant, w, wall, tcpu, pcpu, gn, gms))
        print("   ", "; ".join(blk))
        sys.stdout.flush()
