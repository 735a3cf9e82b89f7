#!/usr/bin/env python3
"""Per-thread CPU of processes, grouped by thread name (the kernel's 15-character comm, trailing
numbers dropped: "C2 CompilerThre", "cairn-internode", "rocksdb:low").

  threadcpu.py mark FILE PID...        writes each thread's CPU ticks now to FILE
  threadcpu.py report FILE SECONDS PID...
                                       prints, per process, the groups that took at least
                                       0.005 cores since the mark (threads born since count whole)
"""
import json
import os
import re
import sys


def ticks(pid):
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                s = f.read()
        except OSError:
            continue
        name = s[s.index("(") + 1:s.rindex(")")]
        fields = s[s.rindex(")") + 2:].split()
        out[tid] = [name, int(fields[11]) + int(fields[12])]
    return out


def group(name):
    return re.sub(r"[-#_ ]*\d+$", "", name) or name


def main(argv):
    if len(argv) >= 3 and argv[0] == "mark":
        with open(argv[1], "w") as f:
            json.dump({pid: ticks(pid) for pid in argv[2:]}, f)
        return 0
    if len(argv) >= 4 and argv[0] == "report":
        try:
            with open(argv[1]) as f:
                marks = json.load(f)
        except (OSError, ValueError):
            marks = {}
        seconds = float(argv[2])
        hz = os.sysconf("SC_CLK_TCK")
        for pid in argv[3:]:
            before = marks.get(pid, {})
            groups = {}
            for tid, (name, t) in ticks(pid).items():
                prev = before.get(tid)
                groups[group(name)] = groups.get(group(name), 0) + t - (prev[1] if prev and prev[0] == name else 0)
            top = sorted(((v / hz / seconds, g) for g, v in groups.items()), reverse=True)
            print(", ".join(f"{g} {c:.3f}" for c, g in top if c >= 0.005) or "-")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
