#!/usr/bin/env python3
# Loads keys into a running Cairn through POST /kv/_batch, for the bench scripts (anti-entropy.sh,
# elastic.sh): about four times faster than `cairn bench --prefill`.
#
#   bench/load.py URLS KEYS VALUE_SIZE PER_BATCH CONNECTIONS QUERY
#
# puts keys bench-0 .. bench-(KEYS-1) (cairn bench's names) with VALUE_SIZE bytes of text each,
# PER_BATCH puts per POST /kv/_batch, one batch in flight per connection, connections spread over
# the URLS (comma-separated); QUERY ("" or "?w=2") goes on every request. Sends CAIRN_TOKEN as a
# bearer token when set. Prints one line; exits 1 when a key could not be written.
import json, os, random, sys, threading, time, urllib.request
tok = os.environ.get("CAIRN_TOKEN")
urls, n, size, per, conns, query = sys.argv[1].split(","), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
value = "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(size))
# Operations that fail (a timeout, an overloaded node) are sent again in later batches, up to
# LOAD_RETRIES times each; the failures are counted by status.
pending = [(k, 0) for k in range(n)]
pending.reverse()
state = {"failed": {}, "retried": 0, "lost": 0, "error": None}
lock = threading.Lock()
retries = int(os.environ.get("LOAD_RETRIES", "5"))
def worker(i):
    url = urls[i % len(urls)] + "/kv/_batch" + query
    while True:
        with lock:
            if state["error"] or not pending:
                return
            batch = [pending.pop() for _ in range(min(per, len(pending)))]
        ops = [{"op": "put", "key": "bench-%d" % k, "value": value} for k, _ in batch]
        req = urllib.request.Request(url, data=json.dumps({"operations": ops}).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **({"Authorization": "Bearer " + tok} if tok else {})})
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                results = json.load(r)["results"]
        except Exception as e:
            with lock:
                state["error"] = repr(e)
            return
        again = []
        with lock:
            for (k, tries), res in zip(batch, results):
                if res["status"] != 200:
                    why = "%s %s" % (res["status"], res.get("code", ""))
                    state["failed"][why] = state["failed"].get(why, 0) + 1
                    if tries < retries:
                        again.append((k, tries + 1))
                        state["retried"] += 1
                    else:
                        state["lost"] += 1
            pending[0:0] = again
        if again:
            time.sleep(0.2)
t0 = time.monotonic()
threads = [threading.Thread(target=worker, args=(i,)) for i in range(conns)]
for t in threads:
    t.start()
for t in threads:
    t.join()
took = time.monotonic() - t0
print("loaded %d keys of %d B in %.1f s (%.0f keys/s)%s%s%s" % (n - state["lost"], size, took, n / took,
      "; failed operations (sent again up to %d times): %s" % (retries, json.dumps(state["failed"])) if state["failed"] else "",
      "; %d keys NOT written" % state["lost"] if state["lost"] else "",
      "; error: " + state["error"] if state["error"] else ""))
sys.exit(1 if state["lost"] or state["error"] else 0)
