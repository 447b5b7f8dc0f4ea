#!/usr/bin/env python3
"""measure.py RUNS OUT -- CMD [ARGS...]: runs CMD RUNS times under
/usr/bin/time and prints one line

    median_s mean_s min_s max_s user_s sys_s maxrss_kb rc

wall time per run from a monotonic clock around the child (0.01 s
resolution of time's %e is too coarse for a 1 MB file), CPU time and
peak resident memory (%M, the largest over the runs) from /usr/bin/time,
rc the exit status of the last run (verdicts are exit codes for sceau
verify: never a failure here). The last run's stdout and stderr go to
OUT and OUT.err, so that the caller can read the verdict."""
import os
import statistics
import subprocess
import sys
import tempfile
import time

runs, out = int(sys.argv[1]), sys.argv[2]
assert sys.argv[3] == "--"
cmd = sys.argv[4:]
walls, users, syss, rss, rc = [], [], [], [], 0
with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
    for _ in range(runs):
        with open(out, "wb") as o, open(out + ".err", "wb") as e:
            t0 = time.perf_counter()
            p = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", tf.name] + cmd,
                               stdout=o, stderr=e, stdin=subprocess.DEVNULL)
            walls.append(time.perf_counter() - t0)
        rc = p.returncode
        tf.seek(0)
        # time writes "Command exited with non-zero status N" first then
        last = tf.read().strip().splitlines()[-1].split()
        users.append(float(last[0]))
        syss.append(float(last[1]))
        rss.append(int(last[2]))
print("%.6f %.6f %.6f %.6f %.3f %.3f %d %d" % (
    statistics.median(walls), statistics.mean(walls), min(walls), max(walls),
    statistics.mean(users), statistics.mean(syss), max(rss), rc))
