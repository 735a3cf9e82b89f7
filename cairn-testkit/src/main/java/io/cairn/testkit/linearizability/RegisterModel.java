package io.cairn.testkit.linearizability;

import java.util.Objects;
import java.util.Optional;

/**
 * One register holding a value or nothing, with read, write and compare-and-set. The state is
 * the value held ({@code Optional.empty()} when nothing is). Writing {@code null} empties it (a
 * delete); a cas may expect {@code null} (nothing held) or set it.
 *
 * <ul>
 *   <li>{@code read()} answers {@link Result#returned(Object) returned(v)} with the value held
 *       ({@code null} for nothing);</li>
 *   <li>{@code write(v)} answers {@link Result#ok() ok()};</li>
 *   <li>{@code cas(expected, update)} answers {@code ok()} and stores {@code update} if the
 *       register held {@code expected}, or {@link Result#failed() failed()} and changes nothing
 *       if it did not. A cas that did not take effect for another reason (the request was never
 *       applied) belongs out of the history, not in it as {@code failed()}.</li>
 * </ul>
 *
 * <p>For many registers, wrap it: {@code KeyedModel.of(new RegisterModel<V>())}.
 *
 * @param <V> the values; compared with {@code equals}
 */
public final class RegisterModel<V> implements Model<Optional<V>, RegisterModel.Op<V>, RegisterModel.Result<V>> {
    private final Optional<V> initial;

    /** A register that starts empty. */
    public RegisterModel() {
        this(null);
    }

    /** A register that starts holding {@code initial} ({@code null}: empty). */
    public RegisterModel(V initial) {
        this.initial = Optional.ofNullable(initial);
    }

    /** An operation on the register. */
    public sealed interface Op<V> permits Read, Write, Cas {}

    public record Read<V>() implements Op<V> {
        @Override
        public String toString() {
            return "read";
        }
    }

    public record Write<V>(V value) implements Op<V> {
        @Override
        public String toString() {
            return "write " + value;
        }
    }

    public record Cas<V>(V expected, V update) implements Op<V> {
        @Override
        public String toString() {
            return "cas " + expected + "->" + update;
        }
    }

    /**
     * An answer: {@link #ok()} for a write or a successful cas, {@link #failed()} for a cas whose
     * compare failed, {@link #returned(Object) returned(v)} for a read ({@code null}: the register
     * was empty).
     */
    public record Result<V>(boolean succeeded, V value) {
        public static <V> Result<V> returned(V value) {
            return new Result<>(true, value);
        }

        public static <V> Result<V> ok() {
            return new Result<>(true, null);
        }

        public static <V> Result<V> failed() {
            return new Result<>(false, null);
        }

        @Override
        public String toString() {
            return succeeded ? (value == null ? "ok" : String.valueOf(value)) : "failed";
        }
    }

    public static <V> Op<V> read() {
        return new Read<>();
    }

    public static <V> Op<V> write(V value) {
        return new Write<>(value);
    }

    public static <V> Op<V> cas(V expected, V update) {
        return new Cas<>(expected, update);
    }

    @Override
    public Optional<V> initialState() {
        return initial;
    }

    @Override
    public Optional<V> step(Optional<V> state, Op<V> input, Result<V> output) {
        return switch (input) {
            case Read<V> r -> output.succeeded() && Objects.equals(output.value(), state.orElse(null)) ? state : null;
            case Write<V> w -> output.succeeded() ? Optional.ofNullable(w.value()) : null;
            case Cas<V> c -> {
                boolean matches = Objects.equals(c.expected(), state.orElse(null));
                if (matches != output.succeeded()) {
                    yield null;
                }
                yield matches ? Optional.ofNullable(c.update()) : state;
            }
        };
    }

    @Override
    public Optional<V> stepUnknownOutput(Optional<V> state, Op<V> input) {
        return switch (input) {
            case Read<V> r -> state;
            case Write<V> w -> Optional.ofNullable(w.value());
            case Cas<V> c -> Objects.equals(c.expected(), state.orElse(null)) ? Optional.ofNullable(c.update()) : state;
        };
    }
}
