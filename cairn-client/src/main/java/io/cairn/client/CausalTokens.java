package io.cairn.client;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The newest ETag this client saw per (namespace, key), in a bounded LRU, sent as the
 * {@code Cairn-After} causal token on the next unconditional write of that key: the server then
 * stamps the write newer than the version the client saw, so a client's later write never loses
 * to its earlier one whatever nodes each went through (docs/api.md, "Cluster").
 *
 * <p>ETags are opaque, so "newest" is decided by when the operation that saw a tag started: each
 * operation takes a ticket before it is sent, and a tag replaces the remembered one only if its
 * operation started later. A read that was sent before a write but answered after it cannot put
 * the older version back. Thread-safe; every method holds the one lock briefly.
 */
final class CausalTokens {
    /** A remembered tag and the ticket of the operation that saw it. */
    private record Seen(String etag, long ticket) {}

    private record Key(String namespace, String key) {}

    private final int capacity;
    private final AtomicLong tickets = new AtomicLong();
    // Access-ordered: the eldest entry is the least recently used; never more than capacity entries.
    private final LinkedHashMap<Key, Seen> seen;

    CausalTokens(int capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("the causal token cache holds at least 0 keys, got " + capacity);
        }
        this.capacity = capacity;
        this.seen = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Key, Seen> eldest) {
                return size() > CausalTokens.this.capacity;
            }
        };
    }

    /** A ticket for an operation about to be sent: later operations get larger ones. */
    long ticket() {
        return tickets.incrementAndGet();
    }

    /** Remembers {@code etag} for the key, unless a tag seen by a later-started operation is there. */
    void saw(String namespace, String key, String etag, long ticket) {
        if (capacity == 0 || etag == null) {
            return;
        }
        Key k = new Key(namespace, key);
        synchronized (seen) {
            Seen current = seen.get(k);
            if (current == null || current.ticket() <= ticket) {
                seen.put(k, new Seen(etag, ticket));
            }
        }
    }

    /** The tag to send as {@code Cairn-After} for the key, or null. */
    String token(String namespace, String key) {
        Seen s = lookup(namespace, key);
        return s == null ? null : s.etag();
    }

    /** The ticket of the remembered tag for the key, or -1: to pick the newest among several keys. */
    long ticketOf(String namespace, String key) {
        Seen s = lookup(namespace, key);
        return s == null ? -1 : s.ticket();
    }

    private Seen lookup(String namespace, String key) {
        if (capacity == 0) {
            return null;
        }
        synchronized (seen) {
            return seen.get(new Key(namespace, key));
        }
    }

    int size() {
        synchronized (seen) {
            return seen.size();
        }
    }
}
