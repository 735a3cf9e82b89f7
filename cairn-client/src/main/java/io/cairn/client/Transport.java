package io.cairn.client;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import java.util.function.Supplier;
import javax.net.ssl.SSLHandshakeException;

/**
 * Sends one logical request with its retries and failovers, and hands back the answer that
 * settled it.
 *
 * <p><b>Model.</b> A {@link Request} is fixed before its first attempt: method, path, headers
 * (idempotency key and causal token included) and body, so every retry sends the same request
 * (which is what the server's idempotency fingerprint compares), possibly to another endpoint.
 * Attempts are sequential: the next one is scheduled from the completion of the previous one, so
 * a request's state ({@link Run}) is handed from thread to thread through its futures and needs
 * no lock.
 *
 * <p><b>Failures.</b> A failure to connect never reached a node: anything may be retried. A
 * connection lost after the request was sent, or a timeout, may have reached one: a read is
 * retried; a write only with its idempotency key, and it becomes <i>ambiguous</i>: if no later
 * attempt settles it, the caller gets an {@link OutcomeUnknownException}, never a plain failure.
 * Error answers are retried by their code ({@link Errors}); a write is never retried without an
 * idempotency key. Node-local refusals and connection failures mark the endpoint down
 * ({@link Endpoints}).
 */
final class Transport implements AutoCloseable {
    /**
     * One logical request.
     *
     * @param headers name/value pairs, sent on every attempt
     * @param body null for none
     * @param write whether it may change data (a put, a delete, a batch with a write)
     * @param idempotencyKey the key it carries, or null: then a write is sent once
     */
    record Request(String operation, String namespace, String method, String pathAndQuery, List<String> headers, byte[] body, boolean write,
                   String idempotencyKey) {
        boolean retryable() {
            return !write || idempotencyKey != null;
        }
    }

    /**
     * The answer that settled a request.
     *
     * @param error the parsed error body for a status of 400 or more, else null
     * @param ambiguous a write some earlier attempt of which may have been applied
     */
    record Reply(int status, HttpHeaders headers, byte[] body, Errors.Body error, URI endpoint, int attempts, boolean ambiguous) {}

    /** Why an attempt got no answer. */
    enum Failure {
        CONNECT("connect_failed"), LOST("connection_lost"), TIMEOUT("timeout");

        final String code;

        Failure(String code) {
            this.code = code;
        }
    }

    /** Bodies larger than this ask the node first ({@code Expect: 100-continue}). */
    static final int EXPECT_CONTINUE_BYTES = 64 * 1024;

    private final HttpClient http;
    private final Endpoints endpoints;
    private final RetryPolicy policy;
    private final RequestListener listener;
    private final Supplier<String> token;
    private final Duration requestTimeout;
    private final long maxResponseBytes;
    private final Executor executor;
    private final DoubleSupplier random;
    private volatile boolean closed;

    Transport(HttpClient http, Endpoints endpoints, RetryPolicy policy, RequestListener listener, Supplier<String> token, Duration requestTimeout,
              long maxResponseBytes, Executor executor, DoubleSupplier random) {
        this.http = http;
        this.endpoints = endpoints;
        this.policy = policy;
        this.listener = listener;
        this.token = token;
        this.requestTimeout = requestTimeout;
        this.maxResponseBytes = maxResponseBytes;
        this.executor = executor;
        this.random = random;
    }

    RetryPolicy policy() {
        return policy;
    }

    Endpoints endpoints() {
        return endpoints;
    }

    /** Runs {@code request} to its settling answer; fails only when no attempt got an answer that settles it. */
    CompletableFuture<Reply> send(Request request) {
        CompletableFuture<Reply> result = new CompletableFuture<>();
        new Run(request, result).attempt(1, null);
        return result;
    }

    /** Waits {@code delay}, then runs {@code step} on the client's executor. */
    void later(Duration delay, Runnable step) {
        CompletableFuture.delayedExecutor(delay.toNanos(), TimeUnit.NANOSECONDS, executor).execute(step);
    }

    double random() {
        return random.getAsDouble();
    }

    @Override
    public void close() {
        closed = true;
        http.close();
    }

    /** One request's attempts. Fields change only between attempts, which the futures order. */
    private final class Run {
        private final Request request;
        private final CompletableFuture<Reply> result;
        private final long startNanos = System.nanoTime();
        private boolean ambiguous;

        Run(Request request, CompletableFuture<Reply> result) {
            this.request = request;
            this.result = result;
        }

        void attempt(int n, Endpoints.Endpoint previous) {
            if (closed) {
                result.completeExceptionally(ambiguousIfWrite(new CairnException("client_closed", "the client was closed", 0, Map.of(), false,
                        previous == null ? null : previous.base, null)));
                return;
            }
            Endpoints.Endpoint endpoint = endpoints.pick(previous);
            RequestListener.Attempt attempt = new RequestListener.Attempt(request.operation(),
                    request.namespace() == null ? Keys.DEFAULT_NAMESPACE : request.namespace(), endpoint.base, n);
            HttpRequest http;
            try {
                // Runs the application's token supplier: whatever it throws must reach the caller, not vanish on a timer thread.
                http = build(endpoint);
            } catch (RuntimeException e) {
                result.completeExceptionally(!ambiguous ? e : ambiguousIfWrite(new CairnException("client_error", String.valueOf(e), 0, Map.of(), false,
                        endpoint.base, e)));
                return;
            }
            started(attempt);
            long t0 = System.nanoTime();
            Transport.this.http.sendAsync(http, BoundedBody.handler(maxResponseBytes))
                    .whenComplete((response, error) -> {
                        Duration latency = Duration.ofNanos(System.nanoTime() - t0);
                        if (error != null) {
                            onFailure(n, endpoint, attempt, latency, error);
                        } else {
                            onAnswer(n, endpoint, attempt, latency, response);
                        }
                    });
        }

        private HttpRequest build(Endpoints.Endpoint endpoint) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(endpoint.base + request.pathAndQuery())).timeout(requestTimeout);
            List<String> h = request.headers();
            for (int i = 0; i < h.size(); i += 2) {
                b.header(h.get(i), h.get(i + 1));
            }
            if (request.body() != null && request.body().length > EXPECT_CONTINUE_BYTES) {
                // The node refuses a body over its limit before reading it and closes the connection: asking first
                // gets that refusal as an answer rather than as a broken pipe mid-upload.
                b.expectContinue(true);
            }
            String t = token.get();
            if (t != null) {
                b.header("Authorization", "Bearer " + t);
            }
            return b.method(request.method(), request.body() == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(request.body())).build();
        }

        private void onFailure(int n, Endpoints.Endpoint endpoint, RequestListener.Attempt attempt, Duration latency, Throwable error) {
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            Failure failure = classify(cause);
            if (failure == null) {
                // Not a network failure: an answer over the bound, or a bug. Not retried.
                finished(attempt, new RequestListener.Outcome(0, cause instanceof BoundedBody.TooLarge ? "response_too_large" : "client_error",
                        latency, false));
                if (cause instanceof BoundedBody.TooLarge) {
                    // The node answered, but the answer could not be read: a write's outcome is unknown.
                    ambiguous |= request.write();
                    result.completeExceptionally(ambiguousIfWrite(new CairnException("response_too_large", cause.getMessage(), 0, Map.of(),
                            false, endpoint.base, cause)));
                } else {
                    result.completeExceptionally(cause);
                }
                return;
            }
            endpoints.markDown(endpoint);
            if (request.write() && failure != Failure.CONNECT) {
                ambiguous = true;
            }
            Duration delay = request.retryable() ? policy.nextDelay(n, System.nanoTime() - startNanos, null, random.getAsDouble()) : null;
            finished(attempt, new RequestListener.Outcome(0, failure.code, latency, delay != null));
            if (delay != null) {
                later(delay, () -> attempt(n + 1, endpoint));
                return;
            }
            result.completeExceptionally(unanswered(failure, cause, endpoint, n));
        }

        private void onAnswer(int n, Endpoints.Endpoint endpoint, RequestListener.Attempt attempt, Duration latency, HttpResponse<byte[]> response) {
            int status = response.statusCode();
            Errors.Body error = status >= 400 ? Errors.parse(status, response.body()) : null;
            String code = error == null ? null : error.code();
            boolean nodeLocal = code != null && Errors.NODE_LOCAL.contains(code);
            if (nodeLocal) {
                endpoints.markDown(endpoint);
            } else {
                endpoints.markUp(endpoint);
            }
            if (error != null && request.write() && (Errors.AMBIGUOUS.contains(code) || unknownGatewayFailure(status, code))) {
                ambiguous = true;
            }
            boolean retry = error != null && request.retryable() && retryable(status, code);
            Duration delay = retry ? policy.nextDelay(n, System.nanoTime() - startNanos, nodeLocal ? null : retryAfter(response.headers()),
                    random.getAsDouble()) : null;
            finished(attempt, new RequestListener.Outcome(status, code, latency, delay != null));
            if (delay != null) {
                later(delay, () -> attempt(n + 1, endpoint));
                return;
            }
            result.complete(new Reply(status, response.headers(), response.body(), error, endpoint.base, n, ambiguous));
        }

        /** Whether an error answer is worth another attempt of this request. */
        private boolean retryable(int status, String code) {
            if (Errors.REFUSED_RETRYABLE.contains(code)) {
                return true;
            }
            if (request.write()) {
                return Errors.AMBIGUOUS.contains(code) || unknownGatewayFailure(status, code);
            }
            return code.equals("read_timeout") || unknownGatewayFailure(status, code);
        }

        private CairnException unanswered(Failure failure, Throwable cause, Endpoints.Endpoint endpoint, int attempts) {
            String what = switch (failure) {
                case CONNECT -> "could not connect to " + endpoint.base;
                case LOST -> "the connection to " + endpoint.base + " was lost";
                case TIMEOUT -> endpoint.base + " did not answer within " + requestTimeout.toMillis() + " ms";
            };
            String message = what + " (" + attempts + (attempts == 1 ? " attempt" : " attempts") + ")";
            if (ambiguous) {
                return new OutcomeUnknownException(message + "; the write may or may not have been applied"
                        + (request.idempotencyKey() == null ? "" : ": retry it with Idempotency-Key " + request.idempotencyKey() + " to settle it"),
                        0, Map.of(), request.idempotencyKey(), endpoint.base, cause);
            }
            String code = failure == Failure.CONNECT ? "unreachable" : failure.code;
            return new UnavailableException(code, message, 0, Map.of(), true, endpoint.base, cause);
        }

        /** {@code e}, or for a write some attempt of which may have been applied, an {@link OutcomeUnknownException} around it. */
        private CairnException ambiguousIfWrite(CairnException e) {
            if (!request.write() || !ambiguous) {
                return e;
            }
            return new OutcomeUnknownException(e.getMessage() + "; the write may or may not have been applied", e.status(), e.details(),
                    request.idempotencyKey(), e.endpoint().orElse(null), e);
        }

        private void started(RequestListener.Attempt attempt) {
            try {
                listener.requestStarted(attempt);
            } catch (RuntimeException e) {
                report(e);
            }
        }

        private void finished(RequestListener.Attempt attempt, RequestListener.Outcome outcome) {
            try {
                listener.requestFinished(attempt, outcome);
            } catch (RuntimeException e) {
                report(e);
            }
        }
    }

    /** A listener's exception goes where uncaught exceptions go, loudly, without failing the request it was told about. */
    private static void report(RuntimeException e) {
        Thread t = Thread.currentThread();
        t.getUncaughtExceptionHandler().uncaughtException(t, e);
    }

    /** A 502/503/504 without one of Cairn's codes: a proxy's answer, which may have come after the request ran. */
    private static boolean unknownGatewayFailure(int status, String code) {
        return (status == 502 || status == 503 || status == 504) && code.startsWith("http_");
    }

    /** Which network failure {@code cause} is, or null when it is none. */
    static Failure classify(Throwable cause) {
        // None of these sent the request: no connection, or no TLS session to send it over.
        if (cause instanceof HttpConnectTimeoutException || cause instanceof ConnectException || cause.getCause() instanceof ConnectException
                || cause instanceof SSLHandshakeException || cause.getCause() instanceof SSLHandshakeException) {
            return Failure.CONNECT;
        }
        if (cause instanceof HttpTimeoutException) {
            return Failure.TIMEOUT;
        }
        if (cause instanceof BoundedBody.TooLarge) {
            return null;
        }
        if (cause instanceof IOException) {
            return Failure.LOST;
        }
        return null;
    }

    /** The {@code Retry-After} in seconds (0 to 60), or null when absent or not seconds. */
    static Duration retryAfter(HttpHeaders headers) {
        String value = headers.firstValue("Retry-After").orElse(null);
        if (value == null) {
            return null;
        }
        try {
            long seconds = Long.parseLong(value.trim());
            return seconds < 0 ? null : Duration.ofSeconds(Math.min(seconds, 60));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** The exception for a settled error answer; an ambiguous write's becomes an {@link OutcomeUnknownException} around it. */
    static CairnException error(Request request, Reply reply) {
        Errors.Body b = reply.error() != null ? reply.error() : Errors.parse(reply.status(), reply.body());
        CairnException e = Errors.from(reply.status(), b.code(), b.message(), b.details(), reply.endpoint());
        if (e instanceof OutcomeUnknownException) {
            return new OutcomeUnknownException(e.getMessage() + (request.idempotencyKey() == null ? ""
                    : " (retry with Idempotency-Key " + request.idempotencyKey() + " to settle it)"), e.status(), e.details(),
                    request.idempotencyKey(), reply.endpoint(), null);
        }
        // A replayed answer is the stored outcome of the attempt that ran: it settles the write, whatever came before.
        boolean replayed = reply.headers().firstValue("Idempotent-Replayed").map("true"::equalsIgnoreCase).orElse(false);
        if (request.write() && reply.ambiguous() && !replayed) {
            return new OutcomeUnknownException("an earlier attempt of this write may have been applied before its answer was lost, and the last"
                    + " attempt answered " + reply.status() + " " + e.code() + ": " + e.getMessage(), reply.status(), e.details(),
                    request.idempotencyKey(), reply.endpoint(), e);
        }
        return e;
    }
}
