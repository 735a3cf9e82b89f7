package io.cairn.testkit.linearizability;

/**
 * One operation of a {@link History}: what a client asked, what it was answered, and when.
 *
 * <p>Times are on any clock common to all clients (a simulator's virtual time, a test's step
 * counter, or one process's monotonic clock); only their order matters. Operation {@code a}
 * precedes {@code b} in real time when {@code a.returnTime() < b.invokeTime()}; equal times
 * count as overlapping.
 *
 * <p>An <em>indeterminate</em> operation (Jepsen's {@code :info}, a timeout, a client that
 * crashed) may take effect at any point after its invocation, or never. It has
 * {@link #returnTime()} {@link #INDETERMINATE} and no output.
 *
 * @param id its position in the history, in order of invocation
 * @param client the client (Jepsen: process) that ran it; for explanations only
 * @param input what was asked
 * @param output what was answered; {@code null} when indeterminate
 * @param invokeTime when it was invoked
 * @param returnTime when it returned, or {@link #INDETERMINATE}
 */
public record Operation<I, O>(int id, int client, I input, O output, long invokeTime, long returnTime) {

    /** The return time of an operation whose outcome is unknown: after everything. */
    public static final long INDETERMINATE = Long.MAX_VALUE;

    public Operation {
        if (returnTime < invokeTime) {
            throw new IllegalArgumentException("operation returns at " + returnTime
                    + " before it is invoked at " + invokeTime);
        }
        if (returnTime == INDETERMINATE && output != null) {
            throw new IllegalArgumentException("an indeterminate operation has no output");
        }
    }

    /** Whether the outcome is unknown: it may have taken effect after its invocation, or never. */
    public boolean isIndeterminate() {
        return returnTime == INDETERMINATE;
    }

    @Override
    public String toString() {
        String when = "[" + invokeTime + ", " + (isIndeterminate() ? "?" : returnTime) + "]";
        String answer = isIndeterminate() ? "unknown" : String.valueOf(output);
        return "#" + id + " client " + client + " " + input + " -> " + answer + " " + when;
    }
}
