package io.cairn.message;

import java.util.EnumMap;
import java.util.Map;

/**
 * One space of request ids per {@link Protocol}: a response is matched within its protocol only.
 * Every space starts at the same seed, chosen above anything an earlier incarnation of the node
 * can have used (see {@code Coordinator.requestIdSeed}), since answers to its requests may still
 * arrive. A node of several core shards gives each shard ids of its own residue modulo the shard
 * count ({@code stride}), so a response is routed back to the shard that sent the request.
 * Single-threaded, like the node that owns it.
 */
public final class RequestIds {
    private final Map<Protocol, Long> next = new EnumMap<>(Protocol.class);
    private final int stride;

    public RequestIds(long seed) {
        this(seed, 1);
    }

    /** Ids {@code first}, {@code first + stride}, {@code first + 2 * stride}, ... in every protocol's space. */
    public RequestIds(long first, int stride) {
        if (first < 0) {
            throw new IllegalArgumentException("request ids are never negative");
        }
        if (stride < 1) {
            throw new IllegalArgumentException("a stride of " + stride);
        }
        this.stride = stride;
        for (Protocol p : Protocol.values()) {
            next.put(p, first);
        }
    }

    /** A request id not used before in {@code protocol}'s space by this incarnation. */
    public long next(Protocol protocol) {
        long id = next.get(protocol);
        next.put(protocol, id + stride);
        return id;
    }
}
