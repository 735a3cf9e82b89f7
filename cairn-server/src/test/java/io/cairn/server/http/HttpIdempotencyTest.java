package io.cairn.server.http;

import static io.cairn.server.http.TestNode.describe;
import static io.cairn.server.http.TestNode.etag;
import static io.cairn.server.http.TestNode.json;
import static io.cairn.server.http.TestNode.text;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Idempotency keys: a retry replays the stored outcome (same status, same ETag, marked
 * {@code Idempotent-Replayed}) without writing again, a reused key with another request is
 * refused, concurrent retries apply once, and outcomes survive a restart and expire after the
 * retention.
 */
class HttpIdempotencyTest {
    private static final String KEY = "Idempotency-Key";
    private static final String REPLAYED = "Idempotent-Replayed";

    @TempDir
    Path dir;

    private static boolean replayed(HttpResponse<byte[]> r) {
        return r.headers().firstValue(REPLAYED).map("true"::equals).orElse(false);
    }

    @Test
    void retryReplaysTheOriginalOutcomeAndDoesNotOverwriteANewerValue() {
        try (TestNode node = TestNode.start(dir)) {
            HttpResponse<byte[]> first = node.put("/kv/a", "from-K", KEY, "K-1", "Content-Type", "text/plain");
            assertThat(first.statusCode()).isEqualTo(200);
            assertThat(first.headers().firstValue(REPLAYED)).isEmpty();
            String original = etag(first);

            HttpResponse<byte[]> newer = node.put("/kv/a", "newer");
            assertThat(newer.statusCode()).isEqualTo(200);

            HttpResponse<byte[]> retry = node.put("/kv/a", "from-K", KEY, "K-1", "Content-Type", "text/plain");
            assertThat(retry.statusCode()).as(describe(retry)).isEqualTo(200);
            assertThat(replayed(retry)).isTrue();
            assertThat(etag(retry)).isEqualTo(original);

            HttpResponse<byte[]> get = node.get("/kv/a");
            assertThat(text(get)).isEqualTo("newer");
            assertThat(etag(get)).isEqualTo(etag(newer));
            assertThat(node.metric("cairn_idempotency_replays_total")).isEqualTo(1);
        }
    }

    @Test
    void retryOfAnExpiringWriteReplaysItsExpiry() {
        try (TestNode node = TestNode.start(dir)) {
            HttpResponse<byte[]> first = node.put("/kv/t?ttl=1h", "v", KEY, "ttl-1");
            HttpResponse<byte[]> retry = node.put("/kv/t?ttl=1h", "v", KEY, "ttl-1");
            assertThat(replayed(retry)).isTrue();
            assertThat(retry.headers().firstValue("Cairn-Expires-At")).isEqualTo(first.headers().firstValue("Cairn-Expires-At")).isPresent();
        }
    }

    @Test
    void sameKeyWithAnotherRequestIs422() {
        try (TestNode node = TestNode.start(dir)) {
            assertThat(node.put("/kv/a", "one", KEY, "K-2").statusCode()).isEqualTo(200);
            String etag = etag(node.get("/kv/a"));
            for (HttpResponse<byte[]> r : List.of(
                    node.put("/kv/a", "two", KEY, "K-2"),
                    node.put("/kv/b", "one", KEY, "K-2"),
                    node.put("/kv/a?ttl=5", "one", KEY, "K-2"),
                    node.put("/kv/a", "one", KEY, "K-2", "Content-Type", "text/plain"),
                    node.put("/kv/a", "one", KEY, "K-2", "If-Match", etag),
                    node.delete("/kv/a", KEY, "K-2"))) {
                assertThat(r.statusCode()).as(describe(r)).isEqualTo(422);
                assertThat(json(r).path("code").asText()).isEqualTo("idempotency_key_reused");
            }
            assertThat(text(node.get("/kv/a"))).isEqualTo("one");
            assertThat(etag(node.get("/kv/a"))).isEqualTo(etag);
            assertThat(node.get("/kv/b").statusCode()).isEqualTo(404);
        }
    }

    @Test
    void deleteAndBatchReplay() {
        try (TestNode node = TestNode.start(dir)) {
            node.put("/kv/d", "x");
            HttpResponse<byte[]> del = node.delete("/kv/d", KEY, "D-1");
            assertThat(del.statusCode()).isEqualTo(204);
            node.put("/kv/d", "rewritten");
            HttpResponse<byte[]> delRetry = node.delete("/kv/d", KEY, "D-1");
            assertThat(delRetry.statusCode()).isEqualTo(204);
            assertThat(replayed(delRetry)).isTrue();
            assertThat(etag(delRetry)).isEqualTo(etag(del));
            assertThat(text(node.get("/kv/d"))).isEqualTo("rewritten");

            String batch = "[{\"op\":\"put\",\"key\":\"b1\",\"value\":\"1\"},{\"op\":\"get\",\"key\":\"b1\"},{\"op\":\"delete\",\"key\":\"b2\"}]";
            HttpResponse<byte[]> b = node.batch(batch, KEY, "B-1");
            assertThat(b.statusCode()).isEqualTo(200);
            assertThat(b.headers().firstValue(REPLAYED)).isEmpty();
            node.put("/kv/b1", "changed");
            HttpResponse<byte[]> bRetry = node.batch(batch, KEY, "B-1");
            assertThat(bRetry.statusCode()).isEqualTo(200);
            assertThat(replayed(bRetry)).isTrue();
            assertThat(json(bRetry)).isEqualTo(json(b));
            assertThat(text(node.get("/kv/b1"))).isEqualTo("changed");
            HttpResponse<byte[]> other = node.batch("[{\"op\":\"put\",\"key\":\"b1\",\"value\":\"2\"}]", KEY, "B-1");
            assertThat(other.statusCode()).isEqualTo(422);
            // A batch of reads only takes no key, as a single read does not: there is nothing to
            // replay, and its stored answer would hold every value read (for a caller that may only read).
            HttpResponse<byte[]> read = node.batch("[{\"op\":\"get\",\"key\":\"b1\"}]", KEY, "B-2");
            assertThat(read.statusCode()).isEqualTo(400);
            assertThat(json(read).path("code").asText()).isEqualTo("invalid_header");
            // A refused condition is an outcome like any other and replays as such.
            HttpResponse<byte[]> cond = node.put("/kv/c", "x", KEY, "C-1", "If-Match", "*");
            assertThat(cond.statusCode()).isEqualTo(412);
            node.put("/kv/c", "exists");
            HttpResponse<byte[]> condRetry = node.put("/kv/c", "x", KEY, "C-1", "If-Match", "*");
            assertThat(condRetry.statusCode()).isEqualTo(412);
            assertThat(replayed(condRetry)).isTrue();
            assertThat(text(node.get("/kv/c"))).isEqualTo("exists");
        }
    }

    @Test
    void invalidKeysAre400() {
        try (TestNode node = TestNode.start(dir)) {
            for (String bad : new String[] {"has space", "x".repeat(256), "tab\there"}) {
                HttpResponse<byte[]> r = node.put("/kv/a", "v", KEY, bad);
                assertThat(r.statusCode()).as(bad).isEqualTo(400);
                assertThat(json(r).path("code").asText()).isEqualTo("invalid_idempotency_key");
            }
            try (RawHttp c = new RawHttp(node.port())) {
                c.send(RawHttp.request("PUT", "/kv/a", "v", KEY + ": "));
                RawHttp.Response r = c.read();
                assertThat(r.status()).as(r.toString()).isEqualTo(400);
                c.send(RawHttp.request("PUT", "/kv/a", "v", KEY + ": k1", KEY + ": k2"));
                assertThat(c.read().status()).isEqualTo(400);
                // Non-ASCII bytes (UTF-8 "café", sent raw: HttpClient would rewrite them).
                c.send(RawHttp.request("PUT", "/kv/a", "v", KEY + ": " + new String("caf\u00e9".getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1)));
                assertThat(c.read().json().path("code").asText()).isEqualTo("invalid_idempotency_key");
            }
            assertThat(node.get("/kv/a").statusCode()).isEqualTo(404);
            assertThat(node.put("/kv/a", "v", KEY, "~".repeat(255)).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void concurrentRetriesApplyExactlyOnce() throws Exception {
        try (TestNode node = TestNode.start(dir)) {
            for (int round = 0; round < 5; round++) {
                String ikey = "race-" + round;
                int n = 20;
                CountDownLatch go = new CountDownLatch(1);
                ExecutorService pool = Executors.newFixedThreadPool(n);
                List<HttpResponse<byte[]>> responses = new ArrayList<>();
                try {
                    List<Future<HttpResponse<byte[]>>> futures = new ArrayList<>();
                    for (int i = 0; i < n; i++) {
                        futures.add(pool.submit(() -> {
                            go.await();
                            return node.put("/kv/race", "value-" + ikey, KEY, ikey);
                        }));
                    }
                    go.countDown();
                    for (Future<HttpResponse<byte[]>> f : futures) {
                        responses.add(f.get(30, TimeUnit.SECONDS));
                    }
                } finally {
                    pool.shutdownNow();
                }
                List<HttpResponse<byte[]>> oks = responses.stream().filter(r -> r.statusCode() == 200).toList();
                for (HttpResponse<byte[]> r : responses) {
                    assertThat(r.statusCode()).as(describe(r)).isIn(200, 409);
                    if (r.statusCode() == 409) {
                        assertThat(json(r).path("code").asText()).isEqualTo("idempotency_in_flight");
                        assertThat(r.headers().firstValue("retry-after")).hasValue("1");
                    }
                }
                Set<String> etags = oks.stream().map(TestNode::etag).collect(Collectors.toSet());
                assertThat(etags).as("every 200 names the one applied version").hasSize(1);
                assertThat(oks.stream().filter(r -> !replayed(r)).count()).as("exactly one attempt was applied").isEqualTo(1);
                assertThat(etag(node.get("/kv/race"))).isEqualTo(etags.iterator().next());
            }
            assertThat(node.status().path("backlogs").path("idempotencyRecords").asLong()).isEqualTo(5);
        }
    }

    @Test
    void outcomesSurviveARestart() {
        String original;
        try (TestNode node = TestNode.start(dir)) {
            original = etag(node.put("/kv/r", "v", KEY, "R-1"));
            node.put("/kv/r", "newer");
        }
        try (TestNode node = TestNode.start(dir)) {
            HttpResponse<byte[]> retry = node.put("/kv/r", "v", KEY, "R-1");
            assertThat(retry.statusCode()).isEqualTo(200);
            assertThat(replayed(retry)).isTrue();
            assertThat(etag(retry)).isEqualTo(original);
            assertThat(text(node.get("/kv/r"))).isEqualTo("newer");
            assertThat(node.put("/kv/r", "other", KEY, "R-1").statusCode()).isEqualTo(422);
            assertThat(node.status().path("backlogs").path("idempotencyRecords").asLong()).isEqualTo(1);
        }
    }

    @Test
    void outcomesExpireAfterTheRetention() throws Exception {
        try (TestNode node = TestNode.start(dir, "idempotency.retention", "1s", "ttl.sweepInterval", "100ms")) {
            assertThat(node.put("/kv/e", "first", KEY, "E-1").statusCode()).isEqualTo(200);
            assertThat(node.put("/kv/e", "second", KEY, "E-1").statusCode()).isEqualTo(422);
            assertThat(node.status().path("backlogs").path("idempotencyRecords").asLong()).isEqualTo(1);
            Thread.sleep(1500);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (node.status().path("backlogs").path("idempotencyRecords").asLong() != 0 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(node.status().path("backlogs").path("idempotencyRecords").asLong()).isZero();
            assertThat(node.metric("cairn_ttl_idempotency_purged_total")).isEqualTo(1);
            HttpResponse<byte[]> reuse = node.put("/kv/e", "second", KEY, "E-1");
            assertThat(reuse.statusCode()).as(describe(reuse)).isEqualTo(200);
            assertThat(replayed(reuse)).isFalse();
            assertThat(text(node.get("/kv/e"))).isEqualTo("second");
            assertThat(node.status().path("backlogs").path("idempotencyRecords").asLong()).isEqualTo(1);
        }
    }

    @Test
    void expiredButUnsweptOutcomeIsReplacedNotReplayed() throws Exception {
        try (TestNode node = TestNode.start(dir, "idempotency.retention", "1s", "ttl.sweepInterval", "1h")) {
            assertThat(node.put("/kv/u", "first", KEY, "U-1").statusCode()).isEqualTo(200);
            Thread.sleep(1100);
            HttpResponse<byte[]> reuse = node.put("/kv/u", "second", KEY, "U-1");
            assertThat(reuse.statusCode()).as(describe(reuse)).isEqualTo(200);
            assertThat(replayed(reuse)).isFalse();
            assertThat(node.status().path("backlogs").path("idempotencyRecords").asLong()).isEqualTo(1);
            HttpResponse<byte[]> retry = node.put("/kv/u", "second", KEY, "U-1");
            assertThat(replayed(retry)).isTrue();
            assertThat(etag(retry)).isEqualTo(etag(reuse));
        }
    }
}
