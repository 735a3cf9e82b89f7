package io.cairn.auth;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a node last learned from the store about each token id, and for how long it may trust it.
 * This bound is the revocation promise: an entry is used for at most {@code freshMillis} after it
 * was read, so a revoked token stops working on every node within that time plus one store read.
 * Ids the store does not know are remembered for {@code absentMillis} (short), so a stream of
 * made-up tokens costs one store read per id per that time, not one per request.
 *
 * <p>Entries of tokens in use are read again once past half their fresh time
 * ({@link #dueForRefresh}), while still trusted, so a token in steady use never makes requests
 * wait on the store.
 *
 * <p>Bounded: at most {@code maxEntries}; when full, stale entries go first, then arbitrary ones
 * (an evicted entry only costs a store read). Thread-safe; times are passed in.
 */
public final class TokenCache {
    private final int maxEntries;
    private final long freshMillis;
    private final long absentMillis;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();

    // state null: a mark left by invalidate, so that a read which started before it cannot put back what it read.
    private record Entry(TokenState state, long readAtMillis) {}

    private volatile long sweptAtMillis = Long.MIN_VALUE;

    public TokenCache(int maxEntries, long freshMillis, long absentMillis) {
        if (maxEntries < 1 || freshMillis < 0 || absentMillis < 0 || absentMillis > freshMillis) {
            throw new IllegalArgumentException("a token cache needs room for one entry and 0 <= absentMillis <= freshMillis");
        }
        this.maxEntries = maxEntries;
        this.freshMillis = freshMillis;
        this.absentMillis = absentMillis;
    }

    /** The state of {@code id} if it was read recently enough to be trusted at {@code nowMillis}, else null. */
    public TokenState fresh(String id, long nowMillis) {
        Entry e = entries.get(id);
        if (e == null) {
            return null;
        }
        if (!trusted(e, nowMillis)) {
            if (e.state != null) {
                // An invalidation mark stays: it must outlive the reads that started before it.
                entries.remove(id, e);
            }
            return null;
        }
        return e.state;
    }

    private boolean trusted(Entry e, long nowMillis) {
        long age = nowMillis - e.readAtMillis;
        return e.state != null && age >= 0 && age < (e.state.token() == null ? absentMillis : freshMillis);
    }

    /**
     * Whether {@code id}'s entry, still trusted, is past half its fresh time: a read started now
     * replaces it before it runs out, so requests do not all wait on the store when it does.
     * Unknown ids are not refreshed ahead: nobody is using them.
     */
    public boolean dueForRefresh(String id, long nowMillis) {
        Entry e = entries.get(id);
        return e != null && trusted(e, nowMillis) && e.state.token() != null && nowMillis - e.readAtMillis >= freshMillis / 2;
    }

    /** Remembers what a store read that started at {@code readAtMillis} returned. */
    public void put(String id, TokenState state, long readAtMillis) {
        if (!entries.containsKey(id) && entries.size() >= maxEntries) {
            makeRoom(readAtMillis);
        }
        entries.merge(id, new Entry(state, readAtMillis), (old, neu) -> neu.readAtMillis >= old.readAtMillis ? neu : old);
    }

    /**
     * Forgets {@code id} as of {@code nowMillis}: this node just changed it. A read of it that
     * started before then is not remembered when it completes.
     */
    public void invalidate(String id, long nowMillis) {
        entries.put(id, new Entry(null, nowMillis));
    }

    public int size() {
        return entries.size();
    }

    private void makeRoom(long nowMillis) {
        // A full sweep at most once per unknown-entry time: a stream of made-up ids must not cost a scan each.
        if (nowMillis - sweptAtMillis >= Math.max(1, absentMillis)) {
            sweptAtMillis = nowMillis;
            entries.values().removeIf(e -> e.state == null ? nowMillis - e.readAtMillis >= freshMillis : !trusted(e, nowMillis));
        }
        Iterator<String> it = entries.keySet().iterator();
        while (entries.size() >= maxEntries && it.hasNext()) {
            it.next();
            it.remove();
        }
    }
}
