package io.cairn.coordinator;

/**
 * The coordinator's knobs.
 *
 * @param requestTimeoutMillis how long a client request waits for its quorum
 * @param readRepairTimeoutMillis how long a read waits for blocking repairs before answering anyway
 */
public record CoordinatorSettings(long requestTimeoutMillis, long readRepairTimeoutMillis) {
    public static final CoordinatorSettings DEFAULTS = new CoordinatorSettings(2_000, 500);
}
