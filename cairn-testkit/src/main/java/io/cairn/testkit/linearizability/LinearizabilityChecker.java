package io.cairn.testkit.linearizability;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Decides whether a {@link History} is linearizable with respect to a sequential {@link Model}:
 * whether each operation can be given one point between its invocation and its return at which
 * it took effect, such that applying the operations one at a time in the order of those points
 * gives every answer that was observed. An indeterminate operation's point may be anywhere after
 * its invocation, or nowhere (it never took effect).
 *
 * <h2>The search</h2>
 *
 * The Wing–Gong algorithm with Lowe's memoization, arranged as in Porcupine. The history becomes
 * one list of call and return events, ordered by time (a call before a return at equal times).
 * Walking the list from the front, the search may apply any call it meets (an operation all of
 * whose real-time predecessors are applied, since their returns come earlier) if the model
 * allows it; it then removes that call and its return from the list and starts again from the
 * front. Meeting a return means its operation should have been applied by now: the search undoes
 * its most recent choice and tries the next call after it. When only the returns of
 * indeterminate operations are left, every completed operation has been placed and the history
 * is linearizable (the indeterminate operations not yet applied never took effect). When there
 * is nothing left to undo, it is not.
 *
 * <p>Lowe's memoization: the search remembers every (set of operations applied, model state) it
 * has reached, and does not enter one twice: whether a configuration can be completed depends
 * only on that pair. The set is a bit set with an incrementally maintained hash.
 *
 * <p>Before searching, operations are split by {@link Model#partitionKey}; each partition is
 * searched on its own (P-compositionality) in order of its first operation, and the check stops
 * at the first partition that is not linearizable.
 *
 * <p>Deterministic: the same history and budget always give the same result and step count. No
 * threads, no clock; the {@link Budget} counts steps and memo entries.
 */
public final class LinearizabilityChecker {
    private LinearizabilityChecker() {}

    public static <S, I, O> CheckResult<I, O> check(Model<S, I, O> model, History<I, O> history) {
        return check(model, history, Budget.DEFAULT);
    }

    public static <S, I, O> CheckResult<I, O> check(Model<S, I, O> model, History<I, O> history,
            Budget budget) {
        Map<Object, List<Operation<I, O>>> partitions = new LinkedHashMap<>();
        for (Operation<I, O> op : history.operations()) {
            partitions.computeIfAbsent(model.partitionKey(op.input()), k -> new ArrayList<>()).add(op);
        }
        long steps = 0;
        long largestMemo = 0;
        boolean saturated = false;
        String unknown = null;
        for (Map.Entry<Object, List<Operation<I, O>>> p : partitions.entrySet()) {
            Search<S, I, O> search = new Search<>(model, p.getKey(), p.getValue(),
                    budget.maxSteps() - steps, budget.maxMemoEntries());
            Verdict v = search.run();
            steps += search.steps;
            largestMemo = Math.max(largestMemo, search.memo.size());
            saturated |= search.memoSaturated;
            if (v == Verdict.NOT_LINEARIZABLE) {
                CheckResult.Counterexample<I, O> cex = search.counterexample();
                return new CheckResult<>(v, explain(cex, partitions.size()), Optional.of(cex), steps,
                        partitions.size(), largestMemo, saturated);
            }
            if (v == Verdict.UNKNOWN) {
                unknown = "undecided: the step budget (" + budget.maxSteps() + ") ran out"
                        + (p.getKey() instanceof Model.Whole ? "" : " in partition " + p.getKey())
                        + " (" + p.getValue().size() + " operations) with a partial order of at most "
                        + search.maxDepth + " of them found so far"
                        + (search.memoSaturated ? "; the memo was full (" + budget.maxMemoEntries() + " entries)" : "");
                break;
            }
        }
        if (unknown != null) {
            return new CheckResult<>(Verdict.UNKNOWN, unknown, Optional.empty(), steps, partitions.size(),
                    largestMemo, saturated);
        }
        return new CheckResult<>(Verdict.LINEARIZABLE,
                "linearizable: " + history.size() + " operations in " + partitions.size() + " partition(s)",
                Optional.empty(), steps, partitions.size(), largestMemo, saturated);
    }

    private static final int SHOWN = 12;

    private static <I, O> String explain(CheckResult.Counterexample<I, O> cex, int partitions) {
        StringBuilder out = new StringBuilder("not linearizable");
        if (partitions > 1 || !(cex.partitionKey() instanceof Model.Whole)) {
            out.append(" in partition ").append(cex.partitionKey());
        }
        out.append(": at most ").append(cex.linearized().size()).append(" of ")
                .append(cex.partition().size()).append(" operations can be placed");
        List<Operation<I, O>> lin = cex.linearized();
        if (!lin.isEmpty()) {
            out.append(", in this order (");
            if (lin.size() > SHOWN) {
                out.append("the last ").append(SHOWN).append(" of ").append(lin.size()).append(") ...");
            } else {
                out.append("all)");
            }
            for (Operation<I, O> op : lin.subList(Math.max(0, lin.size() - SHOWN), lin.size())) {
                out.append("\n  ").append(op);
            }
        }
        out.append("\nleaving state ").append(cex.state()).append(". Then ").append(cex.blocked())
                .append(" must take effect before it returns, but nothing pending can come next:");
        for (CheckResult.Candidate<I, O> c : cex.candidates()) {
            out.append("\n  ").append(c.operation()).append(c.refused()
                    ? "  (refused in that state)" : "  (allowed, but every way on fails)");
        }
        return out.toString();
    }

    /** One partition's search. */
    private static final class Search<S, I, O> {
        private final Model<S, I, O> model;
        private final Object partitionKey;
        private final List<Operation<I, O>> ops;
        private final long maxSteps;
        private final int maxMemo;

        // Events 0..2n-1, head sentinel 2n; the doubly linked list of events not yet removed.
        private final int head;
        private final int[] next;
        private final int[] prev;
        private final int[] opOf;
        private final boolean[] isCall;
        private final int[] returnOf;

        private final long[] applied;
        private final long[] zobrist;
        private long appliedHash;
        private final Set<MemoKey> memo = new HashSet<>();
        private boolean memoSaturated;

        private final int[] stackCall;
        private final Object[] stackState;
        private int top;

        private long steps;
        private int maxDepth;
        private int deepest = -1;
        private int[] deepestOrder;
        private S deepestState;
        private int deepestBlocked;
        private List<Integer> deepestCandidates;

        Search(Model<S, I, O> model, Object partitionKey, List<Operation<I, O>> ops, long maxSteps,
                int maxMemo) {
            this.model = model;
            this.partitionKey = partitionKey;
            this.ops = ops;
            this.maxSteps = maxSteps;
            this.maxMemo = maxMemo;
            int n = ops.size();
            head = 2 * n;
            next = new int[2 * n + 1];
            prev = new int[2 * n + 1];
            opOf = new int[2 * n];
            isCall = new boolean[2 * n];
            returnOf = new int[2 * n];
            Integer[] events = new Integer[2 * n];
            for (int i = 0; i < n; i++) {
                events[2 * i] = 2 * i;
                events[2 * i + 1] = 2 * i + 1;
                opOf[2 * i] = i;
                opOf[2 * i + 1] = i;
                isCall[2 * i] = true;
                returnOf[2 * i] = 2 * i + 1;
            }
            Arrays.sort(events, Comparator.comparingLong((Integer e) -> timeOf(e))
                    .thenComparing(e -> isCall[e] ? 0 : 1)
                    .thenComparingInt(e -> e));
            int last = head;
            for (int e : events) {
                next[last] = e;
                prev[e] = last;
                last = e;
            }
            next[last] = -1;
            applied = new long[(n + 63) >>> 6];
            zobrist = new long[n];
            for (int i = 0; i < n; i++) {
                zobrist[i] = mix(i + 1L);
            }
            stackCall = new int[n];
            stackState = new Object[n];
        }

        private long timeOf(int event) {
            Operation<I, O> op = ops.get(opOf[event]);
            return isCall[event] ? op.invokeTime() : op.returnTime();
        }

        Verdict run() {
            S state = model.initialState();
            int e = next[head];
            while (true) {
                if (e < 0) {
                    return Verdict.LINEARIZABLE;
                }
                if (steps >= maxSteps) {
                    return Verdict.UNKNOWN;
                }
                steps++;
                int op = opOf[e];
                if (isCall[e]) {
                    S after = apply(state, op);
                    if (after != null) {
                        flip(op);
                        if (remember(after)) {
                            stackCall[top] = e;
                            stackState[top] = state;
                            top++;
                            maxDepth = Math.max(maxDepth, top);
                            state = after;
                            lift(e);
                            e = next[head];
                            continue;
                        }
                        flip(op);
                    }
                    e = next[e];
                } else {
                    if (ops.get(op).isIndeterminate()) {
                        return Verdict.LINEARIZABLE; // only never-returning operations are left
                    }
                    if (top > deepest) {
                        record(state, e);
                    }
                    if (top == 0) {
                        return Verdict.NOT_LINEARIZABLE;
                    }
                    top--;
                    int call = stackCall[top];
                    @SuppressWarnings("unchecked")
                    S before = (S) stackState[top];
                    state = before;
                    stackState[top] = null;
                    flip(opOf[call]);
                    unlift(call);
                    e = next[call];
                }
            }
        }

        private S apply(S state, int op) {
            Operation<I, O> o = ops.get(op);
            return o.isIndeterminate() ? model.stepUnknownOutput(state, o.input())
                    : model.step(state, o.input(), o.output());
        }

        private void flip(int op) {
            applied[op >>> 6] ^= 1L << op;
            appliedHash ^= zobrist[op];
        }

        /** Whether (applied, state) is new; remembers it if there is room. */
        private boolean remember(S state) {
            int hash = (int) (appliedHash ^ (appliedHash >>> 32)) * 31 + state.hashCode();
            if (memo.contains(new MemoKey(applied, state, hash))) {
                return false;
            }
            if (memo.size() < maxMemo) {
                memo.add(new MemoKey(applied.clone(), state, hash));
            } else {
                memoSaturated = true;
            }
            return true;
        }

        private void lift(int call) {
            int ret = returnOf[call];
            unlink(call);
            unlink(ret);
        }

        private void unlink(int e) {
            next[prev[e]] = next[e];
            if (next[e] >= 0) {
                prev[next[e]] = prev[e];
            }
        }

        private void unlift(int call) {
            int ret = returnOf[call];
            relink(ret);
            relink(call);
        }

        private void relink(int e) {
            if (next[e] >= 0) {
                prev[next[e]] = e;
            }
            next[prev[e]] = e;
        }

        private void record(S state, int blockedReturn) {
            deepest = top;
            deepestOrder = new int[top];
            for (int i = 0; i < top; i++) {
                deepestOrder[i] = opOf[stackCall[i]];
            }
            deepestState = state;
            deepestBlocked = opOf[blockedReturn];
            deepestCandidates = new ArrayList<>();
            for (int e = next[head]; e != blockedReturn; e = next[e]) {
                if (isCall[e]) {
                    deepestCandidates.add(opOf[e]);
                }
            }
        }

        CheckResult.Counterexample<I, O> counterexample() {
            List<Operation<I, O>> linearized = new ArrayList<>();
            for (int op : deepestOrder) {
                linearized.add(ops.get(op));
            }
            List<CheckResult.Candidate<I, O>> candidates = new ArrayList<>();
            for (int op : deepestCandidates) {
                candidates.add(new CheckResult.Candidate<>(ops.get(op), apply(deepestState, op) == null));
            }
            return new CheckResult.Counterexample<>(partitionKey, List.copyOf(ops), List.copyOf(linearized),
                    deepestState, ops.get(deepestBlocked), List.copyOf(candidates));
        }

        private static long mix(long z) {
            z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
            z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
            return z ^ (z >>> 31);
        }
    }

    /** A memo entry: which operations are applied (bit set) and the state they led to. */
    private static final class MemoKey {
        private final long[] applied;
        private final Object state;
        private final int hash;

        MemoKey(long[] applied, Object state, int hash) {
            this.applied = applied;
            this.state = state;
            this.hash = hash;
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof MemoKey k && k.hash == hash && Arrays.equals(k.applied, applied)
                    && k.state.equals(state);
        }
    }
}
