package io.cairn.server.http;

import static io.cairn.server.http.TestNode.json;
import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.server.TestPorts;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A slow disk must not stall a node's cluster core: the core hands every read, write, scan and
 * fsync to other threads, so heartbeats leave on time and peers keep the node alive. Three real
 * nodes; node 3's disk is slowed to 200 ms per operation while clients read and write through it
 * (local reads, replica writes, version-ceiling raises, hints). Before storage work left the core,
 * each of those ran on the core's thread and eight concurrent clients held it for seconds.
 */
class SlowDiskHttpTest {
    private static final long DISK_DELAY_MILLIS = 200;

    @TempDir
    Path tmp;

    private final TestNode[] nodes = new TestNode[3];

    @AfterEach
    void stop() {
        for (TestNode n : nodes) {
            if (n != null) {
                n.close();
            }
        }
    }

    @Test
    void heartbeatsKeepTheirTimingWhileOneNodesDiskIsSlow() throws Exception {
        int[] http = new int[3];
        List<String> specs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            http[i] = TestPorts.free();
            specs.add((i + 1) + "/zone-" + (i + 1) + "/127.0.0.1:" + http[i] + "/127.0.0.1:" + TestPorts.free());
        }
        for (int id = 1; id <= 3; id++) {
            nodes[id - 1] = TestNode.start(tmp.resolve("n" + id), "node.id", Integer.toString(id), "http.port", Integer.toString(http[id - 1]),
                    "cluster.members", String.join(",", specs), "cluster.heartbeatInterval", "100ms", "cluster.faultInjection", "true",
                    "cluster.requestTimeout", "5s");
        }
        for (TestNode n : nodes) {
            n.awaitAllMembersAlive();
        }
        TestNode slow = nodes[2];
        double[][] before = {awaitIntervals(nodes[0]), awaitIntervals(nodes[1])};

        HttpResponse<byte[]> slowed = slow.call("POST", "/admin/faults?diskDelay=" + DISK_DELAY_MILLIS + "ms", null);
        assertThat(slowed.statusCode()).as(TestNode.describe(slowed)).isEqualTo(200);
        assertThat(json(slowed).path("diskDelayMillis").asLong()).isEqualTo(DISK_DELAY_MILLIS);
        assertThat(slow.awaitAudit("\"event\":\"admin.faults\",\"outcome\":\"done\"")).as("the fault injection is in the audit log")
                .contains("\"from\":\"/127.0.0.1:").contains("diskDelay=");

        AtomicLong slowest = new AtomicLong();
        AtomicLong served = new AtomicLong();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
        ExecutorService clients = Executors.newFixedThreadPool(8);
        List<Future<?>> running = new ArrayList<>();
        for (int c = 0; c < 8; c++) {
            int client = c;
            running.add(clients.submit(() -> {
                for (int i = 0; System.nanoTime() < until; i++) {
                    long start = System.nanoTime();
                    HttpResponse<byte[]> put = slow.put("/kv/slow-" + client + "-" + (i % 20) + "?w=all", "v" + i);
                    HttpResponse<byte[]> get = slow.get("/kv/slow-" + client + "-" + (i % 20) + "?r=all");
                    slowest.accumulateAndGet(System.nanoTime() - start, Math::max);
                    assertThat(put.statusCode()).as(TestNode.describe(put)).isEqualTo(200);
                    assertThat(get.statusCode()).as(TestNode.describe(get)).isEqualTo(200);
                    served.incrementAndGet();
                }
                return null;
            }));
        }
        for (Future<?> f : running) {
            f.get(60, TimeUnit.SECONDS);
        }
        clients.shutdown();

        assertThat(served.get()).as("clients were served through the slow node").isPositive();
        assertThat(slowest.get()).as("the disk really was slow: a write and a read at 'all' each waited for it")
                .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(2 * DISK_DELAY_MILLIS));
        for (int peer = 0; peer < 2; peer++) {
            double[] after = intervals(nodes[peer]);
            double all = after[1] - before[peer][1];
            double withinASecond = after[0] - before[peer][0];
            assertThat(all).as("node %d kept hearing node 3 (heartbeats every 100 ms for 4 s)", peer + 1).isGreaterThan(20);
            assertThat(withinASecond).as("every heartbeat interval node %d saw from node 3 stayed under 1 s", peer + 1).isEqualTo(all);
            assertThat(json(nodes[peer].get("/admin/cluster")).path("members").get(2).path("alive").asBoolean()).isTrue();
        }
    }

    /** The node's first figures once it has heard two heartbeats from node 3 (one interval). */
    private static double[] awaitIntervals(TestNode node) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!node.metrics().contains("cairn_cluster_heartbeat_interval_seconds_bucket{peer=\"3\"")) {
            assertThat(System.nanoTime()).as("node %s heard node 3 twice within 20 s", node.port()).isLessThan(deadline);
            Thread.sleep(50);
        }
        return intervals(node);
    }

    /**
     * How many heartbeat intervals from node 3 the node recorded: at most 1 s, and in all; from one
     * scrape, so that a heartbeat arriving in between cannot skew one against the other.
     */
    private static double[] intervals(TestNode node) {
        double withinASecond = Double.NaN;
        double all = Double.NaN;
        for (String line : node.metrics().split("\n")) {
            if (line.startsWith("cairn_cluster_heartbeat_interval_seconds_bucket{peer=\"3\",le=\"1.0\"} ")) {
                withinASecond = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            } else if (line.startsWith("cairn_cluster_heartbeat_interval_seconds_bucket{peer=\"3\",le=\"+Inf\"} ")) {
                all = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        assertThat(new double[] {withinASecond, all}).as("node %s exposes its heartbeat intervals from node 3", node.port()).doesNotContain(Double.NaN);
        return new double[] {withinASecond, all};
    }
}
