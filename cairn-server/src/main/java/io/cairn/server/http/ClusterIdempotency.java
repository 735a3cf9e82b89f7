package io.cairn.server.http;

import io.cairn.coordinator.ClientResult;
import io.cairn.error.ErrorCode;
import io.cairn.idempotency.IdempotencyTag;
import io.cairn.idempotency.StoredOutcome;
import io.cairn.quorum.Quorum;
import io.cairn.record.CorruptRecordException;
import io.cairn.request.OpResult;
import io.cairn.server.metrics.NodeMetrics;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Idempotency keys on a cluster: the first outcome of a request is kept as a record of the
 * cluster's idempotency namespace, replicated like data with the request's own W, so a retry
 * through any coordinator finds it.
 *
 * <p><b>Protocol.</b> (1) The coordinator refuses a key it is already running ({@code 409
 * idempotency_in_flight}). (2) It looks the key up at R = N − W + 1, so the lookup overlaps every
 * set of W replicas that acknowledged an earlier outcome. A stored outcome is replayed, or the
 * request is refused with {@code 422} when its fingerprint differs. (3) Otherwise it runs the
 * operations, then stores their outcome at W with the retention as TTL, and only then answers.
 *
 * <p><b>Failure cases.</b> A lookup that cannot reach its R fails the request before anything is
 * written. When some operation ended {@code outcome_unknown}, no outcome is stored: a retry runs
 * the request again, which for these unconditional operations converges on the same values
 * (conditional writes are refused on replicated namespaces). When the outcome could not be stored
 * at W, the client still gets the true answer, the event is counted
 * ({@code cairn.idempotency.unrecorded}), and a retry may run the operations again, with the same
 * effect. Two first attempts of one key sent at the same moment to two coordinators can both run;
 * the later outcome wins — per-key serialization across coordinators needs the consensus stage.
 */
final class ClusterIdempotency {
    /** What happened to an idempotent request. */
    sealed interface Outcome {
        /** The operations ran now; their results, with replica counts. */
        record Fresh(List<ClientResult> results) implements Outcome {}

        /** An earlier attempt's stored results. */
        record Replayed(List<OpResult> results) implements Outcome {}

        /** Not run: in flight elsewhere on this node, key reused, or the lookup failed. */
        record Refused(ErrorCode code, String message, Map<String, Object> details) implements Outcome {}
    }

    private final ClusterFront cluster;
    private final NodeMetrics metrics;
    // Keys whose request this coordinator is running now.
    private final ConcurrentHashMap<String, Boolean> inFlight = new ConcurrentHashMap<>();

    ClusterIdempotency(ClusterFront cluster, NodeMetrics metrics) {
        this.cluster = cluster;
        this.metrics = metrics;
    }

    /**
     * @param writeReplicas W resolved against N, which sets the lookup's R
     * @param operations    runs the request's operations once
     */
    CompletableFuture<Outcome> run(IdempotencyTag tag, Quorum w, int writeReplicas, long deadlineNanos,
                                   Supplier<CompletableFuture<List<ClientResult>>> operations) {
        if (inFlight.putIfAbsent(tag.key(), Boolean.TRUE) != null) {
            return CompletableFuture.completedFuture(new Outcome.Refused(ErrorCode.IDEMPOTENCY_IN_FLIGHT,
                    "a request with this idempotency key is still in progress", Map.of()));
        }
        byte[] key = tag.key().getBytes(StandardCharsets.US_ASCII);
        Quorum lookup = new Quorum(Quorum.Kind.COUNT, cluster.replicationFactor() - writeReplicas + 1);
        CompletableFuture<Outcome> outcome = cluster.getOutcome(key, lookup, deadlineNanos).thenCompose(found -> switch (found) {
            case ClientResult.Found f -> CompletableFuture.completedFuture(replay(tag, key, f.record().value()));
            case ClientResult.NotFound nf -> operations.get().thenCompose(results -> record(tag, key, w, results));
            case ClientResult.Failed failed -> CompletableFuture.completedFuture(new Outcome.Refused(failed.code(),
                    "could not look up the idempotency key, so the request was not run: " + failed.message(), failed.details()));
            default -> throw new IllegalStateException("unexpected lookup result " + found);
        });
        return outcome.whenComplete((x, e) -> inFlight.remove(tag.key()));
    }

    private Outcome replay(IdempotencyTag tag, byte[] key, byte[] stored) {
        StoredOutcome previous;
        try {
            previous = StoredOutcome.decode(key, stored);
        } catch (CorruptRecordException e) {
            return new Outcome.Refused(ErrorCode.CORRUPT_RECORD, "the stored outcome for this idempotency key is corrupt: " + e.getMessage(), Map.of());
        }
        if (!tag.sameRequest(previous.fingerprint())) {
            return new Outcome.Refused(ErrorCode.IDEMPOTENCY_KEY_REUSED, "this idempotency key was used for a different request", Map.of());
        }
        metrics.idempotencyReplay();
        return new Outcome.Replayed(previous.results());
    }

    private CompletableFuture<Outcome> record(IdempotencyTag tag, byte[] key, Quorum w, List<ClientResult> results) {
        Outcome fresh = new Outcome.Fresh(results);
        boolean unknown = results.stream().anyMatch(r -> r instanceof ClientResult.Failed f && f.code() == ErrorCode.OUTCOME_UNKNOWN);
        if (unknown) {
            return CompletableFuture.completedFuture(fresh);
        }
        List<OpResult> ops = results.stream().map(ClusterRoutes::toOpResult).toList();
        long expires = System.currentTimeMillis() + tag.retentionMillis();
        byte[] encoded = new StoredOutcome(tag.fingerprint(), expires, ops).encode(key);
        // Recording the outcome is part of answering a request that already ran: never refused as late.
        return cluster.putOutcome(key, encoded, tag.retentionMillis(), w, ClusterFront.NO_DEADLINE).thenApply(stored -> {
            if (!(stored instanceof ClientResult.Written)) {
                metrics.idempotencyUnrecorded();
            }
            return fresh;
        });
    }
}
