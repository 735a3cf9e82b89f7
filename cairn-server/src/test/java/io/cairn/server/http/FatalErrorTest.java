package io.cairn.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.server.TestPorts;
import io.cairn.server.health.NodeHealth;
import io.netty.util.concurrent.EventExecutor;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fatal errors are fatal and stalls are visible, through the real server: a dead event loop or
 * cluster core takes the node out of /ready and /health at once, is counted, and makes the
 * process exit (here: asks to); a stalled event loop makes the node not ready only while it lasts.
 */
class FatalErrorTest {
    @TempDir
    Path dir;

    @Test
    void aDeadHttpEventLoopIsFatal() throws Exception {
        try (TestNode node = TestNode.start(dir, "http.ioThreads", "2", "node.stallTimeout", "400ms")) {
            assertThat(node.get("/ready").statusCode()).isEqualTo(200);
            List<EventExecutor> loops = new ArrayList<>();
            node.node.httpFrontEnd().eventLoops().forEach(loops::add);
            // The last one is a worker (the first is the acceptor); stop it as a crash would.
            loops.get(loops.size() - 1).shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
            awaitTrue(() -> !node.exits.isEmpty(), "the node asked to exit");
            assertThat(node.exits).containsExactly(NodeHealth.EXIT_STATUS);
            HttpResponse<byte[]> ready = getSomehow(node, "/ready");
            assertThat(ready.statusCode()).isEqualTo(503);
            assertThat(TestNode.json(ready).path("fatalError").asText()).startsWith("http:");
            HttpResponse<byte[]> health = getSomehow(node, "/health");
            assertThat(health.statusCode()).isEqualTo(503);
            assertThat(TestNode.json(health).path("status").asText()).isEqualTo("failed");
            assertThat(TestNode.text(getSomehow(node, "/metrics"))).contains("cairn_fatal_errors_total{component=\"http\"} 1.0");
        }
    }

    @Test
    void aStalledEventLoopMakesTheNodeNotReadyUntilItCatchesUp() throws Exception {
        try (TestNode node = TestNode.start(dir, "http.ioThreads", "2", "node.stallTimeout", "300ms")) {
            List<EventExecutor> loops = new ArrayList<>();
            node.node.httpFrontEnd().eventLoops().forEach(loops::add);
            CountDownLatch release = new CountDownLatch(1);
            loops.get(loops.size() - 1).execute(() -> {
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            try {
                awaitTrue(() -> !node.node.health().stalls().isEmpty(), "the stall is noticed");
                JsonNode ready = TestNode.json(getSomehow(node, "/ready"));
                assertThat(ready.path("ready").asBoolean()).isFalse();
                assertThat(ready.path("stalledThreads").size()).isEqualTo(1);
                // A stall is not fatal: the process can recover.
                assertThat(getSomehow(node, "/health").statusCode()).isEqualTo(200);
            } finally {
                release.countDown();
            }
            awaitTrue(() -> node.node.health().stalls().isEmpty(), "the loop caught up");
            assertThat(node.get("/ready").statusCode()).isEqualTo(200);
            assertThat(node.exits).isEmpty();
        }
    }

    @Test
    void aDeadClusterCoreIsFatal() throws Exception {
        int http = TestPorts.free();
        String member = "1/zone-a/127.0.0.1:" + http + "/127.0.0.1:" + TestPorts.free();
        try (TestNode node = TestNode.start(dir, "http.port", Integer.toString(http), "cluster.members", member,
                "cluster.replicationFactor", "1", "node.stallTimeout", "400ms")) {
            assertThat(node.put("/kv/k", "v").statusCode()).isEqualTo(200);
            // An exception escaping a core task ends the core's thread, as a bug in the core would.
            node.node.clusterCoreExecutors().get(0).execute(() -> {
                throw new IllegalStateException("a bug in the core");
            });
            awaitTrue(() -> !node.exits.isEmpty(), "the node asked to exit");
            assertThat(node.node.health().fatalReason()).startsWith("cluster-core:");
            assertThat(node.get("/ready").statusCode()).isEqualTo(503);
            assertThat(node.get("/health").statusCode()).isEqualTo(503);
        }
    }

    @Test
    void withExitOffTheNodeStaysUpButReportsTheFailure() throws Exception {
        try (TestNode node = TestNode.start(dir, "http.ioThreads", "2", "node.stallTimeout", "400ms", "node.exitOnFatalError", "false")) {
            List<EventExecutor> loops = new ArrayList<>();
            node.node.httpFrontEnd().eventLoops().forEach(loops::add);
            loops.get(loops.size() - 1).shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
            awaitTrue(() -> !node.node.health().healthy(), "the failure is noticed");
            Thread.sleep(300);
            assertThat(node.exits).isEmpty();
            assertThat(getSomehow(node, "/health").statusCode()).isEqualTo(503);
        }
    }

    /**
     * GETs a path, retrying on fresh connections: one may land on the stopped loop and be closed.
     */
    private static HttpResponse<byte[]> getSomehow(TestNode node, String path) {
        RuntimeException last = null;
        for (int i = 0; i < 10; i++) {
            try (var client = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1).build()) {
                return client.send(node.request(path).build(), HttpResponse.BodyHandlers.ofByteArray());
            } catch (java.io.IOException e) {
                last = new RuntimeException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw last;
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(20);
        }
    }
}
