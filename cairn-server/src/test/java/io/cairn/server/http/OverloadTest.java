package io.cairn.server.http;

import static io.cairn.server.http.TestNode.describe;
import static io.cairn.server.http.TestNode.json;
import static io.cairn.server.http.TestNode.text;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Admission control: with a one-slot write queue and many concurrent writers, the node refuses
 * fast with 503 overloaded and Retry-After, and the refusal is honest: every acknowledged write
 * is stored, every refused write is not.
 */
class OverloadTest {
    private static final int THREADS = 64;
    private static final int WRITES_PER_THREAD = 20;

    @TempDir
    Path dir;

    @Test
    void fullQueueRefusesWith503AndLosesNothingAcknowledged() throws Exception {
        try (TestNode node = TestNode.start(dir, "write.queueCapacity", "1")) {
            Map<String, Integer> outcome = new ConcurrentHashMap<>();
            List<String> unexpected = java.util.Collections.synchronizedList(new ArrayList<>());
            CountDownLatch go = new CountDownLatch(1);
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                List<Future<?>> workers = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    int thread = t;
                    workers.add(pool.submit(() -> {
                        go.await();
                        for (int i = 0; i < WRITES_PER_THREAD; i++) {
                            String key = "k-" + thread + "-" + i;
                            HttpResponse<byte[]> r = node.put("/kv/" + key, "value-" + key);
                            outcome.put(key, r.statusCode());
                            if (r.statusCode() == 503) {
                                if (!json(r).path("code").asText().equals("overloaded") || r.headers().firstValue("Retry-After").isEmpty()) {
                                    unexpected.add(describe(r));
                                }
                            } else if (r.statusCode() != 200) {
                                unexpected.add(describe(r));
                            }
                        }
                        return null;
                    }));
                }
                go.countDown();
                for (Future<?> w : workers) {
                    w.get(60, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(unexpected).isEmpty();
            assertThat(outcome).hasSize(THREADS * WRITES_PER_THREAD);
            long refused = outcome.values().stream().filter(s -> s == 503).count();
            assertThat(refused).as("some writes refused").isPositive();
            assertThat(refused).as("some writes accepted").isLessThan(outcome.size());
            for (Map.Entry<String, Integer> e : outcome.entrySet()) {
                HttpResponse<byte[]> get = node.get("/kv/" + e.getKey());
                if (e.getValue() == 200) {
                    assertThat(get.statusCode()).as("acknowledged write lost: " + e.getKey()).isEqualTo(200);
                    assertThat(text(get)).isEqualTo("value-" + e.getKey());
                } else {
                    assertThat(get.statusCode()).as("refused write applied: " + e.getKey()).isEqualTo(404);
                }
            }
            assertThat(node.metric("cairn_http_request_duration_seconds_count{op=\"put\",status=\"503\"}")).isEqualTo(refused);
            assertThat(node.get("/ready").statusCode()).isEqualTo(200);
        }
    }
}
