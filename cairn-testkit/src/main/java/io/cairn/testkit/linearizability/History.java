package io.cairn.testkit.linearizability;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A concurrent history: operations with their invocation and return times, ordered by
 * invocation. Built with a {@link Builder}, either from events in the order they happened
 * ({@code invoke}, then {@code ok}, {@code fail} or {@code info}, as a Jepsen log reads) or from
 * operations with explicit times.
 */
public final class History<I, O> {
    private final List<Operation<I, O>> operations;

    private History(List<Operation<I, O>> operations) {
        this.operations = List.copyOf(operations);
    }

    public static <I, O> Builder<I, O> builder() {
        return new Builder<>();
    }

    /** Every operation, in order of invocation; an operation's id is its index here. */
    public List<Operation<I, O>> operations() {
        return operations;
    }

    public int size() {
        return operations.size();
    }

    /** This history with one operation replaced (same id); for building counterexamples. */
    public History<I, O> with(Operation<I, O> replacement) {
        List<Operation<I, O>> copy = new ArrayList<>(operations);
        Operation<I, O> old = copy.get(replacement.id());
        if (old.invokeTime() != replacement.invokeTime()) {
            throw new IllegalArgumentException("a replacement keeps its invocation time");
        }
        copy.set(replacement.id(), replacement);
        return new History<>(copy);
    }

    @Override
    public String toString() {
        StringBuilder out = new StringBuilder();
        for (Operation<I, O> op : operations) {
            out.append(op).append('\n');
        }
        return out.toString();
    }

    /**
     * Collects operations. Event methods stamp each event with the next tick of a logical clock
     * (0, 1, 2, ..., or from {@link #at}), so events must be given in the order they happened;
     * {@link #add} and {@link #addIndeterminate} take explicit times instead (the clock then
     * moves past them).
     */
    public static final class Builder<I, O> {
        private record Pending<I>(int client, I input, long invokeTime, long order) {}

        private record Entry<I, O>(int client, I input, O output, long invokeTime, long returnTime,
                long order) {}

        private final Map<Integer, Pending<I>> pending = new LinkedHashMap<>();
        private final List<Entry<I, O>> entries = new ArrayList<>();
        private long now;
        private long order;

        private Builder() {}

        /**
         * Sets the logical clock: the next event happens at {@code time} (for instance a log's
         * line number, so explanations point at lines). Time never goes back.
         */
        public Builder<I, O> at(long time) {
            if (time < now) {
                throw new IllegalArgumentException("time goes back from " + now + " to " + time);
            }
            now = time;
            return this;
        }

        /** Client {@code client} invokes {@code input} now; it must have nothing pending. */
        public Builder<I, O> invoke(int client, I input) {
            if (pending.containsKey(client)) {
                throw new IllegalStateException("client " + client + " already has "
                        + pending.get(client).input() + " pending");
            }
            pending.put(client, new Pending<>(client, input, now++, order++));
            return this;
        }

        /** The client's pending operation returns {@code output} now. */
        public Builder<I, O> ok(int client, O output) {
            Pending<I> p = take(client);
            entries.add(new Entry<>(client, p.input(), output, p.invokeTime(), now++, p.order()));
            return this;
        }

        /**
         * The client's pending operation certainly did not take effect (Jepsen's {@code :fail}):
         * it is left out of the history.
         */
        public Builder<I, O> fail(int client) {
            take(client);
            now++;
            return this;
        }

        /**
         * The client's pending operation has an unknown outcome (Jepsen's {@code :info}): it may
         * take effect at any later time, or never. The client is free to invoke again.
         */
        public Builder<I, O> info(int client) {
            Pending<I> p = take(client);
            entries.add(new Entry<>(client, p.input(), null, p.invokeTime(), Operation.INDETERMINATE,
                    p.order()));
            now++;
            return this;
        }

        /** The input the client has pending, or {@code null}. */
        public I pendingInput(int client) {
            Pending<I> p = pending.get(client);
            return p == null ? null : p.input();
        }

        /** A completed operation with explicit times. */
        public Builder<I, O> add(int client, I input, O output, long invokeTime, long returnTime) {
            if (returnTime == Operation.INDETERMINATE) {
                throw new IllegalArgumentException("use addIndeterminate");
            }
            entries.add(new Entry<>(client, input, output, invokeTime, returnTime, order++));
            now = Math.max(now, returnTime + 1);
            return this;
        }

        /** An operation invoked at {@code invokeTime} whose outcome is unknown. */
        public Builder<I, O> addIndeterminate(int client, I input, long invokeTime) {
            entries.add(new Entry<>(client, input, null, invokeTime, Operation.INDETERMINATE, order++));
            now = Math.max(now, invokeTime + 1);
            return this;
        }

        /** The history; operations still pending are indeterminate. */
        public History<I, O> build() {
            List<Entry<I, O>> all = new ArrayList<>(entries);
            for (Pending<I> p : pending.values()) {
                all.add(new Entry<>(p.client(), p.input(), null, p.invokeTime(), Operation.INDETERMINATE,
                        p.order()));
            }
            all.sort(Comparator.comparingLong((Entry<I, O> e) -> e.invokeTime())
                    .thenComparingLong(Entry::order));
            List<Operation<I, O>> ops = new ArrayList<>(all.size());
            for (Entry<I, O> e : all) {
                ops.add(new Operation<>(ops.size(), e.client(), e.input(), e.output(), e.invokeTime(),
                        e.returnTime()));
            }
            return new History<>(ops);
        }

        private Pending<I> take(int client) {
            Pending<I> p = pending.remove(client);
            if (p == null) {
                throw new IllegalStateException("client " + client + " has nothing pending");
            }
            return p;
        }
    }
}
