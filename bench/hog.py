#!/usr/bin/env python3
"""A CPU hog for bench/elastic.sh's control run (P2_HOG): CORES cores of busy work, in bursts.

Usage: hog.py CORES [PERIOD_MS]. Starts ceil(CORES) processes; each spins for its share of every
PERIOD_MS (default 10 ms) and sleeps the rest, so together they take about CORES cores, in bursts
of a few milliseconds as a JVM's threads do. Runs until killed (SIGTERM stops every process).
"""
import math
import os
import signal
import sys
import time


def spin(duty, period):
    busy, idle = duty * period, (1 - duty) * period
    while True:
        end = time.perf_counter() + busy
        while time.perf_counter() < end:
            pass
        if idle > 0:
            time.sleep(idle)


def main():
    cores = float(sys.argv[1])
    period = (float(sys.argv[2]) if len(sys.argv) > 2 else 10.0) / 1000
    if not 0 < cores <= os.cpu_count():
        sys.exit(f"hog.py: CORES must be in (0, {os.cpu_count()}], got {cores}")
    n = math.ceil(cores)
    children = []
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            spin(cores / n, period)
        children.append(pid)

    def stop(*_):
        for c in children:
            try:
                os.kill(c, signal.SIGTERM)
            except ProcessLookupError:
                pass
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for c in children:
        os.waitpid(c, 0)


if __name__ == "__main__":
    main()
