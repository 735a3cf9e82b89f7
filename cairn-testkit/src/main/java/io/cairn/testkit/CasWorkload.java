package io.cairn.testkit;

import io.cairn.clock.Version;
import io.cairn.error.ErrorCode;
import io.cairn.namespace.Consistency;
import io.cairn.namespace.Namespace;
import io.cairn.request.Answer;
import io.cairn.request.Condition;
import io.cairn.request.Op;
import io.cairn.request.OpResult;
import io.cairn.placement.Quorum;
import io.cairn.request.WriteOutcome;
import io.cairn.request.WriteRequest;
import io.cairn.testkit.linearizability.Budget;
import io.cairn.testkit.linearizability.CheckResult;
import io.cairn.testkit.linearizability.History;
import io.cairn.testkit.linearizability.LinearizabilityChecker;
import io.cairn.testkit.linearizability.RegisterModel;
import io.cairn.testkit.linearizability.Verdict;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Compare-and-swap clients under the simulator's faults: a few clients run conditional writes
 * ({@code If-Match} on the version they last saw, {@code If-None-Match: *} when they saw nothing),
 * unconditional serial writes and deletes, and serial reads, all through per-key Paxos, on a few
 * hot keys, through random coordinators. Every operation is recorded with the event-loop steps at
 * which it was invoked and answered; at the end each key's history is checked linearizable as a
 * register ({@link LinearizabilityChecker}).
 *
 * <p>Outcomes: a write answered written or deleted is {@code ok}; a condition that failed is a
 * failed cas; a read returns the value; {@code outcome_unknown}, and an operation whose coordinator
 * never answered (it crashed), may have taken effect at any later time (indeterminate); any other
 * failure ({@code contention}, {@code quorum_unavailable}, {@code clock_unsafe}) promises nothing
 * was changed, so the operation is left out — and if it did change something, the check finds a
 * value nobody wrote. Values are unique per operation, so a version a client saw stands for the
 * value it saw. Draws come from a random stream of their own.
 *
 * <p>A third namespace, {@code flip}, is quorum until the
 * simulation changes it to serial ({@link #onFlipped}); from then on the clients use its keys too,
 * both as plain requests and through the serial calls, half of them through the one node that has
 * not applied the change yet (the laggard), and the keys' histories are held to linearizability
 * from the change on: a coordinator running the namespace's old class must not be able to break it.
 */
final class CasWorkload {
    static final int KEYS = 3;
    static final String KEY_PREFIX = "cas";
    static final String SERIAL_PREFIX = "serial";
    static final String FLIP_PREFIX = "flip";
    private static final String TYPE = "text/plain";
    /** How long a client waits for an answer before it gives the operation up as indeterminate and goes on. */
    private static final long CLIENT_TIMEOUT_MILLIS = 15_000;

    /**
     * Runs {@code request} on a live coordinator's core, or returns false when the chosen node is
     * down; {@code atLaggard}: often through the node that has not applied the flip, while there is one.
     */
    interface Coordinators {
        boolean on(SplittableRandom random, boolean atLaggard, Consumer<SimNode> request);

        /** Whether a node has not applied the flip yet. */
        boolean lagging();
    }

    private record Seen(String value, Version version) {}

    private static final class Client {
        final int id;
        int sequence;
        // Key → what this client last learned the key held; absent: it does not know.
        final Map<String, Seen> seen = new HashMap<>();
        final Map<String, Boolean> sawNothing = new HashMap<>();
        // A key whose write answered outcome_unknown: the client's next operation reads it, as a client learns what happened.
        String recheck;

        Client(int id) {
            this.id = id;
        }
    }

    private static final class Recorded {
        final int client;
        final String key;
        final RegisterModel.Op<String> input;
        final long invokedAt;
        long returnedAt = -1;
        RegisterModel.Result<String> output;
        boolean answered;
        // Answered outcome_unknown: may take effect at any later time.
        boolean indeterminate;
        // Answered with a failure that promises nothing changed: left out of the history.
        boolean excluded;
        // The client stopped waiting for an answer and went on.
        boolean gaveUp;

        Recorded(int client, String key, RegisterModel.Op<String> input, long invokedAt) {
            this.client = client;
            this.key = key;
            this.input = input;
            this.invokedAt = invokedAt;
        }
    }

    private final SplittableRandom random;
    private final EventLoop loop;
    private final Namespace namespace;
    // A serial namespace: its operations are sent as plain requests (no condition, no serial flag);
    // the namespace's class makes them Paxos rounds, and the checker holds them to linearizability.
    private final Namespace serial;
    // The serial namespace as a node that has not applied its change from quorum sees it.
    private final Namespace staleView;
    // Its keys are used once it is serial.
    private final Namespace flip;
    // The flip namespace's keys: all in one partition, so that the laggard is a replica of each.
    private final List<String> flipKeys;
    private boolean flipped;
    private final Coordinators coordinators;
    private final Counters counters;
    private final Trace trace;
    private final List<Client> clients = new ArrayList<>();
    private final List<Recorded> recorded = new ArrayList<>();
    private boolean running = true;

    CasWorkload(long seed, EventLoop loop, Namespace namespace, Namespace serial, Namespace flip, int clientCount, Coordinators coordinators,
                Counters counters, Trace trace) {
        if (!serial.serial()) {
            throw new IllegalArgumentException("namespace " + serial.name() + " is not serial");
        }
        this.trace = trace;
        this.random = new SplittableRandom(seed ^ 0xCA5CA5L);
        this.loop = loop;
        this.namespace = namespace;
        this.serial = serial;
        this.flip = flip;
        this.flipKeys = flipKeys(flip);
        this.staleView = new Namespace(serial.id(), serial.name(), serial.partitioner(), serial.defaultTtlMillis(), false, Consistency.QUORUM,
                null, null, serial.maxValueBytes());
        this.coordinators = coordinators;
        this.counters = counters;
        for (int c = 0; c < clientCount; c++) {
            clients.add(new Client(c));
        }
    }

    /** Starts every client's turns. */
    void start() {
        for (Client c : clients) {
            loop.schedule(random.nextLong(50), -1, 0, () -> turn(c));
        }
    }

    /** The partition of the flip namespace that holds all its keys (the laggard must be one of its replicas). */
    int flipPartition() {
        return flip.partitionOf(flipKeys.get(0).getBytes(StandardCharsets.UTF_8));
    }

    /** {@value #KEYS} keys of {@code flip} in one partition (the first key's), the same in every run. */
    private static List<String> flipKeys(Namespace flip) {
        List<String> keys = new ArrayList<>();
        int partition = flip.partitionOf((FLIP_PREFIX + 0).getBytes(StandardCharsets.UTF_8));
        for (int i = 0; keys.size() < KEYS; i++) {
            if (flip.partitionOf((FLIP_PREFIX + i).getBytes(StandardCharsets.UTF_8)) == partition) {
                keys.add(FLIP_PREFIX + i);
            }
        }
        return keys;
    }

    /** The flip namespace is serial from now on (on every node but the laggard): clients start on its keys. */
    void onFlipped() {
        flipped = true;
    }

    /** Clients issue nothing more; operations in flight may still be answered. */
    void stop() {
        running = false;
    }

    private void turn(Client c) {
        if (!running) {
            return;
        }
        // Once the flip namespace is serial, a third of the operations go to its keys; two thirds while a node lags.
        int space = random.nextInt(!flipped ? 4 : coordinators.lagging() ? 12 : 6);
        boolean flipKey = space >= 4;
        boolean plain = space == 0 || flipKey && random.nextBoolean();
        int which = random.nextInt(KEYS);
        // Half of the flip namespace's operations on its first key, and a quarter of them unconditional writes
        // (a plain one through the laggard may leave a record on its replica alone).
        if (flipKey && random.nextBoolean()) {
            which = 0;
        }
        String key = flipKey ? flipKeys.get(which) : (plain ? SERIAL_PREFIX : KEY_PREFIX) + which;
        int roll = flipKey && random.nextInt(4) == 0 ? 85 + random.nextInt(15) : random.nextInt(100);
        if (c.recheck != null) {
            key = c.recheck;
            c.recheck = null;
            flipKey = flipKeys.contains(key);
            plain = key.startsWith(SERIAL_PREFIX) || flipKey && random.nextBoolean();
            roll = 0;
            counters.add("cas.rechecks");
        }
        // The serial calls on the default namespace's keys, or on the flip namespace's.
        Namespace target = flipKey ? flip : namespace;
        Seen seen = c.seen.get(key);
        boolean knows = seen != null || c.sawNothing.getOrDefault(key, false);
        String value = "cas/c" + c.id + "/" + c.sequence++;
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        Recorded r;
        Consumer<SimNode> request;
        if (roll < 30 || (!knows && roll < 60)) {
            r = new Recorded(c.id, key, new RegisterModel.Read<>(), loop.steps());
            request = n -> n.cluster.serialGet(target, k, answer -> answered(c, r, answer));
        } else if (roll < 85 && knows) {
            Condition condition = seen == null ? Condition.ifAbsent() : Condition.ifMatch(seen.version());
            r = new Recorded(c.id, key, new RegisterModel.Cas<>(seen == null ? null : seen.value(), value), loop.steps());
            byte[] v = value.getBytes(StandardCharsets.UTF_8);
            request = n -> n.cluster.serialWrite(target, new Op.Put(k, v, TYPE, Op.NO_TTL, condition), answer -> answered(c, r, answer));
        } else if (roll < 93) {
            r = new Recorded(c.id, key, new RegisterModel.Write<>(value), loop.steps());
            byte[] v = value.getBytes(StandardCharsets.UTF_8);
            request = n -> n.cluster.serialWrite(target, new Op.Put(k, v, TYPE, Op.NO_TTL, Condition.NONE), answer -> answered(c, r, answer));
        } else {
            r = new Recorded(c.id, key, new RegisterModel.Write<>(null), loop.steps());
            request = n -> n.cluster.serialWrite(target, new Op.Delete(k, Condition.NONE), answer -> answered(c, r, answer));
        }
        if (plain) {
            request = plainRequest(r, k, c, flipKey ? flip : serial);
        }
        if (flipKey) {
            counters.add("cas.flipOps");
        }
        if (!coordinators.on(random, flipKey, request)) {
            // Connection refused: nothing was sent.
            loop.schedule(10 + random.nextLong(50), -1, 0, () -> turn(c));
            return;
        }
        recorded.add(r);
        counters.add("cas.issued");
        int index = recorded.size() - 1;
        trace.line(loop.now(), () -> "cas #" + index + " client " + c.id + " " + r.key + " " + r.input + " invoked at step " + r.invokedAt);
        // The client goes on after the answer or, if none comes (the coordinator crashed), after its timeout.
        loop.schedule(CLIENT_TIMEOUT_MILLIS, -1, 0, () -> {
            if (!r.answered) {
                counters.add("cas.unanswered");
                r.gaveUp = true;
                turn(c);
            }
        });
    }

    /**
     * The same operation as a client of a serial namespace sends it: a plain get at R=quorum, or a
     * put or delete request (conditional when the operation is a compare-and-set) at W=quorum. In
     * the serial namespace, a third of the unconditional writes go through a coordinator that
     * still sees the namespace as a quorum one: replicas must refuse them, and the record one may
     * have left on the coordinator's own replica must be finished or lost by the next Paxos round,
     * never appear between rounds. (In the flip namespace the laggard is such a coordinator.)
     */
    private Consumer<SimNode> plainRequest(Recorded r, byte[] k, Client c, Namespace ns) {
        Quorum q = Quorum.MAJORITY;
        return switch (r.input) {
            case RegisterModel.Read<String> read -> n -> n.cluster.get(ns, k, q, answer -> answered(c, r, answer));
            case RegisterModel.Cas<String> cas -> {
                Seen seen = c.seen.get(r.key);
                Condition condition = seen == null ? Condition.ifAbsent() : Condition.ifMatch(seen.version());
                Op op = new Op.Put(k, cas.update().getBytes(StandardCharsets.UTF_8), TYPE, Op.NO_TTL, condition);
                yield n -> n.cluster.execute(new WriteRequest(ns, List.of(op), null), q, q, outcome -> answered(c, r, single(outcome)));
            }
            case RegisterModel.Write<String> write when ns == serial && random.nextInt(3) == 0 -> {
                // Through a coordinator that has not applied the change that made the namespace
                // serial (restarted, cut off from the metadata log, a heartbeat behind): it writes
                // last-writer-wins at W, to its own replica and to the others.
                counters.add("cas.staleCoordinator");
                yield write.value() == null ? n -> n.cluster.delete(staleView, k, q, answer -> answered(c, r, answer))
                        : n -> n.cluster.put(staleView, k, write.value().getBytes(StandardCharsets.UTF_8), TYPE, Op.NO_TTL, q,
                                answer -> answered(c, r, answer));
            }
            case RegisterModel.Write<String> write -> {
                Op op = write.value() == null ? new Op.Delete(k, Condition.NONE)
                        : new Op.Put(k, write.value().getBytes(StandardCharsets.UTF_8), TYPE, Op.NO_TTL, Condition.NONE);
                yield n -> n.cluster.execute(new WriteRequest(ns, List.of(op), null), q, q, outcome -> answered(c, r, single(outcome)));
            }
        };
    }

    private static Answer single(WriteOutcome outcome) {
        return switch (outcome) {
            case WriteOutcome.Executed e -> e.answers().get(0);
            case WriteOutcome.Failed f -> Answer.failed(f.code(), f.message(), f.details());
        };
    }

    private void answered(Client c, Recorded r, Answer answer) {
        if (r.answered) {
            throw new SimulationFailure(new Violation(Violation.Kind.INVARIANT, loop.now(), "cas operation answered twice: " + answer));
        }
        r.answered = true;
        switch (answer.result()) {
            case OpResult.Written w -> {
                r.output = RegisterModel.Result.ok();
                String value = switch (r.input) {
                    case RegisterModel.Cas<String> cas -> cas.update();
                    case RegisterModel.Write<String> write -> write.value();
                    default -> throw new SimulationFailure(new Violation(Violation.Kind.INVARIANT, loop.now(), "a read answered " + answer));
                };
                c.seen.put(r.key, new Seen(value, w.version()));
                c.sawNothing.remove(r.key);
                counters.add("cas.written");
            }
            case OpResult.Deleted d -> {
                r.output = RegisterModel.Result.ok();
                c.seen.remove(r.key);
                c.sawNothing.put(r.key, true);
                counters.add("cas.deleted");
            }
            case OpResult.PreconditionFailed f -> {
                r.output = RegisterModel.Result.failed();
                c.seen.remove(r.key);
                c.sawNothing.remove(r.key);
                counters.add("cas.conditionFailed");
            }
            case OpResult.Found f -> {
                String value = new String(f.record().value(), StandardCharsets.UTF_8);
                r.output = RegisterModel.Result.returned(value);
                c.seen.put(r.key, new Seen(value, f.record().version()));
                c.sawNothing.remove(r.key);
                counters.add("cas.read");
            }
            case OpResult.NotFound nf -> {
                r.output = RegisterModel.Result.returned(null);
                c.seen.remove(r.key);
                c.sawNothing.put(r.key, true);
                counters.add("cas.read");
            }
            case OpResult.Failed f -> {
                c.seen.remove(r.key);
                c.sawNothing.remove(r.key);
                if (f.code() == ErrorCode.OUTCOME_UNKNOWN) {
                    counters.add("cas.unknown");
                    r.indeterminate = true;
                    c.recheck = r.key;
                } else {
                    counters.add("cas.failed." + f.code().code());
                    r.excluded = true;
                }
            }
            default -> throw new SimulationFailure(new Violation(Violation.Kind.INVARIANT, loop.now(), "cas operation answered " + answer));
        }
        r.returnedAt = loop.steps();
        trace.line(loop.now(), () -> "cas client " + c.id + " " + r.key + " " + r.input + " answered " + answer + " at step " + r.returnedAt);
        if (running && !r.gaveUp) {
            loop.schedule(1 + random.nextLong(20), -1, 0, () -> turn(c));
        }
    }

    /**
     * The history as it stood just before the {@code count}-th invocation: the first {@code count}
     * operations (in invocation order), those answered later with their outcome unknown.
     */
    private static CheckResult<RegisterModel.Op<String>, RegisterModel.Result<String>> check(List<Recorded> ops, int count) {
        History.Builder<RegisterModel.Op<String>, RegisterModel.Result<String>> builder = History.builder();
        long cut = count < ops.size() ? ops.get(count).invokedAt : Long.MAX_VALUE;
        for (Recorded r : ops.subList(0, count)) {
            if (!r.answered || r.indeterminate || r.returnedAt >= cut) {
                builder.addIndeterminate(r.client, r.input, r.invokedAt);
            } else {
                builder.add(r.client, r.input, r.output, r.invokedAt, r.returnedAt);
            }
        }
        return LinearizabilityChecker.check(new RegisterModel<>(), builder.build(), Budget.DEFAULT.withMaxSteps(20_000_000L));
    }

    /**
     * The operations around the point where the history stops being linearizable: the shortest
     * prefix (in invocation order) that is not, its last operations listed. What a person reads
     * first when a seed fails.
     */
    private static String shortestFailingPrefix(List<Recorded> ops) {
        int lo = 1;
        int hi = ops.size();
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (check(ops, mid).verdict() == Verdict.NOT_LINEARIZABLE) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        StringBuilder out = new StringBuilder("\nThe history is already not linearizable just before the invocation of operation " + hi
                + " (by invocation; operations answered later count as unknown); the operations before it:");
        for (Recorded r : ops.subList(Math.max(0, hi - 15), hi)) {
            out.append("\n  client ").append(r.client).append(' ').append(r.input).append(" -> ")
                    .append(!r.answered ? "no answer" : r.indeterminate ? "unknown" : r.output).append(" [").append(r.invokedAt).append(", ")
                    .append(r.answered && !r.indeterminate ? String.valueOf(r.returnedAt) : "?").append(']');
        }
        return out.toString();
    }

    /** Checks every key's history; returns the violations (and counts what the checker did). */
    List<Violation> check(long now) {
        List<Violation> violations = new ArrayList<>();
        long steps = 0;
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < KEYS; i++) {
            keys.add(KEY_PREFIX + i);
            keys.add(SERIAL_PREFIX + i);
        }
        keys.addAll(flipKeys);
        for (String key : keys) {
            List<Recorded> ops = new ArrayList<>();
            for (Recorded r : recorded) {
                if (r.key.equals(key) && !r.excluded) {
                    ops.add(r);
                }
            }
            if (ops.isEmpty()) {
                continue;
            }
            CheckResult<RegisterModel.Op<String>, RegisterModel.Result<String>> result = check(ops, ops.size());
            steps += result.steps();
            if (result.verdict() == Verdict.NOT_LINEARIZABLE) {
                violations.add(new Violation(Violation.Kind.LINEARIZABILITY, now, "key " + key + ": " + result.explanation()
                        + shortestFailingPrefix(ops)));
            } else if (result.verdict() == Verdict.UNKNOWN) {
                counters.add("cas.checkUnknown");
            } else {
                counters.add("cas.keysLinearizable");
            }
        }
        counters.put("cas.checkSteps", steps);
        return violations;
    }
}
