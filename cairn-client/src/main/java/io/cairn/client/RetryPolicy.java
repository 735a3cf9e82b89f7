package io.cairn.client;

import java.time.Duration;
import java.util.Objects;

/**
 * When and how often the client sends a request again: at most {@link #maxAttempts()} attempts
 * within {@link #maxElapsed()}, waiting a capped exponential back-off with jitter between them
 * (at least the server's {@code Retry-After} when it gives one, unless the client moves to
 * another node), and at most {@link #maxCasAttempts()} read-compute-write rounds in
 * {@link CairnClient#update}.
 *
 * <p>What is retried: a failure to connect; a {@code 503} that changed nothing
 * ({@code overloaded}, {@code quorum_unavailable}, {@code contention}, ...); {@code 408}; for reads
 * also a lost connection, a timeout and {@code 504 read_timeout}. A write is retried only with an
 * {@code Idempotency-Key}, which the client adds by itself when {@link #retryWrites()} is on, so
 * that a write that was applied before its answer was lost is never applied twice: then a lost
 * connection, a timeout, {@code 504 outcome_unknown} and {@code 409 idempotency_in_flight} are
 * retried too, with the same key, possibly through another node. A write is never retried
 * without a key.
 *
 * <p>On a cluster an idempotency key costs Paxos rounds on the key's record; an application that
 * prefers plain writes turns {@link Builder#retryWrites(boolean)} off and gets exactly one attempt
 * per write (an {@link OutcomeUnknownException} when its answer is lost).
 */
public final class RetryPolicy {
    private static final RetryPolicy DEFAULTS = builder().build();
    private static final RetryPolicy NONE = builder().maxAttempts(1).retryWrites(false).build();

    private final int maxAttempts;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final Duration maxElapsed;
    private final boolean retryWrites;
    private final int maxCasAttempts;

    private RetryPolicy(Builder b) {
        this.maxAttempts = b.maxAttempts;
        this.initialBackoff = b.initialBackoff;
        this.maxBackoff = b.maxBackoff;
        this.maxElapsed = b.maxElapsed;
        this.retryWrites = b.retryWrites;
        this.maxCasAttempts = b.maxCasAttempts;
    }

    /** 8 attempts within 30 s, back-off from 50 ms doubling up to 2 s, writes retried, 10 CAS rounds. */
    public static RetryPolicy defaults() {
        return DEFAULTS;
    }

    /** One attempt for every request, and no idempotency keys added. */
    public static RetryPolicy none() {
        return NONE;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Attempts per request, the first included. */
    public int maxAttempts() {
        return maxAttempts;
    }

    /** The wait before the first retry; it doubles for each further retry. */
    public Duration initialBackoff() {
        return initialBackoff;
    }

    /** The longest wait between two attempts (a {@code Retry-After} excepted). */
    public Duration maxBackoff() {
        return maxBackoff;
    }

    /** No retry starts after this much time since the first attempt. */
    public Duration maxElapsed() {
        return maxElapsed;
    }

    /** Whether writes carry an automatic idempotency key and are retried with it. */
    public boolean retryWrites() {
        return retryWrites;
    }

    /** Read-compute-write rounds an {@code update} makes before it gives up on conflicts. */
    public int maxCasAttempts() {
        return maxCasAttempts;
    }

    /**
     * The wait before retry number {@code retry} (1 for the first retry): half the capped
     * exponential back-off plus a random part up to the other half ("equal jitter"), so that
     * clients that failed together do not retry together but never retry at once.
     *
     * @param random uniform in [0, 1)
     */
    Duration backoff(int retry, double random) {
        if (retry < 1) {
            throw new IllegalArgumentException("retries count from 1, got " + retry);
        }
        long initial = initialBackoff.toNanos();
        long cap = maxBackoff.toNanos();
        long exponential = initial;
        for (int i = 1; i < retry && exponential < cap; i++) {
            exponential = exponential > cap / 2 ? cap : exponential * 2;
        }
        long capped = Math.min(exponential, cap);
        long half = capped / 2;
        return Duration.ofNanos(half + (long) (random * (capped - half)));
    }

    /**
     * The wait before the next attempt, or null when there is none: the attempts or the time are
     * used up. {@code retryAfter} (null when absent) is honoured when the client stays on the node
     * that asked for it.
     *
     * @param attemptsMade attempts so far, the failed one included
     * @param elapsedNanos time since the first attempt started
     */
    Duration nextDelay(int attemptsMade, long elapsedNanos, Duration retryAfter, double random) {
        if (attemptsMade >= maxAttempts) {
            return null;
        }
        Duration delay = backoff(attemptsMade, random);
        if (retryAfter != null && retryAfter.compareTo(delay) > 0) {
            delay = retryAfter;
        }
        if (elapsedNanos + delay.toNanos() > maxElapsed.toNanos()) {
            return null;
        }
        return delay;
    }

    /** Builds a {@link RetryPolicy}; every setting has the default {@link RetryPolicy#defaults()} names. */
    public static final class Builder {
        private int maxAttempts = 8;
        private Duration initialBackoff = Duration.ofMillis(50);
        private Duration maxBackoff = Duration.ofSeconds(2);
        private Duration maxElapsed = Duration.ofSeconds(30);
        private boolean retryWrites = true;
        private int maxCasAttempts = 10;

        private Builder() {}

        /** Attempts per request, at least 1 (1: no retries). */
        public Builder maxAttempts(int maxAttempts) {
            if (maxAttempts < 1 || maxAttempts > 1000) {
                throw new IllegalArgumentException("maxAttempts is 1 to 1000, got " + maxAttempts);
            }
            this.maxAttempts = maxAttempts;
            return this;
        }

        public Builder initialBackoff(Duration initialBackoff) {
            this.initialBackoff = positive(initialBackoff, "initialBackoff");
            return this;
        }

        public Builder maxBackoff(Duration maxBackoff) {
            this.maxBackoff = positive(maxBackoff, "maxBackoff");
            return this;
        }

        public Builder maxElapsed(Duration maxElapsed) {
            this.maxElapsed = positive(maxElapsed, "maxElapsed");
            return this;
        }

        /** Whether writes get an automatic idempotency key and are retried with it (default on). */
        public Builder retryWrites(boolean retryWrites) {
            this.retryWrites = retryWrites;
            return this;
        }

        public Builder maxCasAttempts(int maxCasAttempts) {
            if (maxCasAttempts < 1 || maxCasAttempts > 1000) {
                throw new IllegalArgumentException("maxCasAttempts is 1 to 1000, got " + maxCasAttempts);
            }
            this.maxCasAttempts = maxCasAttempts;
            return this;
        }

        public RetryPolicy build() {
            if (maxBackoff.compareTo(initialBackoff) < 0) {
                throw new IllegalArgumentException("maxBackoff " + maxBackoff + " is shorter than initialBackoff " + initialBackoff);
            }
            return new RetryPolicy(this);
        }

        private static Duration positive(Duration d, String name) {
            Objects.requireNonNull(d, name);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive, got " + d);
            }
            return d;
        }
    }
}
