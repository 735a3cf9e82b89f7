#!/usr/bin/env python3
"""Writes every benchmark key once into etcd through its JSON gateway, in txns of up to 128 puts.

usage: etcd_prefill.py URL API KEYS VALUE_SIZE [KEY_PREFIX]
e.g.   etcd_prefill.py http://127.0.0.1:2379 /v3 100000 100
"""
import base64
import http.client
import json
import os
import sys
import time
import urllib.parse

TXN_OPS = 128  # etcd's default --max-txn-ops


def main() -> int:
    if len(sys.argv) not in (5, 6):
        print(__doc__, file=sys.stderr)
        return 2
    url = urllib.parse.urlparse(sys.argv[1])
    api, keys, value_size = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    prefix = sys.argv[5] if len(sys.argv) == 6 else "bench-"
    if url.hostname not in ("127.0.0.1", "localhost", "::1"):
        print("refusing a non-loopback URL", file=sys.stderr)
        return 2
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    value = base64.b64encode(os.urandom(value_size)).decode()
    start = time.monotonic()
    for first in range(0, keys, TXN_OPS):
        ops = [
            {"requestPut": {"key": base64.b64encode(f"{prefix}{k}".encode()).decode(), "value": value}}
            for k in range(first, min(first + TXN_OPS, keys))
        ]
        conn.request("POST", f"{api}/kv/txn", json.dumps({"success": ops}),
                     {"Content-Type": "application/json"})
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            print(f"txn at key {first} failed: {response.status} {body[:200]!r}", file=sys.stderr)
            return 1
    print(f"prefilled {keys} keys of {value_size} bytes in {time.monotonic() - start:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
