package io.cairn.server.internode;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The live counters of one peer link, read by metrics; every getter is a cheap volatile read.
 *
 * <p>Bytes are message payload bytes (the {@code MessageCodec} form), without the 8-byte frame
 * header or the handshake. "Sent" means handed to the peer's socket: a message written to a
 * connection that then dies is counted as sent and still lost, as best effort allows.
 */
public final class PeerStats {
    private final int peer;
    final AtomicLong messagesSent = new AtomicLong();
    final AtomicLong bytesSent = new AtomicLong();
    final AtomicLong messagesReceived = new AtomicLong();
    final AtomicLong bytesReceived = new AtomicLong();
    final AtomicLong messagesDropped = new AtomicLong();
    final AtomicLong connects = new AtomicLong();
    final AtomicLong connectFailures = new AtomicLong();
    // Invariant: 0 <= queuedMessages <= maxQueuedMessagesPerPeer and 0 <= queuedBytes <=
    // maxQueuedBytesPerPeer, except for the instant a sender's over-bound reservation is rolled back.
    final AtomicInteger queuedMessages = new AtomicInteger();
    final AtomicLong queuedBytes = new AtomicLong();
    volatile boolean connected;
    volatile boolean inboundConnected;
    volatile boolean blocked;

    PeerStats(int peer) {
        this.peer = peer;
    }

    public int peer() {
        return peer;
    }

    public long messagesSent() {
        return messagesSent.get();
    }

    public long bytesSent() {
        return bytesSent.get();
    }

    /** Messages accepted off the wire from this peer (checksum and decoding passed, not blocked). */
    public long messagesReceived() {
        return messagesReceived.get();
    }

    public long bytesReceived() {
        return bytesReceived.get();
    }

    /** Messages dropped because this peer's queue was full (by count or bytes) or a message exceeded the frame bound. */
    public long messagesDropped() {
        return messagesDropped.get();
    }

    /** Outbound connections established (the first one included). */
    public long connects() {
        return connects.get();
    }

    /** Outbound connect attempts that failed (refused, timed out, unresolvable). */
    public long connectFailures() {
        return connectFailures.get();
    }

    /** Whether our outbound connection to this peer is up (always true for this node itself). */
    public boolean connected() {
        return connected;
    }

    /** Whether this peer holds a handshaken connection to us. */
    public boolean inboundConnected() {
        return inboundConnected;
    }

    /** Messages waiting for the outbound connection. */
    public int queueDepth() {
        return queuedMessages.get();
    }

    /** Payload bytes waiting for the outbound connection. */
    public long queuedBytes() {
        return queuedBytes.get();
    }

    /** Whether fault injection currently cuts this peer off. */
    public boolean blocked() {
        return blocked;
    }

    @Override
    public String toString() {
        return "PeerStats[peer=" + peer + ", sent=" + messagesSent() + ", received=" + messagesReceived() + ", dropped="
                + messagesDropped() + ", connected=" + connected + ", queue=" + queueDepth() + ", connectFailures="
                + connectFailures() + ", blocked=" + blocked + "]";
    }
}
