package io.cairn.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.request.IdempotencyTag;
import io.cairn.invariant.Invariant;
import io.cairn.placement.Quorum;
import io.cairn.request.Answer;
import io.cairn.request.Limits;
import io.cairn.request.Op;
import io.cairn.request.WriteOutcome;
import io.cairn.server.config.ConfigLoader;
import io.cairn.server.health.NodeHealth;
import io.cairn.server.metrics.NodeMetrics;
import io.cairn.server.security.AuditSink;
import io.cairn.server.service.KvService;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What the HTTP front end makes of a service failing a request instead of answering it: an
 * ordinary bug fails that one request (500) and the node goes on; an invariant violation is
 * fatal, on whatever thread the failure surfaces, rather than one more 500.
 */
class ServiceFailureTest {
    private final NodeHealth health = new NodeHealth(false, status -> { });
    private HttpFrontEnd http;
    private Supplier<Map<String, Object>> readiness = () -> Map.of("ready", true);

    @AfterEach
    void close() {
        if (http != null) {
            http.close();
        }
    }

    @Test
    void anInvariantViolationFailingAReadLaterIsFatalNotJustA500() throws Exception {
        start(() -> failLater(Invariant.violated("the service's state is broken")));

        HttpResponse<String> response = get("/kv/k");

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(health.healthy()).isFalse();
        assertThat(health.fatalReason()).startsWith("http:").contains("the service's state is broken");
    }

    @Test
    void anInvariantViolationFailingAReadAtOnceIsFatal() throws Exception {
        start(() -> CompletableFuture.failedFuture(Invariant.violated("broken before answering")));

        // It surfaces on the connection's own thread, which reports it and closes the connection.
        assertThatThrownBy(() -> get("/kv/k")).isInstanceOf(java.io.IOException.class);

        assertThat(health.fatalReason()).startsWith("http:").contains("broken before answering");
    }

    @Test
    void anotherBugFailingAReadIsA500AndTheNodeGoesOn() throws Exception {
        start(() -> failLater(new IllegalArgumentException("a bug in one request")));

        HttpResponse<String> response = get("/kv/k");

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.body()).contains("a bug in one request");
        assertThat(health.healthy()).isTrue();
    }

    /**
     * Readiness that changes between two readings (a node falling behind its peers, catching up)
     * must not give a status and a body that disagree: each answer is one reading.
     */
    @Test
    void aProbeAnswersOneReadingOfReadinessNotTwo() throws Exception {
        java.util.concurrent.atomic.AtomicLong readings = new java.util.concurrent.atomic.AtomicLong();
        readiness = () -> Map.of("ready", readings.incrementAndGet() % 2 == 0);
        start(() -> CompletableFuture.completedFuture(null));

        for (int i = 0; i < 6; i++) {
            HttpResponse<String> ready = get("/ready");
            assertThat(ready.statusCode()).as(ready.body()).isEqualTo(ready.body().contains("\"ready\":true") ? 200 : 503);
            HttpResponse<String> verbose = get("/readyz?verbose");
            assertThat(verbose.statusCode()).as(verbose.body()).isEqualTo(verbose.body().contains("\"ready\":true") ? 200 : 503);
        }
        assertThat(readings.get()).as("one reading per answer").isEqualTo(12);
    }

    private void start(Supplier<CompletableFuture<Answer>> reads) throws InterruptedException {
        KvService service = new KvService() {
            @Override
            public CompletableFuture<WriteOutcome> write(List<Op> ops, IdempotencyTag idempotency, Quorum r, Quorum w, long deadlineNanos) {
                throw new UnsupportedOperationException("reads only");
            }

            @Override
            public CompletableFuture<Answer> read(byte[] key, Quorum r, long deadlineNanos) {
                return reads.get();
            }

            @Override
            public boolean replicated() {
                return false;
            }
        };
        NodeMetrics metrics = new NodeMetrics();
        NodeApi api = new NodeApi(Limits.DEFAULTS, service, null, metrics, Duration.ofHours(1),
                readiness, () -> Map.of("status", health.healthy() ? "ok" : "failed"), Map::of, AuditSink.NONE, null, null, false);
        http = new HttpFrontEnd("127.0.0.1", 0, 1, ConfigLoader.load(null, Map.of()).http().limits(), api, metrics, health);
    }

    /** A future failed from another thread, once the front end is waiting for it. */
    private static CompletableFuture<Answer> failLater(RuntimeException failure) {
        CompletableFuture<Answer> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            f.completeExceptionally(failure);
        }, "test-service");
        t.setDaemon(true);
        t.start();
        return f;
    }

    private HttpResponse<String> get(String path) throws Exception {
        try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + path))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        }
    }
}
