package io.cairn.server.http;

import io.cairn.coordinator.ClientResult;
import io.cairn.quorum.Quorum;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** What the HTTP front end needs from the cluster driver; futures may complete on any thread. */
public interface ClusterFront {
    // Each request carries the System.nanoTime() past which it must not start: the core refuses it
    // (overloaded, not executed) rather than run work its client has given up on.

    /** A deadline that never passes: for work that completes an answer already under way. */
    long NO_DEADLINE = Long.MIN_VALUE;

    /** Whether a request with this deadline must no longer start. */
    static boolean expired(long deadlineNanos) {
        return deadlineNanos != NO_DEADLINE && System.nanoTime() - deadlineNanos > 0;
    }

    CompletableFuture<ClientResult> put(byte[] key, byte[] value, String contentType, long ttlMillis, Quorum w, long deadlineNanos);

    CompletableFuture<ClientResult> delete(byte[] key, Quorum w, long deadlineNanos);

    CompletableFuture<ClientResult> get(byte[] key, Quorum r, long deadlineNanos);

    /** Reads an idempotency outcome record (the cluster's idempotency namespace). */
    CompletableFuture<ClientResult> getOutcome(byte[] idempotencyKey, Quorum r, long deadlineNanos);

    /** Stores an idempotency outcome record, expiring after {@code ttlMillis}. */
    CompletableFuture<ClientResult> putOutcome(byte[] idempotencyKey, byte[] outcome, long ttlMillis, Quorum w, long deadlineNanos);

    Quorum defaultReadQuorum();

    Quorum defaultWriteQuorum();

    int replicationFactor();

    /** Members, liveness as this node sees it, hint backlogs, partition map summary. */
    CompletableFuture<Map<String, Object>> clusterView();

    /** A partition's preference list with member details; null when the partition does not exist. */
    CompletableFuture<Map<String, Object>> partitionView(int partition);

    /**
     * Cuts this node's internode traffic with exactly the peers in {@code block} (empty heals
     * every cut; null changes nothing) and answers the peers now cut off. Tests only: refused with
     * {@code route_not_found} unless {@code cluster.faultInjection} is on.
     */
    Map<String, Object> faults(java.util.Set<Integer> block);

    /** A key's partition, preference list and each replica's stored version. */
    CompletableFuture<Map<String, Object>> keyView(byte[] key);
}
