package io.cairn.server.http;

import static io.cairn.server.http.TestNode.describe;
import static io.cairn.server.http.TestNode.json;
import static io.cairn.server.http.TestNode.text;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Expiry as clients see it (live until the expiry instant, gone from then on), the configured
 * default TTL, and the background sweeper that purges expired records without touching records
 * that were overwritten.
 */
class HttpTtlTest {
    @TempDir
    Path dir;

    @Test
    void valueIsVisibleUntilItsExpiryAndGoneRightAfter() throws Exception {
        try (TestNode node = TestNode.start(dir)) {
            HttpResponse<byte[]> put = node.put("/kv/short?ttl=1s", "v");
            assertThat(put.statusCode()).isEqualTo(200);
            long expiresAt = Instant.parse(put.headers().firstValue("Cairn-Expires-At").orElseThrow()).toEpochMilli();
            long deadline = System.currentTimeMillis() + 3000;
            boolean gone = false;
            while (!gone && System.currentTimeMillis() < deadline) {
                long before = System.currentTimeMillis();
                HttpResponse<byte[]> get = node.get("/kv/short");
                long after = System.currentTimeMillis();
                if (get.statusCode() == 200) {
                    assertThat(before).as("served after its expiry").isLessThan(expiresAt);
                    assertThat(text(get)).isEqualTo("v");
                } else {
                    assertThat(get.statusCode()).as(describe(get)).isEqualTo(404);
                    assertThat(json(get).path("code").asText()).isEqualTo("key_not_found");
                    assertThat(after).as("gone before its expiry").isGreaterThanOrEqualTo(expiresAt);
                    gone = true;
                }
                Thread.sleep(20);
            }
            assertThat(gone).isTrue();
        }
    }

    @Test
    void expiredIs404At1100Millis() throws Exception {
        try (TestNode node = TestNode.start(dir)) {
            long start = System.currentTimeMillis();
            assertThat(node.put("/kv/k", "v", "Cairn-TTL", "1s").statusCode()).isEqualTo(200);
            assertThat(node.get("/kv/k").statusCode()).isEqualTo(200);
            Thread.sleep(Math.max(0, start + 1100 - System.currentTimeMillis()));
            assertThat(node.get("/kv/k").statusCode()).isEqualTo(404);
            assertThat(node.head("/kv/k").statusCode()).isEqualTo(404);
            // An expired key is absent for conditions too.
            assertThat(node.put("/kv/k", "w", "If-Match", "*").statusCode()).isEqualTo(412);
            assertThat(node.put("/kv/k", "w", "If-None-Match", "*").statusCode()).isEqualTo(200);
            assertThat(text(node.get("/kv/k"))).isEqualTo("w");
        }
    }

    @Test
    void defaultTtlAppliesUnlessNoneIsGiven() throws Exception {
        try (TestNode node = TestNode.start(dir, "ttl.default", "1s")) {
            long start = System.currentTimeMillis();
            HttpResponse<byte[]> defaulted = node.put("/kv/d", "v");
            assertThat(defaulted.headers().firstValue("Cairn-Expires-At")).isPresent();
            long expires = Instant.parse(defaulted.headers().firstValue("Cairn-Expires-At").get()).toEpochMilli();
            assertThat(expires).isBetween(start + 900, System.currentTimeMillis() + 1100);
            HttpResponse<byte[]> forever = node.put("/kv/n?ttl=none", "v");
            assertThat(forever.headers().firstValue("Cairn-Expires-At")).isEmpty();
            node.put("/kv/h", "v", "Cairn-TTL", "none");
            node.put("/kv/l", "v", "Cairn-TTL", "1h");
            node.batch("[{\"op\":\"put\",\"key\":\"bd\",\"value\":\"v\"},{\"op\":\"put\",\"key\":\"bn\",\"value\":\"v\",\"ttl\":\"none\"}]");
            // The batch was stamped before it answered: its default TTL ends at most 1 s after now.
            long batchExpiresBy = System.currentTimeMillis() + 1000;
            assertThat(node.status().path("config").path("defaultTtl").asText()).isEqualTo("PT1S");
            Thread.sleep(Math.max(0, Math.max(expires, batchExpiresBy) + 50 - System.currentTimeMillis()));
            assertThat(node.get("/kv/d").statusCode()).isEqualTo(404);
            assertThat(node.get("/kv/bd").statusCode()).isEqualTo(404);
            assertThat(node.get("/kv/n").statusCode()).isEqualTo(200);
            assertThat(node.get("/kv/h").statusCode()).isEqualTo(200);
            assertThat(node.get("/kv/l").statusCode()).isEqualTo(200);
            assertThat(node.get("/kv/bn").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void sweeperPurgesExpiredRecordsButNotOverwrittenOnes() throws Exception {
        try (TestNode node = TestNode.start(dir, "ttl.purgeGrace", "0s", "ttl.sweepInterval", "100ms", "ttl.sweepBatchSize", "10")) {
            StringBuilder ops = new StringBuilder("[");
            for (int i = 0; i < 200; i++) {
                ops.append(i == 0 ? "" : ",").append("{\"op\":\"put\",\"key\":\"exp-").append(i).append("\",\"value\":\"v\",\"ttl\":\"500ms\"}");
            }
            assertThat(node.batch(ops.append("]").toString()).statusCode()).isEqualTo(200);
            assertThat(node.put("/kv/keep?ttl=500ms", "expiring").statusCode()).isEqualTo(200);
            assertThat(node.put("/kv/keep", "forever").statusCode()).isEqualTo(200);
            assertThat(node.put("/kv/longer?ttl=500ms", "expiring").statusCode()).isEqualTo(200);
            assertThat(node.put("/kv/longer?ttl=1h", "later").statusCode()).isEqualTo(200);

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (node.metric("cairn_ttl_expired_purged_total") < 200 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(node.metric("cairn_ttl_expired_purged_total")).isEqualTo(200);
            while (node.metric("cairn_ttl_sweep_backlog") != 0 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(node.metric("cairn_ttl_sweep_backlog")).isZero();
            assertThat(node.status().path("backlogs").path("ttlSweep").asLong()).isZero();
            // The overwrites left stale index entries; the sweeper dropped them and kept the records.
            Thread.sleep(300);
            assertThat(node.metric("cairn_ttl_expired_purged_total")).isEqualTo(200);
            assertThat(node.metric("cairn_ttl_stale_entries_total")).isGreaterThanOrEqualTo(2);
            assertThat(text(node.get("/kv/keep"))).isEqualTo("forever");
            assertThat(text(node.get("/kv/longer"))).isEqualTo("later");
            JsonNode results = json(node.batch("[{\"op\":\"get\",\"key\":\"exp-0\"},{\"op\":\"get\",\"key\":\"exp-199\"}]")).get("results");
            assertThat(results.get(0).path("status").asInt()).isEqualTo(404);
            assertThat(results.get(1).path("status").asInt()).isEqualTo(404);
        }
    }

    @Test
    void sweptKeysStayGoneAcrossARestart() throws Exception {
        try (TestNode node = TestNode.start(dir, "ttl.purgeGrace", "0s", "ttl.sweepInterval", "100ms")) {
            node.put("/kv/r?ttl=300ms", "v");
            node.put("/kv/s", "stays");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (node.metric("cairn_ttl_expired_purged_total") < 1 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(node.metric("cairn_ttl_expired_purged_total")).isEqualTo(1);
        }
        try (TestNode node = TestNode.start(dir)) {
            assertThat(node.get("/kv/r").statusCode()).isEqualTo(404);
            assertThat(text(node.get("/kv/s"))).isEqualTo("stays");
        }
    }
}
