package io.cairn.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.client.example.Example;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client against a real node in this JVM: every feature of the API it wraps, as the node
 * really answers it (keys, conditions, TTLs, quorums, serial reads, namespaces, batches,
 * idempotent replays, compare-and-swap under contention, authentication), and the example.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CairnClientNodeTest {
    @TempDir
    static Path tmp;

    private LocalNode node;
    private CairnClient cairn;

    @BeforeAll
    void start() {
        node = LocalNode.start(tmp.resolve("node"), LocalNode.newAdminToken(tmp));
        cairn = CairnClient.builder().endpoint(node.url()).token(node.adminToken).build();
    }

    @AfterAll
    void stop() {
        if (cairn != null) {
            cairn.close();
        }
        if (node != null) {
            node.close();
        }
        assertThat(node.exits).as("fatal errors").isEmpty();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void writesReadsAndDeletesAnyKeyAndAnyBytes() {
        byte[] binary = {0, 1, 2, (byte) 0xFF, (byte) 0xC3};
        for (String key : List.of("plain", "a/b", "a+b c", "100%", "é/日本/😀", ".", "..", "?q=1#f")) {
            WriteResult put = cairn.put(key, binary, WriteOptions.defaults().contentType("application/x-test"));
            Value v = cairn.get(key).orElseThrow(() -> new AssertionError("no value for " + key));
            assertThat(v.bytes()).as(key).containsExactly(binary);
            assertThat(v.contentType()).isEqualTo("application/x-test");
            assertThat(v.etag()).isEqualTo(put.etag());
            assertThat(v.key()).isEqualTo(key);
            WriteResult deleted = cairn.delete(key);
            assertThat(deleted.etag()).isNotEqualTo(put.etag());
            assertThat(cairn.get(key)).as(key).isEmpty();
        }
        assertThat(cairn.delete("never-written").etag()).as("deletes are idempotent").isNotNull();
        cairn.put("text", "hello");
        assertThat(cairn.get("text").orElseThrow().contentType()).startsWith("text/plain");
        byte[] large = new byte[300 * 1024];
        new java.util.Random(1).nextBytes(large);
        cairn.put("large", large);
        assertThat(cairn.get("large").orElseThrow().bytes()).as("sent with Expect: 100-continue").isEqualTo(large);
        cairn.put("empty", new byte[0]);
        assertThat(cairn.get("empty").orElseThrow().size()).isZero();
        assertThatThrownBy(() -> cairn.get("k".repeat(1025))).isInstanceOf(InvalidRequestException.class)
                .extracting(e -> ((CairnException) e).code()).isEqualTo("key_too_long");
    }

    @Test
    void conditionsAreCompareAndSwap() {
        WriteResult created = cairn.put("cas", bytes("1"), WriteOptions.defaults().ifAbsent());
        assertThatThrownBy(() -> cairn.put("cas", bytes("x"), WriteOptions.defaults().ifAbsent()))
                .isInstanceOf(PreconditionFailedException.class)
                .satisfies(e -> assertThat(((PreconditionFailedException) e).currentEtag()).contains(created.etag()));
        WriteResult swapped = cairn.put("cas", bytes("2"), WriteOptions.defaults().ifMatch(created.etag()));
        assertThatThrownBy(() -> cairn.put("cas", bytes("3"), WriteOptions.defaults().ifMatch(created.etag())))
                .isInstanceOf(PreconditionFailedException.class);
        assertThatThrownBy(() -> cairn.delete("cas", WriteOptions.defaults().ifMatch(created.etag())))
                .isInstanceOf(PreconditionFailedException.class);
        assertThat(cairn.get("cas").orElseThrow().asString()).isEqualTo("2");
        cairn.delete("cas", WriteOptions.defaults().ifMatch(swapped.etag()));
        assertThatThrownBy(() -> cairn.put("cas", bytes("4"), WriteOptions.defaults().ifExists()))
                .isInstanceOf(PreconditionFailedException.class)
                .satisfies(e -> assertThat(((PreconditionFailedException) e).currentEtag()).isEmpty());
    }

    @Test
    void ttlsQuorumsAndSerialReads() throws InterruptedException {
        WriteResult put = cairn.put("short", bytes("x"), WriteOptions.defaults().ttl(Duration.ofMillis(800)).w(Quorum.ALL));
        assertThat(put.expiresAt()).isPresent();
        assertThat(cairn.get("short", ReadOptions.defaults().r(Quorum.ONE)).orElseThrow().expiresAt()).isEqualTo(put.expiresAt());
        assertThat(cairn.get("short", ReadOptions.defaults().serial())).isPresent();
        Thread.sleep(Math.max(0, Duration.between(java.time.Instant.now(), put.expiresAt().orElseThrow()).toMillis()) + 50);
        assertThat(cairn.get("short")).as("expired").isEmpty();
        assertThat(cairn.put("forever", bytes("x"), WriteOptions.defaults().noExpiry().w(Quorum.of(1))).expiresAt()).isEmpty();
        assertThatThrownBy(() -> cairn.get("forever", ReadOptions.defaults().r(Quorum.of(2)))).isInstanceOf(InvalidRequestException.class)
                .extracting(e -> ((CairnException) e).code()).isEqualTo("invalid_quorum");
    }

    @Test
    void theSameIdempotencyKeyAppliesAWriteOnce() {
        WriteOptions once = WriteOptions.defaults().idempotencyKey("order-" + System.nanoTime());
        WriteResult first = cairn.put("order", bytes("paid"), once);
        cairn.put("order", bytes("shipped"));
        WriteResult again = cairn.put("order", bytes("paid"), once);
        assertThat(first.replayed()).isFalse();
        assertThat(again.replayed()).isTrue();
        assertThat(again.etag()).isEqualTo(first.etag());
        assertThat(cairn.get("order").orElseThrow().asString()).as("the replay applied nothing").isEqualTo("shipped");
        assertThatThrownBy(() -> cairn.put("order", bytes("refunded"), once)).isInstanceOf(InvalidRequestException.class)
                .extracting(e -> ((CairnException) e).code()).isEqualTo("idempotency_key_reused");
        WriteResult automatic = cairn.put("order", bytes("x"));
        assertThat(automatic.idempotencyKey()).isPresent();
    }

    @Test
    void batchesRunInOrderWithAResultEach() {
        cairn.put("b-existing", bytes("old"));
        BatchResult r = cairn.batch(Batch.builder()
                .put("b-text", bytes("text value"), WriteOptions.defaults().contentType("text/plain").ttl(Duration.ofMinutes(5)))
                .put("b-bin", new byte[] {0, (byte) 0xFE})
                .get("b-text")
                .get("b-bin")
                .put("b-existing", bytes("new"), WriteOptions.defaults().ifAbsent())
                .delete("b-existing")
                .get("b-existing")
                .build());
        assertThat(r.items()).extracting(BatchResult.Item::status).containsExactly(200, 200, 200, 200, 412, 204, 404);
        assertThat(r.get(2).value().orElseThrow().asString()).isEqualTo("text value");
        assertThat(r.get(2).value().orElseThrow().contentType()).isEqualTo("text/plain");
        assertThat(r.get(2).expiresAt()).isPresent();
        assertThat(r.get(3).value().orElseThrow().bytes()).containsExactly(0, 0xFE);
        assertThat(r.get(4).failure()).containsInstanceOf(PreconditionFailedException.class);
        assertThat(r.get(4).currentEtag()).isPresent();
        assertThat(r.get(6).value()).isEmpty();
        assertThat(cairn.get("b-text").orElseThrow().etag()).isEqualTo(r.get(0).etag().orElseThrow());
    }

    @Test
    void namespacesAreKeySpacesOfTheirOwn() {
        HttpResponse<String> created = node.admin("PUT", "/admin/namespaces/sessions", "{\"defaultTtl\": \"30m\"}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
        CairnClient sessions = cairn.namespace("sessions");
        assertThat(sessions.namespace()).isEqualTo("sessions");
        assertThat(sessions.put("abc", bytes("cart=3")).expiresAt()).as("the namespace's default TTL").isPresent();
        assertThat(sessions.get("abc").orElseThrow().asString()).isEqualTo("cart=3");
        assertThat(cairn.get("abc")).as("the default namespace is another key space").isEmpty();
        BatchResult batch = sessions.batch(Batch.builder().get("abc").build());
        assertThat(batch.get(0).value().orElseThrow().asString()).isEqualTo("cart=3");
        sessions.close();
        assertThat(sessions.get("abc")).as("closing a view closes nothing").isPresent();
        assertThatThrownBy(() -> cairn.namespace("nowhere").get("abc")).isInstanceOf(InvalidRequestException.class)
                .extracting(e -> ((CairnException) e).code()).isEqualTo("namespace_not_found");
    }

    @Test
    void concurrentUpdatesNeverLoseAnIncrement() throws Exception {
        int threads = 4;
        int increments = 25;
        try (CairnClient contended = CairnClient.builder().endpoint(node.url()).token(node.adminToken)
                .retryPolicy(RetryPolicy.builder().maxCasAttempts(200).initialBackoff(Duration.ofMillis(1)).maxBackoff(Duration.ofMillis(20)).build())
                .build()) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    done.add(pool.submit(() -> {
                        for (int i = 0; i < increments; i++) {
                            contended.update("counter", v -> bytes(Long.toString(v.map(x -> Long.parseLong(x.asString())).orElse(0L) + 1)));
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(contended.get("counter").orElseThrow().asString()).isEqualTo(Integer.toString(threads * increments));
            Optional<Value> gone = contended.update("counter", v -> null);
            assertThat(gone).isEmpty();
            assertThat(contended.get("counter")).isEmpty();
            assertThat(contended.updateAsync("counter", v -> null).get()).as("absent and staying absent").isEmpty();
        }
    }

    @Test
    void refusedCredentialsAreAuthErrors() {
        try (CairnClient anonymous = CairnClient.builder().endpoint(node.url()).build();
             CairnClient wrong = CairnClient.builder().endpoint(node.url()).token("cairn_0123456789abcdef_" + "x".repeat(43)).build()) {
            assertThatThrownBy(() -> anonymous.get("k")).isInstanceOf(AuthException.class)
                    .satisfies(e -> assertThat(((CairnException) e).status()).isEqualTo(401));
            assertThatThrownBy(() -> wrong.put("k", bytes("v"))).isInstanceOf(AuthException.class);
        }
        HttpResponse<String> issued = node.admin("POST", "/admin/auth/tokens", "{\"name\": \"reader\", \"roles\": [\"read:default\"]}");
        assertThat(issued.statusCode()).as(issued.body()).isEqualTo(201);
        String token = LocalNode.json(issued).path("token").asText();
        try (CairnClient reader = CairnClient.builder().endpoint(node.url()).token(token).build()) {
            cairn.put("readable", bytes("v"));
            assertThat(reader.get("readable")).isPresent();
            assertThatThrownBy(() -> reader.put("readable", bytes("w"))).isInstanceOf(AuthException.class)
                    .satisfies(e -> assertThat(((CairnException) e).status()).isEqualTo(403));
        }
    }

    @Test
    void aValueOverTheLimitIsRefusedAsSuch() {
        assertThatThrownBy(() -> cairn.put("big", new byte[(1 << 20) + 1])).isInstanceOf(InvalidRequestException.class)
                .extracting(e -> ((CairnException) e).code()).isEqualTo("value_too_large");
    }

    @Test
    void theExampleRuns() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Example.run(node.url(), node.adminToken, new PrintStream(out, true, StandardCharsets.UTF_8));
        String printed = out.toString(StandardCharsets.UTF_8);
        assertThat(printed).contains("get example:greeting -> hello from the Java client").contains("counter -> ").contains("replayed=true");
    }
}
