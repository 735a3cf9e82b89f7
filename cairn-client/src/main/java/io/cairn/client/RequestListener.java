package io.cairn.client;

import java.net.URI;
import java.time.Duration;

/**
 * Hooks for an application's metrics or tracing: told when each attempt of a request starts and
 * when it finishes. Called on the client's threads, so it must be quick and must not block; an
 * exception it throws goes to the thread's uncaught exception handler and does not disturb the
 * request. No metrics library is needed: map the calls onto whatever the application uses.
 */
public interface RequestListener {
    /** A listener that does nothing. */
    RequestListener NONE = new RequestListener() {};

    /**
     * One attempt of a request.
     *
     * @param operation {@code get}, {@code put}, {@code delete} or {@code batch}
     * @param namespace the namespace ({@code default} for the default one)
     * @param endpoint the node it goes to
     * @param attempt 1 for the first attempt, 2 for the first retry, ...
     */
    record Attempt(String operation, String namespace, URI endpoint, int attempt) {}

    /**
     * How an attempt ended.
     *
     * @param status the HTTP status, or 0 when no answer came
     * @param code null for a success; the server's error code for an error answer
     *             ({@code contention}, {@code key_not_found}, ...); the client's own when no answer
     *             came ({@code connect_failed}, {@code connection_lost}, {@code timeout})
     * @param latency from the attempt's start to its answer or failure
     * @param willRetry whether the client sends the request again
     */
    record Outcome(int status, String code, Duration latency, boolean willRetry) {}

    /** An attempt is about to be sent. */
    default void requestStarted(Attempt attempt) {}

    /** An attempt got its answer, or failed without one. */
    default void requestFinished(Attempt attempt, Outcome outcome) {}
}
