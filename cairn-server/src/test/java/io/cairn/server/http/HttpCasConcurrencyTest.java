package io.cairn.server.http;

import static io.cairn.server.http.TestNode.describe;
import static io.cairn.server.http.TestNode.etag;
import static io.cairn.server.http.TestNode.json;
import static io.cairn.server.http.TestNode.text;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compare-and-set through If-Match is linearizable on one node: concurrent read-increment-write
 * loops on one counter never lose an update, and every refused attempt is a 412 naming the
 * version that beat it.
 */
class HttpCasConcurrencyTest {
    private static final int THREADS = 8;
    private static final int ATTEMPTS_PER_THREAD = 200;

    @TempDir
    Path dir;

    @Test
    void concurrentIncrementsLoseNoUpdate() throws Exception {
        try (TestNode node = TestNode.start(dir)) {
            String path = "/kv/counter";
            assertThat(node.put(path, "0").statusCode()).isEqualTo(200);
            AtomicInteger ok = new AtomicInteger();
            AtomicInteger conflicts = new AtomicInteger();
            Set<Integer> written = ConcurrentHashMap.newKeySet();
            Set<String> etags = ConcurrentHashMap.newKeySet();
            List<String> unexpected = new ArrayList<>();
            CountDownLatch go = new CountDownLatch(1);
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                List<Future<?>> workers = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    workers.add(pool.submit(() -> {
                        go.await();
                        for (int i = 0; i < ATTEMPTS_PER_THREAD; i++) {
                            HttpResponse<byte[]> get = node.get(path);
                            assertThat(get.statusCode()).as(describe(get)).isEqualTo(200);
                            int next = Integer.parseInt(text(get)) + 1;
                            HttpResponse<byte[]> put = node.put(path, Integer.toString(next), "If-Match", etag(get));
                            if (put.statusCode() == 200) {
                                ok.incrementAndGet();
                                // Two acknowledged writes of the same value would be a lost update.
                                if (!written.add(next) || !etags.add(etag(put))) {
                                    synchronized (unexpected) {
                                        unexpected.add("duplicate acknowledged write " + next + " " + etag(put));
                                    }
                                }
                            } else if (put.statusCode() == 412) {
                                conflicts.incrementAndGet();
                                String current = json(put).path("currentEtag").asText();
                                if (current.isEmpty() || current.equals(etag(get)) || !current.equals(etag(put))) {
                                    synchronized (unexpected) {
                                        unexpected.add("412 without a newer current version: " + describe(put));
                                    }
                                }
                            } else {
                                synchronized (unexpected) {
                                    unexpected.add(describe(put));
                                }
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
            assertThat(ok.get() + conflicts.get()).isEqualTo(THREADS * ATTEMPTS_PER_THREAD);
            assertThat(ok.get()).isPositive();
            HttpResponse<byte[]> end = node.get(path);
            assertThat(Integer.parseInt(text(end))).isEqualTo(ok.get());
            // The acknowledged values are exactly 1..n: each increment built on the one before.
            assertThat(written).isEqualTo(IntStream.rangeClosed(1, ok.get()).boxed().collect(Collectors.toSet()));
            assertThat(node.metric("cairn_http_request_duration_seconds_count{op=\"put\",status=\"412\"}")).isEqualTo(conflicts.get());
        }
    }
}
