package io.cairn.invariant;

/**
 * Always-on checks for programmer errors: a broken invariant fails loudly, in production too.
 *
 * <p>Java's {@code assert} depends on a JVM flag; these do not. Operating errors (bad input,
 * timeouts, full disks) are never reported through here: they are values from the error table.
 */
public final class Invariant {
    private Invariant() {}

    public static void check(boolean condition, String message) {
        if (!condition) {
            throw new InvariantViolation(message);
        }
    }

    public static void check(boolean condition, String format, Object... args) {
        if (!condition) {
            throw new InvariantViolation(String.format(format, args));
        }
    }

    /** A broken invariant to throw where no condition is left to check: {@code throw Invariant.violated(...)}. */
    public static InvariantViolation violated(String format, Object... args) {
        return new InvariantViolation(String.format(format, args));
    }

    /**
     * The invariant violation {@code error} is or wraps (as the cause of a completion or execution
     * failure, at any depth), or null: for the few places that turn failures into answers, which
     * must let this one through rather than answer it.
     */
    public static InvariantViolation violationIn(Throwable error) {
        Throwable t = error;
        for (int depth = 0; t != null && depth < 32; depth++, t = t.getCause()) {
            if (t instanceof InvariantViolation v) {
                return v;
            }
        }
        return null;
    }

    /** Thrown when an invariant is broken; never caught to continue as if nothing happened. */
    public static final class InvariantViolation extends IllegalStateException {
        InvariantViolation(String message) {
            super(message);
        }
    }
}
