package io.cairn.message;

import java.util.EnumMap;
import java.util.Map;

/**
 * One space of request ids per {@link Protocol}: a response is matched within its protocol only.
 * Every space starts at the same seed, chosen above anything an earlier incarnation of the node
 * can have used (see {@code Coordinator.requestIdSeed}), since answers to its requests may still
 * arrive. Single-threaded, like the node that owns it.
 */
public final class RequestIds {
    private final Map<Protocol, Long> next = new EnumMap<>(Protocol.class);

    public RequestIds(long seed) {
        if (seed < 0) {
            throw new IllegalArgumentException("request ids are never negative");
        }
        for (Protocol p : Protocol.values()) {
            next.put(p, seed);
        }
    }

    /** A request id not used before in {@code protocol}'s space by this incarnation. */
    public long next(Protocol protocol) {
        long id = next.get(protocol);
        next.put(protocol, id + 1);
        return id;
    }
}
