package io.cairn.server.internode;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The knobs of the {@link InternodeTransport}: frame and queue bounds, connection timing and
 * the IO thread count.
 *
 * @param maxFrameBytes            largest message payload sent or accepted; a larger incoming
 *                                 frame closes the connection, a larger outgoing message is dropped
 * @param maxQueuedMessagesPerPeer messages waiting for a peer's connection before new ones are dropped
 * @param maxQueuedBytesPerPeer    payload bytes waiting for a peer's connection before new ones are dropped
 * @param maxPendingInboundBytes   payload bytes received but not yet run on the core executor; above
 *                                 it the transport stops reading (TCP pushes back on the senders,
 *                                 whose queues then fill and drop) and resumes below half of it
 * @param connectTimeout           bound on a TCP connect, and on an inbound connection's wait for its handshake
 * @param reconnectBackoffMin      first reconnect delay; doubles per failed attempt
 * @param reconnectBackoffMax      cap on the reconnect delay
 * @param stalledConnectionTimeout with epoll, {@code TCP_USER_TIMEOUT}: a connection whose sent data
 *                                 stays unacknowledged this long is closed and reconnected (a
 *                                 silently dead peer otherwise holds it for the kernel's ~15 minutes)
 * @param ioThreads                Netty event loops shared by the listener and every connection
 * @param jitterSeed               seeds each peer's reconnect jitter (mixed with the peer id), so a
 *                                 test can replay the same delays
 * @param messageBudget            how long a message stays worth delivering (the cluster's request
 *                                 timeout): one that waited longer in the sender's queue is dropped
 *                                 there; otherwise the rest of the budget travels in its frame and
 *                                 the receiver drops it if it is still not run on the core by then
 * @param maxUnauthenticatedInbound accepted connections that have not completed their TLS and wire
 *                                 handshakes yet (each holds TLS buffers until then, for at most
 *                                 {@code connectTimeout}); beyond it a new connection is closed at
 *                                 once and counted, so a flood of idle or slow handshakes cannot
 *                                 exhaust memory; members' established connections do not count
 */
public record InternodeSettings(int maxFrameBytes, int maxQueuedMessagesPerPeer, long maxQueuedBytesPerPeer,
                                long maxPendingInboundBytes, Duration connectTimeout, Duration reconnectBackoffMin,
                                Duration reconnectBackoffMax, Duration stalledConnectionTimeout, int ioThreads, long jitterSeed,
                                Duration messageBudget, int maxUnauthenticatedInbound) {
    public static final int DEFAULT_MAX_FRAME_BYTES = 16 << 20;
    public static final int DEFAULT_MAX_QUEUED_MESSAGES_PER_PEER = 10_000;
    public static final long DEFAULT_MAX_QUEUED_BYTES_PER_PEER = 64L << 20;
    public static final long DEFAULT_MAX_PENDING_INBOUND_BYTES = 64L << 20;
    public static final int DEFAULT_MAX_UNAUTHENTICATED_INBOUND = 256;

    public InternodeSettings {
        // The frame header is 12 bytes and Netty buffers are int-indexed.
        if (maxFrameBytes < 1 || maxFrameBytes > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("maxFrameBytes out of range: " + maxFrameBytes);
        }
        if (maxQueuedMessagesPerPeer < 1) {
            throw new IllegalArgumentException("maxQueuedMessagesPerPeer must be positive: " + maxQueuedMessagesPerPeer);
        }
        if (maxQueuedBytesPerPeer < 1) {
            throw new IllegalArgumentException("maxQueuedBytesPerPeer must be positive: " + maxQueuedBytesPerPeer);
        }
        if (maxPendingInboundBytes < 1) {
            throw new IllegalArgumentException("maxPendingInboundBytes must be positive: " + maxPendingInboundBytes);
        }
        positive("connectTimeout", connectTimeout);
        positive("reconnectBackoffMin", reconnectBackoffMin);
        positive("reconnectBackoffMax", reconnectBackoffMax);
        positive("stalledConnectionTimeout", stalledConnectionTimeout);
        positive("messageBudget", messageBudget);
        if (messageBudget.toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("messageBudget must fit in int milliseconds");
        }
        if (reconnectBackoffMin.compareTo(reconnectBackoffMax) > 0) {
            throw new IllegalArgumentException("reconnectBackoffMin " + reconnectBackoffMin + " exceeds reconnectBackoffMax " + reconnectBackoffMax);
        }
        if (connectTimeout.toMillis() > Integer.MAX_VALUE || stalledConnectionTimeout.toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("timeouts must fit in int milliseconds");
        }
        if (maxUnauthenticatedInbound < 1) {
            throw new IllegalArgumentException("maxUnauthenticatedInbound must be positive: " + maxUnauthenticatedInbound);
        }
        if (ioThreads < 1 || ioThreads > 64) {
            throw new IllegalArgumentException("ioThreads must be between 1 and 64: " + ioThreads);
        }
    }

    /**
     * 16 MiB frames; 10 000 messages / 64 MiB queued per peer; 64 MiB pending inbound; 2 s
     * connect timeout; 50 ms..2 s backoff; 15 s stall timeout; half the cores (1..4) as IO
     * threads; a random jitter seed; a 2 s message budget.
     */
    public static InternodeSettings defaults() {
        int threads = Math.clamp(Runtime.getRuntime().availableProcessors() / 2, 1, 4);
        return new InternodeSettings(DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_QUEUED_MESSAGES_PER_PEER, DEFAULT_MAX_QUEUED_BYTES_PER_PEER,
                DEFAULT_MAX_PENDING_INBOUND_BYTES, Duration.ofSeconds(2), Duration.ofMillis(50), Duration.ofSeconds(2),
                Duration.ofSeconds(15), threads, ThreadLocalRandom.current().nextLong(), Duration.ofSeconds(2),
                DEFAULT_MAX_UNAUTHENTICATED_INBOUND);
    }

    public InternodeSettings withQueueBounds(int maxMessages, long maxBytes) {
        return new InternodeSettings(maxFrameBytes, maxMessages, maxBytes, maxPendingInboundBytes, connectTimeout,
                reconnectBackoffMin, reconnectBackoffMax, stalledConnectionTimeout, ioThreads, jitterSeed, messageBudget, maxUnauthenticatedInbound);
    }

    public InternodeSettings withMaxFrameBytes(int bytes) {
        return new InternodeSettings(bytes, maxQueuedMessagesPerPeer, maxQueuedBytesPerPeer, maxPendingInboundBytes, connectTimeout,
                reconnectBackoffMin, reconnectBackoffMax, stalledConnectionTimeout, ioThreads, jitterSeed, messageBudget, maxUnauthenticatedInbound);
    }

    public InternodeSettings withMaxPendingInboundBytes(long bytes) {
        return new InternodeSettings(maxFrameBytes, maxQueuedMessagesPerPeer, maxQueuedBytesPerPeer, bytes, connectTimeout,
                reconnectBackoffMin, reconnectBackoffMax, stalledConnectionTimeout, ioThreads, jitterSeed, messageBudget, maxUnauthenticatedInbound);
    }

    public InternodeSettings withConnectTimeout(Duration timeout) {
        return new InternodeSettings(maxFrameBytes, maxQueuedMessagesPerPeer, maxQueuedBytesPerPeer, maxPendingInboundBytes, timeout,
                reconnectBackoffMin, reconnectBackoffMax, stalledConnectionTimeout, ioThreads, jitterSeed, messageBudget, maxUnauthenticatedInbound);
    }

    public InternodeSettings withReconnectBackoff(Duration min, Duration max) {
        return new InternodeSettings(maxFrameBytes, maxQueuedMessagesPerPeer, maxQueuedBytesPerPeer, maxPendingInboundBytes, connectTimeout,
                min, max, stalledConnectionTimeout, ioThreads, jitterSeed, messageBudget, maxUnauthenticatedInbound);
    }

    public InternodeSettings withIoThreads(int threads) {
        return new InternodeSettings(maxFrameBytes, maxQueuedMessagesPerPeer, maxQueuedBytesPerPeer, maxPendingInboundBytes, connectTimeout,
                reconnectBackoffMin, reconnectBackoffMax, stalledConnectionTimeout, threads, jitterSeed, messageBudget, maxUnauthenticatedInbound);
    }

    public InternodeSettings withJitterSeed(long seed) {
        return new InternodeSettings(maxFrameBytes, maxQueuedMessagesPerPeer, maxQueuedBytesPerPeer, maxPendingInboundBytes, connectTimeout,
                reconnectBackoffMin, reconnectBackoffMax, stalledConnectionTimeout, ioThreads, seed, messageBudget, maxUnauthenticatedInbound);
    }

    public InternodeSettings withMaxUnauthenticatedInbound(int max) {
        return new InternodeSettings(maxFrameBytes, maxQueuedMessagesPerPeer, maxQueuedBytesPerPeer, maxPendingInboundBytes, connectTimeout,
                reconnectBackoffMin, reconnectBackoffMax, stalledConnectionTimeout, ioThreads, jitterSeed, messageBudget, max);
    }

    public InternodeSettings withMessageBudget(Duration budget) {
        return new InternodeSettings(maxFrameBytes, maxQueuedMessagesPerPeer, maxQueuedBytesPerPeer, maxPendingInboundBytes, connectTimeout,
                reconnectBackoffMin, reconnectBackoffMax, stalledConnectionTimeout, ioThreads, jitterSeed, budget, maxUnauthenticatedInbound);
    }

    private static void positive(String name, Duration d) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive: " + d);
        }
    }
}
