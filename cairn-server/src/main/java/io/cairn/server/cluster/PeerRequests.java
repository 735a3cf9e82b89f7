package io.cairn.server.cluster;

import io.cairn.message.Message;
import io.cairn.message.Protocol;
import io.cairn.cluster.Transport;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Locale;

/**
 * Measures each peer's request latency and errors by pairing the requests this node sends with
 * the responses that come back (same request id, same peer). Wraps the transport the core sends
 * through; responses are shown to {@link #onResponse} before the core sees them.
 *
 * <p>Core thread only. Requests never answered are swept after the request timeout and counted
 * as timeouts, so the table stays bounded by the request rate times the timeout.
 */
public final class PeerRequests implements Transport {
    /** Where the figures go; implementations must be thread-safe (they are Micrometer meters). */
    public interface Sink {
        void latency(int peer, String kind, long nanos);

        void error(int peer, String kind, String reason);

        /** The time between two heartbeats from {@code peer}, as this node's core handled them. */
        void heartbeat(int peer, long intervalNanos);
    }

    private record Sent(int peer, String kind, long startNanos) {}

    /** Request ids are unique within a protocol only. */
    private record Key(Protocol protocol, long requestId) {}

    private final Transport inner;
    private final Sink sink;
    private final long timeoutNanos;
    // Invariant: one entry per request sent and neither answered nor swept.
    private final Map<Key, Sent> inFlight = new HashMap<>();

    PeerRequests(Transport inner, Sink sink, long timeoutMillis) {
        this.inner = inner;
        this.sink = sink;
        this.timeoutNanos = timeoutMillis * 1_000_000L;
    }

    @Override
    public void send(int toNode, Message message) {
        switch (message) {
            case Message.WriteRequest w -> inFlight.put(new Key(w.protocol(), w.requestId()), new Sent(toNode, kind(w.protocol()), System.nanoTime()));
            case Message.ReadRequest r -> inFlight.put(new Key(r.protocol(), r.requestId()), new Sent(toNode, kind(r.protocol()), System.nanoTime()));
            case Message.HintedWrite h -> inFlight.put(new Key(Protocol.REPLICATION, h.requestId()), new Sent(toNode, "hinted-write", System.nanoTime()));
            default -> { }
        }
        inner.send(toNode, message);
    }

    /** Called with every message from a peer, before the core handles it. */
    void onResponse(int from, Message message) {
        switch (message) {
            case Message.WriteResponse w -> settle(from, new Key(w.protocol(), w.requestId()), w.error() != null ? "error" : w.stored() ? null : "refused");
            case Message.ReadResponse r -> settle(from, new Key(r.protocol(), r.requestId()), r.error() != null ? "error" : null);
            default -> { }
        }
    }

    /** The {@code kind} label of a protocol's requests. */
    private static String kind(Protocol protocol) {
        return protocol.name().toLowerCase(Locale.ROOT);
    }

    private void settle(int from, Key key, String failure) {
        Sent s = inFlight.get(key);
        if (s == null || s.peer() != from) {
            return;
        }
        inFlight.remove(key);
        sink.latency(from, s.kind(), System.nanoTime() - s.startNanos());
        if (failure != null) {
            sink.error(from, s.kind(), failure);
        }
    }

    /** Drops requests older than the timeout, counting each as a timeout of its peer. */
    void sweep() {
        long now = System.nanoTime();
        for (Iterator<Sent> it = inFlight.values().iterator(); it.hasNext(); ) {
            Sent s = it.next();
            if (now - s.startNanos() > timeoutNanos) {
                it.remove();
                sink.error(s.peer(), s.kind(), "timeout");
            }
        }
    }

    int inFlight() {
        return inFlight.size();
    }
}
