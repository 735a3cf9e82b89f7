package io.cairn.cluster;

import io.cairn.clock.HybridClock;
import io.cairn.clock.Version;
import io.cairn.error.ErrorCode;
import io.cairn.request.IdempotencyTag;
import io.cairn.request.BatchReadBudget;
import io.cairn.request.StoredOutcome;
import io.cairn.invariant.Invariant;
import io.cairn.namespace.Namespace;
import io.cairn.placement.Quorum;
import io.cairn.record.CorruptRecordException;
import io.cairn.record.Record;
import io.cairn.request.Answer;
import io.cairn.request.Condition;
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
 * <p><b>Idempotency: exactly once, through Paxos.</b> An idempotency key is a key of the outcomes
 * namespace, and every step on it is a Paxos round ({@link Paxos}), so coordinators agree on it:
 * <ol>
 *   <li>A coordinator refuses a key it is running now ({@code idempotency_in_flight}).</li>
 *   <li>It <em>claims</em> the key: a create-only write of a claim (the request's fingerprint, no
 *       results) that lapses after a lease ({@link #leaseMillis}). Of two attempts racing through
 *       two coordinators, one claim wins.</li>
 *   <li>Having won, it runs the operations at the request's quorums, then replaces its claim with
 *       the outcome ({@code If-Match} on the claim's version) kept for the retention, and only then
 *       answers (recorded). An attempt that did not win reads the key linearizably: an outcome of
 *       the same request is replayed (recorded), one of another request is refused
 *       ({@code idempotency_key_reused}), and a live claim of the same request is
 *       {@code 409 idempotency_in_flight} (the first attempt is running; retry later).</li>
 * </ol>
 *
 * <p><b>Writes stamped before they run.</b> The coordinator stamps the versions of every write
 * of the request <em>before</em> claiming (above every version a condition of the request names),
 * and the claim keeps them ({@link StoredOutcome#versions}). A plain put or delete of a
 * {@code quorum} namespace then replicates exactly that record; a conditional write, or any write
 * of a {@code serial} namespace, is a Paxos round that proposes exactly that record
 * ({@link Paxos#write(Namespace, Op, Version, boolean, Consumer)}). Such a claim is kept for the
 * retention, not only its lease: when an operation failed (its outcome unknown, say) or the
 * attempt outlived its lease, a retry through any coordinator takes the claim over (a Paxos
 * compare-and-swap) and runs the very same records again. Writing a record twice is writing it
 * once (last-writer-wins keeps one copy of a version), and a Paxos round resumed this way counts
 * the record as its own from the start: it answers success when it finds it current or among a
 * replica's recent commits, proposes it again only when it finds the key older than it (so it was
 * never chosen) and its condition holds, and answers {@code outcome_unknown} when it cannot tell
 * (the key was written since and the record is not among what the replicas remember) rather than
 * evaluate the condition anew. So a write runs at most once whatever happened to the attempt
 * before, and a conditional write that took effect unseen is not answered {@code 412} by its
 * retry. A takeover is refused ({@code outcome_unknown}) once the versions are older than
 * {@code cluster.hintWindow}, the age up to which a late copy of a write may still arrive anyway
 * (the purge grace exceeds it): past that, writing them could bring back a key deleted and purged
 * since.
 *
 * <p><b>A stale stamp.</b> When a Paxos write finds the key written at a version at or above its
 * stamp while its condition holds (a delete through another node, between the claim and the
 * round), its record can no longer be written: it answers {@code 503 contention} (nothing of it was
 * proposed or can be chosen), and the claim left for the retry carries a new version for it.
 *
 * <p><b>Failure cases.</b> A claim that cannot be decided (no majority, contention) fails the
 * request before anything ran. When an operation failed, no outcome is kept: the claim is left,
 * lapsed at once, to the retry (for a request without writes, which has nothing stamped, it is
 * withdrawn and the retry runs the request again). When the outcome could not replace the claim,
 * the client still gets the true answer marked unrecorded, counted ({@link #unrecorded()}); the
 * claim lapses and a later retry takes it over. An attempt slower than its lease (a coordinator
 * stalled far past its timeouts) may see a retry take over the lapsed claim and run the same
 * records too; the slower one then cannot record its outcome and answers unrecorded.
 *
 * <p>Single-threaded, driven by its node.
 */
final class ClusterRequests {
    private final Coordinator coordinator;
    private final Paxos paxos;
    private final long requestTimeoutMillis;
    private final long paxosTimeoutMillis;
    // How old a stamped write may be and still be written again by a retry (cluster.hintWindow).
    private final long restampWindowMillis;
    private final HybridClock clock;
    // Null when the node keeps no outcomes: idempotent requests are then refused.
    private final Namespace outcomes;
    // Idempotency keys whose request this coordinator is running now.
    private final Set<String> inFlight = new HashSet<>();
    private long replays;
    private long unrecorded;
    // Most bytes of values a batch's reads return (BatchReadBudget).
    private final long maxBatchReadBytes;

    ClusterRequests(Coordinator coordinator, Paxos paxos, HybridClock clock, Namespace outcomes, long requestTimeoutMillis, long paxosTimeoutMillis,
                    long restampWindowMillis, long maxBatchReadBytes) {
        this.maxBatchReadBytes = maxBatchReadBytes;
        this.coordinator = coordinator;
        this.paxos = paxos;
        this.requestTimeoutMillis = requestTimeoutMillis;
        this.paxosTimeoutMillis = paxosTimeoutMillis;
        this.restampWindowMillis = restampWindowMillis;
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
        WriteOutcome.Failed byPolicy = policyRefusal(request, r, w);
        if (byPolicy != null) {
            if (request.idempotency() == null || outcomes == null) {
                done.accept(byPolicy);
            } else {
                replayOr(request, byPolicy, done);
            }
            return;
        }
        // The causal token first: every version this request's writes get is then newer than it.
        Answer[] tokenRefusal = new Answer[1];
        if (!coordinator.admits(request.after(), a -> tokenRefusal[0] = a)) {
            done.accept(failed(tokenRefusal[0]));
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
        String scoped = scopedKey(request.namespace(), tag);
        if (!inFlight.add(scoped)) {
            done.accept(new WriteOutcome.Failed(ErrorCode.IDEMPOTENCY_IN_FLIGHT, "a request with this idempotency key is still in progress"));
            return;
        }
        Consumer<WriteOutcome> finish = outcome -> {
            Invariant.check(inFlight.remove(scoped), "idempotency key %s left the in-flight set early", scoped);
            done.accept(outcome);
        };
        byte[] key = scoped.getBytes(StandardCharsets.US_ASCII);
        int writes = writes(request);
        if (writes == 0) {
            claim(request, r, w, tag, key, List.of(), CLAIM_ATTEMPTS, finish);
            return;
        }
        // Above every version a condition names (within the clock bound), so that a condition that
        // holds leaves the stamp usable: the key's record is then older than it.
        for (Op op : request.ops()) {
            Condition condition = op instanceof Op.Put p ? p.condition() : op instanceof Op.Delete d ? d.condition() : Condition.NONE;
            for (Version named : condition.ifMatch()) {
                clock.observePeer(named.timestamp());
            }
        }
        coordinator.stamp(writes, versions -> claim(request, r, w, tag, key, versions, CLAIM_ATTEMPTS, finish), unstamped -> finish.accept(failed(unstamped)));
    }

    /** The request's outcome when a step before any operation (the causal token, stamping) failed with {@code answer}. */
    private static WriteOutcome.Failed failed(Answer answer) {
        OpResult.Failed f = (OpResult.Failed) answer.result();
        return new WriteOutcome.Failed(f.code(), f.message(), f.details());
    }

    /** How many writes (puts and deletes, each stamped before the request runs) the request has. */
    static int writes(WriteRequest request) {
        return (int) request.ops().stream().filter(Op::isWrite).count();
    }

    /**
     * The outcomes-namespace key of an idempotency key: idempotency keys are per namespace, as on a
     * single node, so the same key used in two namespaces names two requests (the default
     * namespace's keys are stored as they are, as before namespaces existed).
     */
    static String scopedKey(Namespace ns, IdempotencyTag tag) {
        return ns.id() == Namespace.DEFAULT_ID ? tag.key() : ns.id() + ":" + tag.key();
    }

    /** How many times an attempt tries to claim a key that it found neither claimed nor decided (a claim lapsed meanwhile). */
    private static final int CLAIM_ATTEMPTS = 3;

    /**
     * How long a claim holds its key: long enough for the operations to run (each key's chain of
     * operations at up to a request timeout per operation) and the outcome to be recorded.
     */
    long leaseMillis(WriteRequest request) {
        return requestTimeoutMillis * (request.ops().size() + 2L) + 2L * paxosTimeoutMillis;
    }

    /**
     * Claims the key for this attempt ({@code condition}: absent, or the version of an unfinished
     * claim being taken over) and runs the request under it, its writes stamped {@code versions}
     * (empty: stamped as they run).
     */
    private void claim(WriteRequest request, Quorum r, Quorum w, IdempotencyTag tag, byte[] key, List<Version> versions, Condition condition,
                       boolean takeover, int attempts, Consumer<WriteOutcome> finish) {
        long lease = leaseMillis(request);
        byte[] claimed = StoredOutcome.claim(tag.fingerprint(), clock.physicalMillis() + lease, versions).encode(key);
        // A claim with stamped versions outlives its lease: whoever retries takes it over.
        long ttl = versions.isEmpty() ? lease : Math.max(lease, tag.retentionMillis());
        paxos.write(outcomes, new Op.Put(key, claimed, null, ttl, condition), answer -> {
            switch (answer.result()) {
                case OpResult.Written won -> run(request, r, w, versions, takeover, answers -> record(request, tag, key, won.version(), versions, answers, finish));
                // Taken by another attempt; or unknown whether this claim or a rival one was chosen:
                // either way the key now says who has it.
                case OpResult.PreconditionFailed taken -> lookUp(request, r, w, tag, key, versions, attempts, finish);
                case OpResult.Failed failed when failed.code() == ErrorCode.OUTCOME_UNKNOWN -> lookUp(request, r, w, tag, key, versions, attempts, finish);
                case OpResult.Failed failed -> finish.accept(new WriteOutcome.Failed(failed.code(),
                        "could not claim the idempotency key, so the request was not run: " + failed.message(), failed.details()));
                default -> throw Invariant.violated("a claim answered %s", answer.result());
            }
        });
    }

    private void claim(WriteRequest request, Quorum r, Quorum w, IdempotencyTag tag, byte[] key, List<Version> versions, int attempts,
                       Consumer<WriteOutcome> finish) {
        claim(request, r, w, tag, key, versions, Condition.ifAbsent(), false, attempts, finish);
    }

    /**
     * Reads the key linearizably: replay its outcome, refuse, take over an unfinished attempt, or
     * (it lapsed meanwhile) claim it again with this attempt's {@code versions}.
     */
    private void lookUp(WriteRequest request, Quorum r, Quorum w, IdempotencyTag tag, byte[] key, List<Version> versions, int attempts,
                        Consumer<WriteOutcome> finish) {
        paxos.read(outcomes, key, found -> {
            switch (found.result()) {
                case OpResult.Found f -> existing(request, r, w, tag, f.record(), key, attempts, finish);
                case OpResult.NotFound nf when attempts > 1 -> claim(request, r, w, tag, key, versions, attempts - 1, finish);
                case OpResult.NotFound nf -> finish.accept(new WriteOutcome.Failed(ErrorCode.IDEMPOTENCY_IN_FLIGHT,
                        "the idempotency key kept changing hands; the request was not run, retry later"));
                case OpResult.Failed failed -> finish.accept(new WriteOutcome.Failed(failed.code() == ErrorCode.OUTCOME_UNKNOWN
                        ? ErrorCode.CONTENTION : failed.code(),
                        "could not read the idempotency key, so the request was not run: " + failed.message(), failed.details()));
                default -> throw Invariant.violated("a serial read answered %s", found.result());
            }
        });
    }

    /**
     * Why the request cannot run on this cluster at all, or null. Checked before anything runs, so
     * a refused batch changes nothing.
     */
    private WriteOutcome.Failed refusal(WriteRequest request, Quorum r, Quorum w) {
        int n = coordinator.map().replicationFactor();
        String badQuorum = takesW(request) ? unresolvable("w", w, n) : null;
        if (badQuorum == null && takesR(request)) {
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

    /**
     * Why the request's namespace, as its policy stands now, does not take it (a value over its
     * limit, a weak quorum in a serial namespace), or null. Policies change: a retry of an
     * idempotent request that ran under the old one replays its outcome instead ({@link #replayOr}).
     */
    private WriteOutcome.Failed policyRefusal(WriteRequest request, Quorum r, Quorum w) {
        Namespace ns = request.namespace();
        WriteOutcome.Failed tooLarge = request.valueRefusal();
        if (tooLarge != null) {
            return tooLarge;
        }
        if (ns.serial()) {
            // Every operation is a Paxos round on a majority; a weaker quorum is a promise the namespace does not make.
            int n = coordinator.map().replicationFactor();
            String weak = takesW(request) && w.resolve(n) < n / 2 + 1 ? "w=" + w : takesR(request) && r.resolve(n) < n / 2 + 1 ? "r=" + r : null;
            if (weak != null) {
                return new WriteOutcome.Failed(ErrorCode.INVALID_QUORUM, serialRefusal(ns, weak));
            }
        }
        return null;
    }

    /**
     * An idempotent request the namespace's policy refuses now: the outcome its key recorded for
     * this same request (read linearizably) when there is one, else {@code refused}; while the
     * first attempt still runs, {@code idempotency_in_flight}; when it did not finish, whether it
     * took effect is unknown, and this retry cannot finish it under the policy of now.
     */
    private void replayOr(WriteRequest request, WriteOutcome.Failed refused, Consumer<WriteOutcome> done) {
        IdempotencyTag tag = request.idempotency();
        byte[] key = scopedKey(request.namespace(), tag).getBytes(StandardCharsets.US_ASCII);
        paxos.read(outcomes, key, found -> {
            if (!(found.result() instanceof OpResult.Found f)) {
                done.accept(refused);
                return;
            }
            StoredOutcome previous;
            try {
                previous = StoredOutcome.decode(key, f.record().value());
            } catch (CorruptRecordException e) {
                done.accept(refused);
                return;
            }
            if (!tag.sameRequest(previous.fingerprint())) {
                done.accept(refused);
            } else if (previous.isClaim() && previous.expiresAtMillis() > clock.physicalMillis()) {
                done.accept(stillRunning(previous));
            } else if (previous.isClaim()) {
                done.accept(new WriteOutcome.Failed(ErrorCode.OUTCOME_UNKNOWN, "an earlier attempt of this request did not finish, and "
                        + "this retry cannot finish it: " + refused.message() + "; whether it took effect is unknown, read the keys to find out",
                        refused.details()));
            } else {
                replays++;
                done.accept(WriteOutcome.Executed.of(previous.results(), true, true));
            }
        });
    }

    /** Whether the request writes (an idempotent one records its outcome, so it writes either way): its W applies. */
    private static boolean takesW(WriteRequest request) {
        return request.idempotency() != null || request.ops().stream().anyMatch(Op::isWrite);
    }

    /** Whether the request reads a key: its R applies. */
    private static boolean takesR(WriteRequest request) {
        return request.ops().stream().anyMatch(op -> op instanceof Op.Get);
    }

    static String serialRefusal(Namespace ns, String weak) {
        return "namespace " + ns.name() + " is serial: every read and write goes through a majority of the key's replicas; " + weak
                + " cannot be asked (leave it out, or ask for quorum or all)";
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

    /** The answer to a retry that found {@code claim}, its first attempt's, not lapsed yet. */
    private static WriteOutcome.Failed stillRunning(StoredOutcome claim) {
        return new WriteOutcome.Failed(ErrorCode.IDEMPOTENCY_IN_FLIGHT, "the first attempt of this request is still running "
                + "(its claim on the key lapses at " + java.time.Instant.ofEpochMilli(claim.expiresAtMillis()) + "); retry later");
    }

    /** The key is claimed or decided by another attempt: replay its outcome, take an unfinished attempt over, or refuse. */

    private void existing(WriteRequest request, Quorum r, Quorum w, IdempotencyTag tag, Record stored, byte[] key, int attempts,
                          Consumer<WriteOutcome> finish) {
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
        if (previous.isClaim()) {
            long now = clock.physicalMillis();
            if (previous.versions().isEmpty() || previous.expiresAtMillis() > now || attempts <= 1) {
                finish.accept(stillRunning(previous));
                return;
            }
            // An attempt that did not finish, or did not learn its outcome: its writes were stamped
            // ahead, so this attempt writes the same records again and learns it.
            int writes = writes(request);
            if (previous.versions().size() != writes) {
                finish.accept(new WriteOutcome.Failed(ErrorCode.CORRUPT_RECORD, "the claim on this idempotency key holds "
                        + previous.versions().size() + " versions for a request of " + writes + " writes"));
                return;
            }
            Version oldest = previous.versions().stream().min(Version::compareTo).orElseThrow();
            if (now - oldest.physicalMillis() > restampWindowMillis) {
                finish.accept(new WriteOutcome.Failed(ErrorCode.OUTCOME_UNKNOWN, "an earlier attempt of this request did not finish, and its "
                        + "writes are too old to be written again safely (older than cluster.hintWindow): whether they took effect is unknown; "
                        + "read the keys to find out"));
                return;
            }
            if (request.after() != null && !oldest.isNewerThan(request.after())) {
                finish.accept(new WriteOutcome.Failed(ErrorCode.OUTCOME_UNKNOWN, "an earlier attempt of this request did not finish; its writes "
                        + "were stamped before this attempt's causal token " + request.after().token() + ", so they are not written again"));
                return;
            }
            claim(request, r, w, tag, key, previous.versions(), Condition.ifMatch(stored.version()), true, attempts - 1, finish);
            return;
        }
        // Read through Paxos, so decided at a majority: a later lookup finds it too.
        replays++;
        finish.accept(WriteOutcome.Executed.of(previous.results(), true, true));
    }

    /**
     * The operations ran under this attempt's claim (version {@code claim}): replace the claim with
     * their outcome; when an operation failed, leave the claim to a retry, lapsed at once (the
     * retry writes the same records again), or, for a request without writes, withdraw it (the
     * retry runs it again).
     */
    private void record(WriteRequest request, IdempotencyTag tag, byte[] key, Version claim, List<Version> versions, List<Answer> answers, Consumer<WriteOutcome> finish) {
        // Only definite outcomes are kept. An operation that failed (quorum unavailable, clock
        // unsafe, outcome unknown) either did not run or may have: replaying that failure for the
        // whole retention would make the request impossible to retry once the cluster recovers.
        boolean definite = answers.stream().noneMatch(a -> a.result() instanceof OpResult.Failed);
        if (!definite && !versions.isEmpty()) {
            leaveUnfinished(request.ops(), tag, key, claim, versions, answers, finish);
            return;
        }
        if (!definite) {
            paxos.write(outcomes, new Op.Delete(key, Condition.ifMatch(claim)), withdrawn -> finish.accept(new WriteOutcome.Executed(answers, false, false)));
            return;
        }
        List<OpResult> results = answers.stream().map(Answer::result).toList();
        long expires = clock.physicalMillis() + tag.retentionMillis();
        byte[] encoded = new StoredOutcome(tag.fingerprint(), expires, results).encode(key);
        paxos.write(outcomes, new Op.Put(key, encoded, null, tag.retentionMillis(), Condition.ifMatch(claim)), stored -> {
            boolean recorded = stored.result() instanceof OpResult.Written;
            if (!recorded) {
                unrecorded++;
            }
            finish.accept(new WriteOutcome.Executed(answers, false, recorded));
        });
    }

    /**
     * Leaves the claim to a retry, lapsed at once, with the versions its writes must be written
     * with: the same, except that a write refused for a stale stamp (the key was written at a newer
     * version; nothing of it was proposed, nor can be chosen) gets a new one, so that the retry can
     * succeed. When new versions cannot be issued, the claim keeps the old ones (the retry is
     * refused the same way, and leaves the claim again).
     */
    private void leaveUnfinished(List<Op> ops, IdempotencyTag tag, byte[] key, Version claim, List<Version> versions, List<Answer> answers,
                                 Consumer<WriteOutcome> finish) {
        // Indexes into versions (one per write, in request order) of the writes refused for a stale stamp.
        List<Integer> stale = new ArrayList<>();
        int write = 0;
        for (int i = 0; i < ops.size(); i++) {
            if (!ops.get(i).isWrite()) {
                continue;
            }
            if (answers.get(i).result() instanceof OpResult.Failed f && Paxos.STALE_STAMP.equals(f.details().get("cause"))) {
                stale.add(write);
            }
            write++;
        }
        Consumer<List<Version>> leave = left -> {
            byte[] unfinished = StoredOutcome.claim(tag.fingerprint(), clock.physicalMillis(), left).encode(key);
            paxos.write(outcomes, new Op.Put(key, unfinished, null, tag.retentionMillis(), Condition.ifMatch(claim)),
                    written -> finish.accept(new WriteOutcome.Executed(answers, false, false)));
        };
        if (stale.isEmpty()) {
            leave.accept(versions);
            return;
        }
        coordinator.stamp(stale.size(), fresh -> {
            List<Version> restamped = new ArrayList<>(versions);
            for (int i = 0; i < stale.size(); i++) {
                restamped.set(stale.get(i), fresh.get(i));
            }
            leave.accept(restamped);
        }, refused -> leave.accept(versions));
    }

    private void run(WriteRequest request, Quorum r, Quorum w, Consumer<List<Answer>> done) {
        run(request, r, w, List.of(), false, done);
    }

    /**
     * Runs the operations: different keys at once, one key's in request order; answers in request
     * order. The writes replicate records stamped {@code versions} in request order (empty: they
     * are stamped as they run); {@code takeover}: an earlier attempt may have run them.
     */
    private void run(WriteRequest request, Quorum r, Quorum w, List<Version> versions, boolean takeover, Consumer<List<Answer>> done) {
        List<Op> ops = request.ops();
        Version[] stamped = new Version[ops.size()];
        if (!versions.isEmpty()) {
            int next = 0;
            for (int i = 0; i < ops.size(); i++) {
                if (ops.get(i).isWrite()) {
                    stamped[i] = versions.get(next++);
                }
            }
            Invariant.check(next == versions.size(), "%d versions for %d writes", versions.size(), next);
        }
        Answer[] answers = new Answer[ops.size()];
        int[] remaining = {ops.size()};
        BatchReadBudget reads = new BatchReadBudget(maxBatchReadBytes);
        Map<ByteBuffer, List<Integer>> byKey = new LinkedHashMap<>();
        for (int i = 0; i < ops.size(); i++) {
            byKey.computeIfAbsent(ByteBuffer.wrap(ops.get(i).key()), k -> new ArrayList<>()).add(i);
        }
        for (List<Integer> chain : byKey.values()) {
            runChain(request.namespace(), ops, stamped, takeover, request.after(), chain, 0, r, w, (index, answer) -> {
                Invariant.check(answers[index] == null, "operation %d answered twice", index);
                if (ops.get(index) instanceof Op.Get) {
                    // Bounded by bytes, in the order the reads answer: a value past the budget is
                    // dropped as it arrives, not kept until the batch is done.
                    OpResult kept = reads.admit(answer.result());
                    answer = kept == answer.result() ? answer : new Answer(kept, answer.acks(), answer.fallbackAcks(), answer.replies());
                }
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

    private void runChain(Namespace ns, List<Op> ops, Version[] stamped, boolean takeover, Version after, List<Integer> chain, int position,
                          Quorum r, Quorum w, Answered answered) {
        int index = chain.get(position);
        Consumer<Answer> next = answer -> {
            answered.accept(index, answer);
            if (position + 1 < chain.size()) {
                runChain(ns, ops, stamped, takeover, after, chain, position + 1, r, w, answered);
            }
        };
        Version version = stamped[index];
        switch (ops.get(index)) {
            // A serial namespace runs every operation as a Paxos round; a quorum namespace its
            // conditional ones. Stamped, the round proposes the record the claim stamped.
            case Op.Put p when version != null && (ns.serial() || !p.condition().isNone()) -> paxos.write(ns, p, version, takeover, next);
            case Op.Delete d when version != null && (ns.serial() || !d.condition().isNone()) -> paxos.write(ns, d, version, takeover, next);
            case Op.Put p when version != null -> coordinator.writeBack(ns, p.key(),
                    Coordinator.valueRecord(ns, version, p.value(), p.contentType(), p.ttlMillis()), w, next);
            case Op.Delete d when version != null -> coordinator.writeBack(ns, d.key(), Record.tombstone(version), w, next);
            case Op.Put p when ns.serial() || !p.condition().isNone() -> paxos.write(ns, p, after, next);
            case Op.Delete d when ns.serial() || !d.condition().isNone() -> paxos.write(ns, d, after, next);
            case Op.Get g when ns.serial() -> paxos.read(ns, g.key(), next);
            case Op.Put p -> coordinator.put(ns, p.key(), p.value(), p.contentType(), p.ttlMillis(), w, next);
            case Op.Delete d -> coordinator.delete(ns, d.key(), w, next);
            case Op.Get g -> coordinator.get(ns, g.key(), r, next);
            case Op.Apply a -> throw Invariant.violated("a replica write in a client request");
        }
    }
}
