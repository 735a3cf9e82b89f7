package io.cairn.client;

import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;

/**
 * A client for Cairn's HTTP API: reads, writes, batches and compare-and-swap updates, each sync
 * or async ({@link CompletableFuture}), over one or more nodes.
 *
 * <pre>{@code
 * try (CairnClient cairn = CairnClient.builder()
 *         .endpoints("10.0.0.1:7070", "10.0.0.2:7070", "10.0.0.3:7070")
 *         .token(System.getenv("CAIRN_TOKEN"))
 *         .build()) {
 *     cairn.put("user:42:theme", "dark");
 *     Optional<Value> theme = cairn.get("user:42:theme");
 *     cairn.update("counter", v -> increment(v));   // read, compute, write If-Match, retry on conflict
 * }
 * }</pre>
 *
 * <p><b>What the client does for you.</b>
 * <ul>
 * <li><i>Retries and exactly-once.</i> Requests that failed without effect, or whose effect is
 * unknown, are retried under the {@link RetryPolicy}. Every write the client may retry carries an
 * automatic {@code Idempotency-Key}, and every retry of it reuses that key, through whichever node,
 * so a write whose answer was lost is applied once. A write is never retried without one. A write
 * whose outcome stays unknown ends in an {@link OutcomeUnknownException}, never a plain
 * failure.</li>
 * <li><i>Failover.</i> An endpoint that fails to connect is marked down for a while and skipped;
 * reads and idempotent writes move to the next one at once.</li>
 * <li><i>Causal order.</i> The client remembers the newest ETag it saw per key (a bounded LRU)
 * and sends it as {@code Cairn-After} with the next unconditional put or delete of that key, so
 * its later write never loses to its earlier one, whatever node each went through.</li>
 * </ul>
 *
 * <p><b>Keys</b> are any non-empty Unicode string; the client percent-encodes them as one path
 * segment ({@code a/b} is sent as {@code a%2Fb}). A missing key is not an error: reads return
 * {@link Optional#empty()}. Errors are {@link CairnException}s named by their stable code.
 *
 * <p>Thread-safe; build one per application and share it. {@link #namespace(String)} gives views
 * on other namespaces that share its connections; {@link #close()} the client that was built.
 */
public final class CairnClient implements AutoCloseable {
    private static final String IDEMPOTENCY_KEY = "Idempotency-Key";
    private static final String CAUSAL_TOKEN = "Cairn-After";

    private final Transport transport;
    private final CausalTokens tokens;
    // Null: the default namespace.
    private final String namespace;
    // Only the client that was built closes the connections; its namespace views do not.
    private final boolean owner;

    private CairnClient(Transport transport, CausalTokens tokens, String namespace, boolean owner) {
        this.transport = transport;
        this.tokens = tokens;
        this.namespace = namespace;
        this.owner = owner;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * A view of this client on namespace {@code name} ({@code /ns/{name}/kv/...}; {@code default}
     * is {@code /kv/...}), sharing its connections, endpoints, policy and causal tokens. Closing
     * a view does nothing; closing this client closes its views.
     */
    public CairnClient namespace(String name) {
        return new CairnClient(transport, tokens, Keys.namespace(Objects.requireNonNull(name, "name")), false);
    }

    /** The namespace this client addresses. */
    public String namespace() {
        return namespace == null ? Keys.DEFAULT_NAMESPACE : namespace;
    }

    /** The endpoints, in the order given. */
    public List<URI> endpoints() {
        return transport.endpoints().all().stream().map(e -> e.base).toList();
    }

    // ---- reads ----

    /** The key's live value, or empty when it has none (never written, deleted, or expired). */
    public Optional<Value> get(String key) {
        return await(getAsync(key, ReadOptions.defaults()), false);
    }

    /** As {@link #get(String)}, at a read quorum or as a serial (linearizable) read. */
    public Optional<Value> get(String key, ReadOptions options) {
        return await(getAsync(key, options), false);
    }

    public CompletableFuture<Optional<Value>> getAsync(String key) {
        return getAsync(key, ReadOptions.defaults());
    }

    public CompletableFuture<Optional<Value>> getAsync(String key, ReadOptions options) {
        Objects.requireNonNull(options, "options");
        Query q = new Query();
        if (options.readQuorum() != null) {
            q.add("r", options.readQuorum().toString());
        }
        if (options.isSerial()) {
            q.add("consistency", "serial");
        }
        Transport.Request request = new Transport.Request("get", namespace, "GET", Keys.path(namespace, key) + q, List.of(), null, false, null);
        long ticket = tokens.ticket();
        return transport.send(request).thenApply(reply -> {
            if (reply.status() == 200) {
                Value v = new Value(key, reply.body(), reply.headers().firstValue("Content-Type").orElse(null), etag(reply),
                        expiresAt(reply));
                tokens.saw(namespace, key, v.etag(), ticket);
                return Optional.of(v);
            }
            if (reply.status() == 404 && reply.error() != null && reply.error().code().equals("key_not_found")) {
                return Optional.empty();
            }
            throw Transport.error(request, reply);
        });
    }

    // ---- writes ----

    /** Stores {@code value} under {@code key}. */
    public WriteResult put(String key, byte[] value) {
        return await(putAsync(key, value, WriteOptions.defaults()), true);
    }

    /** Stores {@code value} as UTF-8 text ({@code text/plain; charset=utf-8}). */
    public WriteResult put(String key, String value) {
        return await(putAsync(key, value.getBytes(StandardCharsets.UTF_8), WriteOptions.defaults().contentType("text/plain; charset=utf-8")), true);
    }

    /**
     * Stores {@code value} with a condition, TTL, content type or write quorum.
     *
     * @throws PreconditionFailedException when the condition did not hold (nothing was written)
     * @throws OutcomeUnknownException when the write may or may not have been applied
     */
    public WriteResult put(String key, byte[] value, WriteOptions options) {
        return await(putAsync(key, value, options), true);
    }

    public CompletableFuture<WriteResult> putAsync(String key, byte[] value, WriteOptions options) {
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(options, "options");
        List<String> headers = new ArrayList<>();
        if (options.contentTypeOrNull() != null) {
            headers.addAll(List.of("Content-Type", options.contentTypeOrNull()));
        }
        if (options.ttlText() != null) {
            headers.addAll(List.of("Cairn-TTL", options.ttlText()));
        }
        if (options.condition() == WriteOptions.Condition.IF_ABSENT) {
            headers.addAll(List.of("If-None-Match", "*"));
        }
        return write("put", "PUT", key, value.clone(), options, headers);
    }

    /** Deletes the key (a tombstone with its own version; deleting a missing key succeeds). */
    public WriteResult delete(String key) {
        return await(deleteAsync(key, WriteOptions.defaults()), true);
    }

    /** Deletes the key, optionally only {@link WriteOptions#ifMatch(String) if it is at a version}. */
    public WriteResult delete(String key, WriteOptions options) {
        return await(deleteAsync(key, options), true);
    }

    public CompletableFuture<WriteResult> deleteAsync(String key) {
        return deleteAsync(key, WriteOptions.defaults());
    }

    public CompletableFuture<WriteResult> deleteAsync(String key, WriteOptions options) {
        Objects.requireNonNull(options, "options");
        if (options.condition() == WriteOptions.Condition.IF_ABSENT) {
            throw new IllegalArgumentException("a delete takes no ifAbsent condition");
        }
        if (options.ttlText() != null || options.contentTypeOrNull() != null) {
            throw new IllegalArgumentException("a delete takes no TTL or content type");
        }
        return write("delete", "DELETE", key, null, options, new ArrayList<>());
    }

    private CompletableFuture<WriteResult> write(String operation, String method, String key, byte[] body, WriteOptions options, List<String> headers) {
        String path = Keys.path(namespace, key) + (options.writeQuorum() == null ? "" : new Query().add("w", options.writeQuorum().toString()));
        if (options.ifMatchHeader() != null) {
            headers.addAll(List.of("If-Match", options.ifMatchHeader()));
        }
        String idempotencyKey = idempotencyKey(options.idempotencyKeyOrNull());
        if (idempotencyKey != null) {
            headers.addAll(List.of(IDEMPOTENCY_KEY, idempotencyKey));
        }
        // A conditional write is a Paxos round whose ballot is above every version the key had: it needs no token.
        String token = options.conditional() ? null : tokens.token(namespace, key);
        if (token != null) {
            headers.addAll(List.of(CAUSAL_TOKEN, token));
        }
        Transport.Request request = new Transport.Request(operation, namespace, method, path, List.copyOf(headers), body, true, idempotencyKey);
        long ticket = tokens.ticket();
        return transport.send(request).thenApply(reply -> {
            if (reply.status() == 200 || reply.status() == 204) {
                String etag = etag(reply);
                tokens.saw(namespace, key, etag, ticket);
                return new WriteResult(etag, expiresAt(reply), flag(reply, "Idempotent-Replayed", false), flag(reply, "Idempotent-Recorded", true),
                        idempotencyKey, reply.endpoint(), reply.attempts());
            }
            CairnException e = Transport.error(request, reply);
            if (e instanceof PreconditionFailedException p) {
                p.currentEtag().ifPresent(current -> tokens.saw(namespace, key, current, ticket));
            }
            throw e;
        });
    }

    // ---- batches ----

    /** Runs the batch's operations in order, each with its own result (see {@link Batch}: not a transaction). */
    public BatchResult batch(Batch batch) {
        return await(batchAsync(batch), batch.writes());
    }

    public CompletableFuture<BatchResult> batchAsync(Batch batch) {
        Objects.requireNonNull(batch, "batch");
        Query q = new Query();
        if (batch.readQuorum() != null) {
            q.add("r", batch.readQuorum().toString());
        }
        if (batch.writeQuorum() != null) {
            q.add("w", batch.writeQuorum().toString());
        }
        List<String> headers = new ArrayList<>(List.of("Content-Type", "application/json"));
        String idempotencyKey = batch.writes() ? idempotencyKey(batch.idempotencyKeyOrNull()) : null;
        if (idempotencyKey != null) {
            headers.addAll(List.of(IDEMPOTENCY_KEY, idempotencyKey));
        }
        String token = batchToken(batch);
        if (token != null) {
            headers.addAll(List.of(CAUSAL_TOKEN, token));
        }
        Transport.Request request = new Transport.Request("batch", namespace, "BATCH", Keys.collection(namespace) + q, List.copyOf(headers),
                BatchJson.request(batch), batch.writes(), idempotencyKey);
        long ticket = tokens.ticket();
        return transport.send(request).thenApply(reply -> {
            if (reply.status() != 200) {
                throw Transport.error(request, reply);
            }
            List<BatchResult.Item> items = BatchJson.results(batch, reply.body(), reply.endpoint());
            for (BatchResult.Item item : items) {
                tokens.saw(namespace, item.key(), item.etag().or(item::currentEtag).orElse(null), ticket);
            }
            return new BatchResult(items, flag(reply, "Idempotent-Replayed", false), reply.endpoint(), idempotencyKey);
        });
    }

    /**
     * The one causal token a batch carries for all its writes: of the tokens remembered for its
     * unconditional writes' keys, the one seen by the latest-started operation (ETags are opaque,
     * so the client cannot compare them).
     */
    private String batchToken(Batch batch) {
        String best = null;
        long bestTicket = -1;
        for (Batch.Op op : batch.ops()) {
            if (op.isWrite() && !op.options().conditional()) {
                long t = tokens.ticketOf(namespace, op.key());
                if (t > bestTicket) {
                    String token = tokens.token(namespace, op.key());
                    if (token != null) {
                        best = token;
                        bestTicket = t;
                    }
                }
            }
        }
        return best;
    }

    // ---- compare-and-swap ----

    /**
     * Read-compute-write with optimistic concurrency: reads the key, calls {@code change} with its
     * value (empty when absent), and writes the result {@code If-Match} the version read (or
     * {@code If-None-Match: *} when absent). When another writer got there first ({@code 412}),
     * it starts again with a serial read, after a capped exponential back-off with jitter, up to
     * {@link RetryPolicy#maxCasAttempts()} rounds; then the last
     * {@link PreconditionFailedException} is thrown. {@code change} may run several times, so it
     * must have no side effects; returning {@code null} deletes the key (or leaves it absent).
     *
     * @return the value now stored, or empty when the key was deleted or stays absent
     * @throws OutcomeUnknownException when a write's outcome is unknown: the update is not retried,
     *         since applying {@code change} again could apply it twice
     */
    public Optional<Value> update(String key, Function<Optional<Value>, byte[]> change) {
        return await(updateAsync(key, change, WriteOptions.defaults()), true);
    }

    /**
     * As {@link #update(String, Function)}, writing with {@code options}' TTL, content type (by
     * default the current value's) and write quorum; {@code options} carries no condition and no
     * idempotency key (each round has its own). The current value's expiry is not carried over.
     */
    public Optional<Value> update(String key, Function<Optional<Value>, byte[]> change, WriteOptions options) {
        return await(updateAsync(key, change, options), true);
    }

    public CompletableFuture<Optional<Value>> updateAsync(String key, Function<Optional<Value>, byte[]> change) {
        return updateAsync(key, change, WriteOptions.defaults());
    }

    public CompletableFuture<Optional<Value>> updateAsync(String key, Function<Optional<Value>, byte[]> change, WriteOptions options) {
        Objects.requireNonNull(change, "change");
        Objects.requireNonNull(options, "options");
        if (options.conditional() || options.idempotencyKeyOrNull() != null) {
            throw new IllegalArgumentException("an update sets its own conditions and idempotency keys");
        }
        Keys.utf8(key);
        CompletableFuture<Optional<Value>> result = new CompletableFuture<>();
        updateRound(key, change, options, 1, result);
        return result;
    }

    private void updateRound(String key, Function<Optional<Value>, byte[]> change, WriteOptions options, int round,
                             CompletableFuture<Optional<Value>> result) {
        // After a conflict, a serial read: a quorum read may still return the version that just lost.
        ReadOptions read = round == 1 ? ReadOptions.defaults() : ReadOptions.defaults().serial();
        getAsync(key, read).thenCompose(current -> {
            byte[] next = change.apply(current);
            if (next == null) {
                return current.isEmpty() ? CompletableFuture.completedFuture(Optional.<Value>empty())
                        : deleteAsync(key, options.ifMatch(current.get().etag())).thenApply(w -> Optional.<Value>empty());
            }
            String contentType = options.contentTypeOrNull() != null ? options.contentTypeOrNull() : current.map(Value::contentType).orElse(null);
            WriteOptions o = current.isPresent() ? options.ifMatch(current.get().etag()) : options.ifAbsent();
            if (contentType != null) {
                o = o.contentType(contentType);
            }
            byte[] bytes = next.clone();
            return putAsync(key, bytes, o).thenApply(w -> Optional.of(new Value(key, bytes, contentType, w.etag(), w.expiresAt().orElse(null))));
        }).whenComplete((value, error) -> {
            if (error == null) {
                result.complete(value);
                return;
            }
            Throwable cause = unwrap(error);
            if (cause instanceof PreconditionFailedException && round < transport.policy().maxCasAttempts()) {
                Duration pause = transport.policy().backoff(round, transport.random());
                transport.later(pause, () -> updateRound(key, change, options, round + 1, result));
                return;
            }
            result.completeExceptionally(cause);
        });
    }

    // ---- the rest ----

    /** Closes the connections (views made by {@link #namespace(String)} share them: closing one does nothing). */
    @Override
    public void close() {
        if (owner) {
            transport.close();
        }
    }

    /** A new key when the write may be retried; the caller's own when given. */
    private String idempotencyKey(String given) {
        if (given != null) {
            return given;
        }
        return transport.policy().retryWrites() && transport.policy().maxAttempts() > 1 ? UUID.randomUUID().toString() : null;
    }

    private static String etag(Transport.Reply reply) {
        return reply.headers().firstValue("ETag").orElse(null);
    }

    private static Instant expiresAt(Transport.Reply reply) {
        String text = reply.headers().firstValue("Cairn-Expires-At").orElse(null);
        if (text == null) {
            return null;
        }
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            // The write or read happened; an unreadable expiry does not undo it.
            return null;
        }
    }

    private static boolean flag(Transport.Reply reply, String header, boolean absent) {
        return reply.headers().firstValue(header).map(v -> v.trim().equalsIgnoreCase("true")).orElse(absent);
    }

    private static Throwable unwrap(Throwable error) {
        Throwable t = error;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /**
     * The result of a sync call. Its failure is rethrown as it is (a {@link CairnException}, or an
     * exception of the caller's own {@code change} function). An interrupt stops the wait, not the
     * request: a write's outcome is then unknown.
     */
    private static <T> T await(CompletableFuture<T> future, boolean write) {
        try {
            return future.get();
        } catch (ExecutionException e) {
            Throwable cause = unwrap(e);
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new CairnException("client_error", String.valueOf(cause), 0, Map.of(), false, null, cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            String message = "interrupted while waiting for the answer";
            throw write ? new OutcomeUnknownException(message + "; the write may or may not be applied", 0, Map.of(), null, null, e)
                    : new CairnException("interrupted", message, 0, Map.of(), false, null, e);
        }
    }

    /** A query string built from safe parts ({@code r}, {@code w}, {@code consistency} values need no escaping). */
    private static final class Query {
        private final StringBuilder text = new StringBuilder();

        Query add(String name, String value) {
            text.append(text.isEmpty() ? '?' : '&').append(name).append('=').append(value);
            return this;
        }

        @Override
        public String toString() {
            return text.toString();
        }
    }

    /**
     * Configures a {@link CairnClient}. Only the endpoints are required.
     */
    public static final class Builder {
        private final List<URI> endpoints = new ArrayList<>();
        private Supplier<String> token = () -> null;
        private Duration connectTimeout = Duration.ofSeconds(2);
        private Duration requestTimeout = Duration.ofSeconds(10);
        private RetryPolicy retryPolicy = RetryPolicy.defaults();
        private String namespace;
        private EndpointSelection selection = EndpointSelection.ROUND_ROBIN;
        private Duration endpointDownTime = Duration.ofSeconds(5);
        private int causalTokens = 10_000;
        private RequestListener listener = RequestListener.NONE;
        private Executor executor;
        private SSLContext sslContext;
        private long maxResponseBytes = 64L << 20;

        private Builder() {}

        /** A node: {@code http://host:port}, {@code https://host:port} or {@code host:port}. */
        public Builder endpoint(String endpoint) {
            endpoints.add(Endpoints.parse(Objects.requireNonNull(endpoint, "endpoint")));
            return this;
        }

        /** Several nodes; the order matters for {@link EndpointSelection#PREFERRED_FIRST}. */
        public Builder endpoints(String... endpoints) {
            for (String e : endpoints) {
                endpoint(e);
            }
            return this;
        }

        public Builder endpoints(Collection<String> endpoints) {
            endpoints.forEach(this::endpoint);
            return this;
        }

        /** The bearer token sent as {@code Authorization: Bearer <token>}; null for a node without authentication. */
        public Builder token(String token) {
            this.token = () -> token;
            return this;
        }

        /** Asked for the token on every attempt: for tokens that rotate. Returns null for none. */
        public Builder tokenSupplier(Supplier<String> token) {
            this.token = Objects.requireNonNull(token, "token");
            return this;
        }

        /** How long establishing a connection may take (default 2 s); then the next endpoint is tried. */
        public Builder connectTimeout(Duration connectTimeout) {
            this.connectTimeout = positive(connectTimeout, "connectTimeout");
            return this;
        }

        /**
         * How long one attempt may wait for its answer (default 10 s: longer than the server's own
         * request timeout, so that the server's {@code 504 outcome_unknown} normally comes first).
         */
        public Builder requestTimeout(Duration requestTimeout) {
            this.requestTimeout = positive(requestTimeout, "requestTimeout");
            return this;
        }

        public Builder retryPolicy(RetryPolicy retryPolicy) {
            this.retryPolicy = Objects.requireNonNull(retryPolicy, "retryPolicy");
            return this;
        }

        /** The namespace the client addresses (default: the default namespace). */
        public Builder namespace(String namespace) {
            this.namespace = Keys.namespace(Objects.requireNonNull(namespace, "namespace"));
            return this;
        }

        /** Round-robin (the default) or preferred-first. */
        public Builder endpointSelection(EndpointSelection selection) {
            this.selection = Objects.requireNonNull(selection, "selection");
            return this;
        }

        /** How long an endpoint that failed at the connection level is skipped (default 5 s). */
        public Builder endpointDownTime(Duration downTime) {
            this.endpointDownTime = positive(downTime, "downTime");
            return this;
        }

        /** How many keys' causal tokens the client remembers (default 10 000; 0 sends none). */
        public Builder causalTokenCacheSize(int keys) {
            if (keys < 0) {
                throw new IllegalArgumentException("the causal token cache holds at least 0 keys, got " + keys);
            }
            this.causalTokens = keys;
            return this;
        }

        /** Told about every attempt, for metrics. */
        public Builder listener(RequestListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * Runs the HTTP client's work, the completion of async calls and retries after their
         * back-off (default: the HTTP client's own threads).
         */
        public Builder executor(Executor executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /** The TLS context for {@code https://} endpoints (default: the JVM's). */
        public Builder sslContext(SSLContext sslContext) {
            this.sslContext = Objects.requireNonNull(sslContext, "sslContext");
            return this;
        }

        /** The largest answer body the client reads (default 64 MiB); a larger one fails the request. */
        public Builder maxResponseBytes(long maxResponseBytes) {
            if (maxResponseBytes < 1024) {
                throw new IllegalArgumentException("maxResponseBytes is at least 1024, got " + maxResponseBytes);
            }
            this.maxResponseBytes = maxResponseBytes;
            return this;
        }

        public CairnClient build() {
            if (endpoints.isEmpty()) {
                throw new IllegalArgumentException("at least one endpoint is needed (http://host:port or host:port)");
            }
            HttpClient.Builder http = HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(connectTimeout)
                    .followRedirects(HttpClient.Redirect.NEVER);
            if (executor != null) {
                http.executor(executor);
            }
            if (sslContext != null) {
                http.sslContext(sslContext);
            }
            // Retries wait on the JDK's delay scheduler and then only send (non-blocking), unless an executor is given.
            Executor retries = executor != null ? executor : Runnable::run;
            Endpoints nodes = new Endpoints(endpoints, selection, endpointDownTime.toNanos(), System::nanoTime);
            Transport transport = new Transport(http.build(), nodes, retryPolicy, listener, token, requestTimeout, maxResponseBytes, retries,
                    () -> ThreadLocalRandom.current().nextDouble());
            return new CairnClient(transport, new CausalTokens(causalTokens), namespace, true);
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
