#!/usr/bin/env python3
"""A busy neighbour for bench/elastic.sh's control run (P2_HOG, P2_HOG_WRITE).

Usage: hog.py CORES [--period-ms MS] [--write-mibps R --dir DIR]

CORES cores of busy work: ceil(CORES) processes, each spinning for its share of every period
(default 10 ms) and sleeping the rest, so together they take about CORES cores in bursts of a few
milliseconds, as a JVM's threads do. With --write-mibps, one more process writes R MiB/s to a file
in DIR in 1 MiB blocks, each followed by fsync, as a node storing a stream does on the disk the
others share (the file is truncated every 256 MiB and removed at the end). Runs until killed
(SIGTERM stops every process).
"""
import argparse
import math
import os
import signal
import sys
import time

BLOCK = 1 << 20


def spin(duty, period):
    busy, idle = duty * period, (1 - duty) * period
    while True:
        end = time.perf_counter() + busy
        while time.perf_counter() < end:
            pass
        if idle > 0:
            time.sleep(idle)


def write(mibps, directory):
    path = os.path.join(directory, f"hog-{os.getpid()}.bin")
    block = os.urandom(BLOCK)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)

    def stop(*_):
        os.close(fd)
        os.unlink(path)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    interval = 1.0 / mibps
    due = time.monotonic()
    written = 0
    while True:
        os.write(fd, block)
        os.fsync(fd)
        written += 1
        if written % 256 == 0:
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
        due += interval
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cores", type=float)
    p.add_argument("--period-ms", type=float, default=10.0)
    p.add_argument("--write-mibps", type=float, default=0.0)
    p.add_argument("--dir", default=".")
    a = p.parse_args()
    if not 0 <= a.cores <= os.cpu_count():
        sys.exit(f"hog.py: CORES must be in [0, {os.cpu_count()}], got {a.cores}")
    jobs = []
    n = math.ceil(a.cores)
    for _ in range(n):
        jobs.append(lambda: spin(a.cores / n, a.period_ms / 1000))
    if a.write_mibps > 0:
        jobs.append(lambda: write(a.write_mibps, a.dir))
    children = []
    for job in jobs:
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            job()
            os._exit(0)
        children.append(pid)

    def stop(*_):
        for c in children:
            try:
                os.kill(c, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for c in children:
            try:
                os.waitpid(c, 0)
            except ChildProcessError:
                pass
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for c in children:
        os.waitpid(c, 0)


if __name__ == "__main__":
    main()
