package io.cairn.cluster;

import io.cairn.clock.HybridClock;
import io.cairn.error.ErrorCode;
import io.cairn.request.IdempotencyTag;
import io.cairn.request.StoredOutcome;
import io.cairn.invariant.Invariant;
import io.cairn.namespace.Namespace;
import io.cairn.request.Quorum;
import io.cairn.record.CorruptRecordException;
import io.cairn.record.Record;
import io.cairn.request.Answer;
import io.cairn.request.Op;
import io.cairn.request.OpResult;
import io.cairn.request.WriteOutcome;
import io.cairn.request.WriteRequest;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A client's write request (a put, a delete or a batch, optionally idempotent) run on a cluster,
 * over the {@link Coordinator}'s single-key reads and writes.
 *
 * <p><b>Operations.</b> Operations on different keys run at once; operations on one key run one
 * after another in request order, so each sees the ones before it. Answers are in request order.
 * Conditional operations (If-Match, If-None-Match) run as a Paxos round on their key
 * ({@link Paxos}): linearizable compare-and-swap, whatever W the request asked for (a round needs
 * a majority of the key's replicas).
 *
 * <p><b>Idempotency.</b> The first outcome of a request is kept as a record of the outcomes
 * namespace, replicated like data, so a retry through any coordinator finds it. Outcomes are
 * written and looked up at a majority of home replicas, whatever W the request asked for: two
 * majorities always overlap, while a lookup sized from the retry's own W (R = N − W + 1) misses an
 * outcome recorded by an attempt that asked for a smaller W — the simulator found exactly that.
 * (1) A coordinator refuses a key it is running now ({@code idempotency_in_flight}). (2) It looks
 * the key up at a majority. A stored outcome is written back at a majority (it may have been found
 * on fewer) and replayed — marked recorded only when the write-back reached a majority — or the
 * request is refused with {@code idempotency_key_reused} when its fingerprint differs. (3) Otherwise it runs the
 * operations at the request's quorums, stores their outcome at a majority with the retention as
 * TTL, and only then answers.
 *
 * <p><b>Failure cases.</b> A lookup that cannot reach its R fails the request before anything is
 * written. When an operation failed ({@code outcome_unknown}, {@code quorum_unavailable}, ...), no
 * outcome is stored: a retry runs the request again, which for these unconditional operations
 * converges on the same values. When the outcome could not be stored by W home replicas, the
 * client still gets the true answer marked unrecorded, the event is counted ({@link #unrecorded()}),
 * and a retry may run the operations again, with the same effect. Two first
 * attempts of one key sent at the same moment to two coordinators can both run; the later outcome
 * wins — per-key serialization across coordinators needs the consensus stage.
 *
 * <p>Single-threaded, driven by its node.
 */
final class ClusterRequests {
    private final Coordinator coordinator;
    private final Paxos paxos;
    private final HybridClock clock;
    // Null when the node keeps no outcomes: idempotent requests are then refused.
    private final Namespace outcomes;
    // Idempotency keys whose request this coordinator is running now.
    private final Set<String> inFlight = new HashSet<>();
    private long replays;
    private long unrecorded;

    ClusterRequests(Coordinator coordinator, Paxos paxos, HybridClock clock, Namespace outcomes) {
        this.coordinator = coordinator;
        this.paxos = paxos;
        this.clock = clock;
        this.outcomes = outcomes;
    }

    long replays() {
        return replays;
    }

    long unrecorded() {
        return unrecorded;
    }

    int inFlight() {
        return inFlight.size();
    }

    void execute(WriteRequest request, Quorum r, Quorum w, Consumer<WriteOutcome> done) {
        WriteOutcome.Failed refused = refusal(request, r, w);
        if (refused != null) {
            done.accept(refused);
            return;
        }
        // The causal token first: every version this request's writes get is then newer than it.
        Answer[] tokenRefusal = new Answer[1];
        if (!coordinator.admits(request.after(), a -> tokenRefusal[0] = a)) {
            OpResult.Failed f = (OpResult.Failed) tokenRefusal[0].result();
            done.accept(new WriteOutcome.Failed(f.code(), f.message(), f.details()));
            return;
        }
        IdempotencyTag tag = request.idempotency();
        if (tag == null) {
            run(request, r, w, answers -> done.accept(new WriteOutcome.Executed(answers, false, false)));
            return;
        }
        if (outcomes == null) {
            done.accept(new WriteOutcome.Failed(ErrorCode.INVALID_IDEMPOTENCY_KEY, "this node keeps no idempotency outcomes"));
            return;
        }
        if (!inFlight.add(tag.key())) {
            done.accept(new WriteOutcome.Failed(ErrorCode.IDEMPOTENCY_IN_FLIGHT, "a request with this idempotency key is still in progress"));
            return;
        }
        Consumer<WriteOutcome> finish = outcome -> {
            Invariant.check(inFlight.remove(tag.key()), "idempotency key %s left the in-flight set early", tag.key());
            done.accept(outcome);
        };
        byte[] key = tag.key().getBytes(StandardCharsets.US_ASCII);
        coordinator.get(outcomes, key, Quorum.MAJORITY, found -> {
            switch (found.result()) {
                case OpResult.Found f -> replay(tag, key, f.record(), finish);
                case OpResult.NotFound nf -> run(request, r, w, answers -> record(tag, key, answers, finish));
                case OpResult.Failed failed -> finish.accept(new WriteOutcome.Failed(failed.code(),
                        "could not look up the idempotency key, so the request was not run: " + failed.message(), failed.details()));
                default -> throw Invariant.violated("a read answered %s", found.result());
            }
        });
    }

    /**
     * Why the request cannot run on this cluster at all, or null. Checked before anything runs, so
     * a refused batch changes nothing.
     */
    private WriteOutcome.Failed refusal(WriteRequest request, Quorum r, Quorum w) {
        int n = coordinator.map().replicationFactor();
        boolean writes = request.idempotency() != null || request.ops().stream().anyMatch(Op::isWrite);
        boolean reads = request.ops().stream().anyMatch(op -> op instanceof Op.Get);
        String badQuorum = writes ? unresolvable("w", w, n) : null;
        if (badQuorum == null && reads) {
            badQuorum = unresolvable("r", r, n);
        }
        if (badQuorum != null) {
            return new WriteOutcome.Failed(ErrorCode.INVALID_QUORUM, badQuorum);
        }
        for (Op op : request.ops()) {
            if (op instanceof Op.Apply) {
                return new WriteOutcome.Failed(ErrorCode.MALFORMED_REQUEST, "a replica write is not a client operation");
            }
        }
        return null;
    }

    private static String unresolvable(String name, Quorum q, int n) {
        if (q == null) {
            return name + " is required";
        }
        try {
            q.resolve(n);
            return null;
        } catch (IllegalArgumentException e) {
            return name + "=" + q + ": " + e.getMessage();
        }
    }

    /**
     * Replays a stored outcome, after writing it back at a majority: the lookup may have found it
     * on fewer (an attempt that could not record it, whose retry found its coordinator's copy), and
     * a replay may only promise that later retries replay too ({@code recorded}) when a majority
     * holds it.
     */
    private void replay(IdempotencyTag tag, byte[] key, Record stored, Consumer<WriteOutcome> finish) {
        StoredOutcome previous;
        try {
            previous = StoredOutcome.decode(key, stored.value());
        } catch (CorruptRecordException e) {
            finish.accept(new WriteOutcome.Failed(ErrorCode.CORRUPT_RECORD, "the stored outcome for this idempotency key is corrupt: " + e.getMessage()));
            return;
        }
        if (!tag.sameRequest(previous.fingerprint())) {
            finish.accept(new WriteOutcome.Failed(ErrorCode.IDEMPOTENCY_KEY_REUSED, "this idempotency key was used for a different request"));
            return;
        }
        replays++;
        coordinator.writeBack(outcomes, key, stored, Quorum.MAJORITY,
                written -> finish.accept(WriteOutcome.Executed.of(previous.results(), true, recordedAtMajority(written))));
    }

    /** Whether an outcome's write reached a majority of home replicas (counting it when not). */
    private boolean recordedAtMajority(Answer written) {
        // Only a majority of home replicas makes the outcome visible to every lookup; one that
        // fallbacks helped store is found once their hints are handed off, not before.
        int majority = Quorum.MAJORITY.resolve(coordinator.map().replicationFactor());
        boolean recorded = written.result() instanceof OpResult.Written && written.acks() - written.fallbackAcks() >= majority;
        if (!recorded) {
            unrecorded++;
        }
        return recorded;
    }

    private void record(IdempotencyTag tag, byte[] key, List<Answer> answers, Consumer<WriteOutcome> finish) {
        // Only definite outcomes are kept. An operation that failed (quorum unavailable, clock
        // unsafe, outcome unknown) either did not run or may have: replaying that failure for the
        // whole retention would make the request impossible to retry once the cluster recovers.
        boolean definite = answers.stream().noneMatch(a -> a.result() instanceof OpResult.Failed);
        if (!definite) {
            finish.accept(new WriteOutcome.Executed(answers, false, false));
            return;
        }
        List<OpResult> results = answers.stream().map(Answer::result).toList();
        long expires = clock.physicalMillis() + tag.retentionMillis();
        byte[] encoded = new StoredOutcome(tag.fingerprint(), expires, results).encode(key);
        coordinator.put(outcomes, key, encoded, null, tag.retentionMillis(), Quorum.MAJORITY,
                stored -> finish.accept(new WriteOutcome.Executed(answers, false, recordedAtMajority(stored))));
    }

    /** Runs the operations: different keys at once, one key's in request order; answers in request order. */
    private void run(WriteRequest request, Quorum r, Quorum w, Consumer<List<Answer>> done) {
        List<Op> ops = request.ops();
        Answer[] answers = new Answer[ops.size()];
        int[] remaining = {ops.size()};
        Map<ByteBuffer, List<Integer>> byKey = new LinkedHashMap<>();
        for (int i = 0; i < ops.size(); i++) {
            byKey.computeIfAbsent(ByteBuffer.wrap(ops.get(i).key()), k -> new ArrayList<>()).add(i);
        }
        for (List<Integer> chain : byKey.values()) {
            runChain(request.namespace(), ops, chain, 0, r, w, (index, answer) -> {
                Invariant.check(answers[index] == null, "operation %d answered twice", index);
                answers[index] = answer;
                if (--remaining[0] == 0) {
                    done.accept(Arrays.asList(answers));
                }
            });
        }
    }

    private interface Answered {
        void accept(int index, Answer answer);
    }

    private void runChain(Namespace ns, List<Op> ops, List<Integer> chain, int position, Quorum r, Quorum w, Answered answered) {
        int index = chain.get(position);
        Consumer<Answer> next = answer -> {
            answered.accept(index, answer);
            if (position + 1 < chain.size()) {
                runChain(ns, ops, chain, position + 1, r, w, answered);
            }
        };
        switch (ops.get(index)) {
            case Op.Put p when !p.condition().isNone() -> paxos.write(ns, p, next);
            case Op.Delete d when !d.condition().isNone() -> paxos.write(ns, d, next);
            case Op.Put p -> coordinator.put(ns, p.key(), p.value(), p.contentType(), p.ttlMillis(), w, next);
            case Op.Delete d -> coordinator.delete(ns, d.key(), w, next);
            case Op.Get g -> coordinator.get(ns, g.key(), r, next);
            case Op.Apply a -> throw Invariant.violated("a replica write in a client request");
        }
    }
}
