#!/usr/bin/env python3
"""Tables for docs/benchmarks.md from the raw outputs in this folder: ops/s and p99 per pass,
mean, change of the mean vs the baseline, p99 ratio (mean p99 / mean p99 of the baseline)."""
import glob, os, re, statistics, sys
# The results folder: the one given as the first argument, else this script's own.
here = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))

def results(path):
    """[(label, rps, p99, errors, busy)] in file order, from '## <label>' + RESULT lines."""
    out, label, busy = [], None, None
    for line in open(path):
        m = re.match(r'## node cpu: ([0-9.]+) cores', line)
        if m and out: out[-1] = out[-1][:5] + (float(m.group(1)) * 1e6 / out[-1][1],)
        m = re.match(r'## (wrk (put|get)\.lua|wrk 3 up, (PUT W=\d|GET R=\d))', line)
        if m: label = (m.group(2) or m.group(3)).lower().split()[0]
        m = re.search(r'cpu busy over the 2 s before run: (\d+)%', line)
        if m: busy = int(m.group(1))
        if line.startswith('RESULT') and label:
            kv = dict(x.split('=') for x in line.split()[1:])
            err = sum(int(kv[k]) for k in kv if k.startswith('errors_'))
            out.append((label, float(kv['rps']), float(kv['p99_ms']), err, busy, None))
            label = None
    return out

def n(x):
    return f'{x:,.0f}'.replace(',', ' ')

def table(title, modes, files, base):
    print(f'\n### {title}\n')
    print('| mode | op | ops/s per pass (p99 ms) | mean ops/s | change vs off | mean p99 ms | p99 ratio | node CPU µs/request | change vs off of the same pass |')
    print('|---|---|---|---|---|---|---|---|---|')
    data = {}
    for mode in modes:
        for f in sorted(glob.glob(os.path.join(here, files(mode)))):
            for label, rps, p99, err, busy, us in results(f):
                data.setdefault((mode, label), []).append((rps, p99, err, busy, us, re.search(r'-(\d+)(-all-up)?\.txt$', f).group(1)))
    for op in ('put', 'get'):
        b = data.get((base, op), [])
        bm = statistics.mean(r for r, *_ in b) if b else None
        bp = statistics.mean(p for _, p, *_ in b) if b else None
        for mode in modes:
            rows = data.get((mode, op), [])
            if not rows: continue
            m = statistics.mean(r for r, *_ in rows); p = statistics.mean(x for _, x, *_ in rows)
            per = ', '.join(f'{n(r)} ({x:.1f})' + (f' [{e} err]' if e else '') + (f' [busy {s}%]' if s and s > 10 else '') for r, x, e, s, *_ in rows)
            ch = '—' if mode == base else f'{(m / bm - 1) * 100:+.0f} %'
            pr = '—' if mode == base else f'{p / bp:.2f}×'
            us = [u for *_, u, _ in rows if u]
            bp_ = {ps: r for r, *_, ps in b}
            paired = '—' if mode == base else ', '.join(f'{(r / bp_[ps] - 1) * 100:+.0f}' for r, *_, ps in rows if ps in bp_) + ' %'
            print(f'| {mode} | {op.upper()} | {per} | {n(m)} | {ch} | {p:.1f} | {pr} | ' + (f'{statistics.mean(us):.0f}' if us else '—') + f' | {paired} |')

table('one node, plain HTTP', ['off', 'on-admin', 'on-stored'], lambda m: f'single-{m}-[0-9].txt', 'off')
table('one node, security on (HTTPS + stored token) vs off', ['off', 'https-stored'], lambda m: f'single-{m}-[0-9].txt', 'off')
table('three nodes (PUT W=2 / GET R=2, wrk -t3 -c63)', ['auth-off', 'auth-on'], lambda m: f'cairn-*-cluster3-{m}-[0-9]-all-up.txt', 'auth-off')
