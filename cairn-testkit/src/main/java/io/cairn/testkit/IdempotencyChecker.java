package io.cairn.testkit;

import io.cairn.clock.Version;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Checks the idempotency contract of a run's idempotent puts, from what clients saw and what
 * replicas were asked to store.
 *
 * <p>A request is one put with one idempotency key; its retries name the same request, and a
 * "reuse" sends the same key with another request (another value). Every request writes a value
 * no other request writes, so the values replicas were asked to store show which requests ran,
 * even when the client never heard back.
 *
 * <p>Once some attempt of a key was answered with a recorded outcome (at step {@code s}):
 * <ol>
 *   <li>no attempt of that same request invoked after {@code s} runs again: it is replayed or
 *       refused;</li>
 *   <li>no request that was first sent with that key after {@code s} runs: none of its attempts
 *       is answered as written, and replicas are never asked to store its value.</li>
 * </ol>
 * And at any time, a replay returns a version at which replicas were asked to store the
 * request's value: replays never invent results; and a conditional request answered {@code 412}
 * (first attempt, retry or replay) never took effect.
 *
 * And two attempts that overlap in time (twins sent through two coordinators at once) never
 * both run and both record their outcome: the claim on the key goes through Paxos, so one wins.
 *
 * <p>And a request's put runs at most once, whatever its attempts went through (an outcome never
 * learnt, a coordinator that crashed, a claim that lapsed): its value reaches replicas at one
 * version only, since its version is stamped before it runs and kept in the claim, and every
 * attempt that takes the claim over writes that same record (see {@code ClusterRequests}).
 */
final class IdempotencyChecker {
    private final History history;
    // Value → every version at which some replica was asked to store it (idempotent keys only).
    private final Map<String, Set<Version>> applied;
    // Value → every version at which a Paxos proposal of it was sent (conditional requests).
    private final Map<String, Set<Version>> proposed;

    IdempotencyChecker(History history, Map<String, Set<Version>> applied, Map<String, Set<Version>> proposed) {
        this.history = history;
        this.applied = applied;
        this.proposed = proposed;
    }

    List<Violation> check(long endMillis) {
        Map<String, List<Operation>> byKey = new TreeMap<>();
        for (Operation op : history.operations()) {
            if (op.kind == Operation.Kind.IDEMPOTENT_PUT) {
                byKey.computeIfAbsent(op.idempotencyKey, k -> new ArrayList<>()).add(op);
            }
        }
        List<Violation> out = new ArrayList<>();
        for (List<Operation> attempts : byKey.values()) {
            checkReplays(attempts, endMillis, out);
            checkAfterRecorded(attempts, endMillis, out);
            checkConcurrentAttempts(attempts, endMillis, out);
            checkRanOnce(attempts, endMillis, out);
            checkConditionFailures(attempts, endMillis, out);
        }
        return out;
    }

    private void checkRanOnce(List<Operation> attempts, long endMillis, List<Violation> out) {
        Set<String> values = new java.util.TreeSet<>();
        for (Operation op : attempts) {
            values.add(value(op));
        }
        for (String value : values) {
            Set<Version> versions = applied.getOrDefault(value, Set.of());
            if (versions.size() > 1) {
                out.add(new Violation(Violation.Kind.IDEMPOTENCY, endMillis, "the request writing " + value + " (key " + attempts.get(0).idempotencyKey
                        + ") ran more than once: its value reached replicas at " + versions));
            }
        }
    }

    /**
     * A conditional request answered {@code 412} did not take effect, whichever attempt was told
     * so: its value never reaches a replica (before or after). A retry of a conditional write whose
     * first attempt took effect unseen must learn so, not evaluate the condition again.
     */
    private void checkConditionFailures(List<Operation> attempts, long endMillis, List<Violation> out) {
        for (Operation op : attempts) {
            if (op.conditionFailed && applied.containsKey(value(op))) {
                out.add(new Violation(Violation.Kind.IDEMPOTENCY, endMillis, op + " was answered 412, yet its value reached replicas at "
                        + applied.get(value(op))));
            }
        }
    }

    private void checkReplays(List<Operation> attempts, long endMillis, List<Violation> out) {
        for (Operation op : attempts) {
            // A conditional put is chosen by a majority's acceptance; its commits (the stores) may all
            // be lost, and the key's next write, proposed under a lease without a prepare that would
            // have finished it, then writes over it before any replica stored it.
            if (op.outcome == Operation.Outcome.WRITTEN && op.replayed && !applied.getOrDefault(value(op), Set.of()).contains(op.version)
                    && !(op.conditional && proposed.getOrDefault(value(op), Set.of()).contains(op.version))) {
                out.add(new Violation(Violation.Kind.IDEMPOTENCY, endMillis, op
                        + " replayed a version at which no replica was ever asked to store its value " + applied.get(value(op))));
            }
        }
    }

    private void checkAfterRecorded(List<Operation> attempts, long endMillis, List<Violation> out) {
        Operation first = null;
        for (Operation op : attempts) {
            if (op.outcome == Operation.Outcome.WRITTEN && op.recorded && (first == null || op.completedStep < first.completedStep)) {
                first = op;
            }
        }
        if (first == null) {
            return;
        }
        Map<String, Long> firstSent = new TreeMap<>();
        for (Operation op : attempts) {
            firstSent.merge(op.request, op.invokedStep, Math::min);
        }
        for (Operation op : attempts) {
            if (op.invokedStep <= first.completedStep) {
                continue;
            }
            if (op.request.equals(first.request)) {
                if (op.outcome == Operation.Outcome.WRITTEN && !op.replayed) {
                    out.add(new Violation(Violation.Kind.IDEMPOTENCY, endMillis, op + " ran again after " + first + " recorded its outcome"));
                }
                continue;
            }
            if (firstSent.get(op.request) <= first.completedStep) {
                continue; // Raced with the recorded request: either may win.
            }
            if (op.outcome == Operation.Outcome.WRITTEN) {
                out.add(new Violation(Violation.Kind.IDEMPOTENCY, endMillis, op + " reused the key of " + first + " and was answered as written"));
            } else if (applied.containsKey(value(op))) {
                out.add(new Violation(Violation.Kind.IDEMPOTENCY, endMillis, op + " reused the key of " + first
                        + " and its value reached replicas at " + applied.get(value(op))));
            }
        }
    }

    private void checkConcurrentAttempts(List<Operation> attempts, long endMillis, List<Violation> out) {
        for (int i = 0; i < attempts.size(); i++) {
            Operation a = attempts.get(i);
            if (!ranAndRecorded(a)) {
                continue;
            }
            for (int j = i + 1; j < attempts.size(); j++) {
                Operation b = attempts.get(j);
                boolean overlap = a.invokedStep < b.completedStep && b.invokedStep < a.completedStep;
                if (overlap && ranAndRecorded(b)) {
                    out.add(new Violation(Violation.Kind.IDEMPOTENCY, endMillis, a + " and " + b
                            + " ran at the same time through two coordinators and both recorded their outcome"));
                }
            }
        }
    }

    private static boolean ranAndRecorded(Operation op) {
        return op.outcome == Operation.Outcome.WRITTEN && !op.replayed && op.recorded;
    }

    private static String value(Operation op) {
        return new String(op.value, StandardCharsets.UTF_8);
    }
}
