package io.cairn.testkit;

import io.cairn.placement.Quorum;
import io.cairn.record.Record;
import io.cairn.clock.Version;
import java.nio.charset.StandardCharsets;

/**
 * One client request in the history: what was asked, of which coordinator, when it was invoked
 * and completed, and what came back.
 *
 * <p>Times are kept twice: virtual milliseconds for people, and the step index of the event loop
 * for real-time order (two events in the same millisecond are still ordered).
 */
public final class Operation {
    /** {@code IDEMPOTENT_PUT}: a put with an idempotency key, on keys of its own (see {@link IdempotencyChecker}). */
    public enum Kind { PUT, DELETE, GET, IDEMPOTENT_PUT, BATCH }

    public enum Outcome {
        PENDING,
        /** A put acknowledged by W replicas. */
        WRITTEN,
        /** A delete acknowledged by W replicas. */
        DELETED,
        FOUND,
        NOT_FOUND,
        /** Definitely not executed: quorum unavailable, coordinator unreachable, read failed. */
        FAILED,
        /** May or may not have taken effect: outcome_unknown, or the coordinator crashed meanwhile. */
        UNKNOWN
    }

    final long id;
    final int client;
    final Kind kind;
    final String key;
    final byte[] value;
    final Quorum quorum;
    // Invariant: quorumSize == quorum.resolve(N).
    final int quorumSize;
    final int coordinator;
    final long invokedAt;
    final long invokedStep;
    long completedAt = -1;
    long completedStep = -1;
    Outcome outcome = Outcome.PENDING;
    Version version;
    int acks;
    // Invariant: fallbackAcks <= acks, and 0 unless the run uses sloppy quorum.
    int fallbackAcks;
    Record record;
    String error;
    // IDEMPOTENT_PUT only: the idempotency key, which request this is (every retry of a request
    // names the same one), and whether the answer was a replay and its outcome recorded.
    String idempotencyKey;
    String request;
    boolean replayed;
    boolean recorded;
    // IDEMPOTENT_PUT only: the put had a condition (If-Match or If-None-Match), and it was answered
    // 412 (outcome FAILED: the condition did not hold, so the put did not take effect).
    boolean conditional;
    boolean conditionFailed;

    Operation(long id, int client, Kind kind, String key, byte[] value, Quorum quorum, int quorumSize, int coordinator,
              long invokedAt, long invokedStep) {
        this.id = id;
        this.client = client;
        this.kind = kind;
        this.key = key;
        this.value = value;
        this.quorum = quorum;
        this.quorumSize = quorumSize;
        this.coordinator = coordinator;
        this.invokedAt = invokedAt;
        this.invokedStep = invokedStep;
    }

    boolean isWrite() {
        return kind != Kind.GET;
    }

    boolean acknowledged() {
        return outcome == Outcome.WRITTEN || outcome == Outcome.DELETED;
    }

    /**
     * An acknowledged write that W home replicas acknowledged, so a read at R + W > N intersects
     * it. Every acknowledged write is one, unless sloppy quorum let fallbacks make up W. While its
     * partition moved, the write went to the owners and the incoming replicas (more than N acks)
     * and needed W of each set: the count cannot say which set a fallback stood in for, so any
     * fallback acknowledgement then sets no floor. With {@code jointQuorums} (partitions may
     * move) that holds at N acks or fewer too: an owner down behind a fallback, another whose
     * disk refused the write, and the incoming replica's acknowledgement make up the count.
     */
    boolean acknowledgedByHomeQuorum(int replicationFactor, boolean jointQuorums) {
        if (!acknowledged()) {
            return false;
        }
        if (fallbackAcks > 0 && (jointQuorums || acks > replicationFactor)) {
            return false;
        }
        return acks - fallbackAcks >= quorumSize;
    }

    /** A write that may have been stored: acknowledged, unknown, or still pending at the end. */
    boolean mayHaveTakenEffect() {
        return isWrite() && outcome != Outcome.FAILED;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("op#").append(id).append(" c").append(client).append(' ').append(kind)
                .append(' ').append(key);
        if (value != null) {
            b.append('=').append(new String(value, StandardCharsets.UTF_8));
        }
        b.append(' ').append(kind == Kind.GET ? "r=" : "w=").append(quorum).append(" via n").append(coordinator)
                .append(" [").append(invokedAt).append("..").append(completedAt).append("ms] ").append(outcome);
        if (version != null) {
            b.append(' ').append(version);
        }
        if (record != null) {
            b.append(' ').append(record.version()).append(record.tombstone() ? " tombstone" : " " + new String(record.value(), StandardCharsets.UTF_8));
        }
        if (outcome == Outcome.WRITTEN || outcome == Outcome.DELETED) {
            b.append(" acks=").append(acks);
            if (fallbackAcks > 0) {
                b.append(" (").append(fallbackAcks).append(" by fallbacks)");
            }
        }
        if (idempotencyKey != null) {
            b.append(" key=").append(idempotencyKey).append(" request=").append(request);
            if (outcome == Outcome.WRITTEN) {
                b.append(replayed ? " replayed" : " ran").append(recorded ? " recorded" : " unrecorded");
            }
        }
        if (error != null) {
            b.append(" (").append(error).append(')');
        }
        return b.toString();
    }
}
