package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The cluster's promises with real processes on loopback: writes at W=quorum keep succeeding while
 * a node is {@code kill -9}ed or cut off at the transport; when it is back, hints drain and every
 * replica of every acknowledged write holds that write, readable at R=all through any node.
 */
class ClusterIT extends WithClusterProcesses {
    private static final List<String> FAST_DETECTION = List.of(
            "cluster.heartbeatInterval=100ms", "cluster.requestTimeout=1s", "cluster.hintReplayInterval=200ms",
            "cluster.faultInjection=true");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    @Test
    void quorumWritesSurviveKillNineAndHintsDrainAfterRestart() throws Exception {
        cluster = new ClusterProcesses(tmp, 3, FAST_DETECTION);
        Map<String, String> acknowledged = new ConcurrentHashMap<>();
        java.util.Queue<String> failedThroughLiveNodes = new java.util.concurrent.ConcurrentLinkedQueue<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicBoolean node3Down = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(6);
        List<Future<?>> writers = new ArrayList<>();
        for (int w = 0; w < 6; w++) {
            int writer = w;
            writers.add(pool.submit(() -> {
                for (int i = 0; !stop.get(); i++) {
                    // Writers 0-3 use nodes 1 and 2, which stay up; writers 4-5 use node 3, which dies.
                    int coordinator = writer < 4 ? 1 + (i % 2) : 3;
                    String key = "w" + writer + "-" + i;
                    String value = "v-" + key;
                    int status = put(coordinator, key, value, "quorum");
                    if (status == 200) {
                        acknowledged.put(key, value);
                    } else if (coordinator != 3) {
                        failedThroughLiveNodes.add(key + " via " + coordinator + ": " + status + " " + lastFailure.get());
                    } else if (node3Down.get()) {
                        Thread.sleep(20); // connection refused while it is down: outcome known (never sent)
                    }
                }
                return null;
            }));
        }
        Thread.sleep(1_500);
        cluster.kill(3);
        node3Down.set(true);
        int atKill = acknowledged.size();
        // Past failure detection (about 2 s at a 100 ms heartbeat): W=all now fails fast, naming what is reachable.
        Thread.sleep(3_000);
        HttpResponse<String> all = send(cluster.request(1, "/kv/needs-all?w=all")
                .PUT(HttpRequest.BodyPublishers.ofString("x")).build());
        assertThat(all.statusCode()).isEqualTo(503);
        assertThat(JSON.readTree(all.body()).path("code").asText()).isEqualTo("quorum_unavailable");
        assertThat(all.body()).contains("\"reachable\":2");
        JsonNode lagging = status(1);
        assertThat(lagging.path("backlogs").path("hintsPending").asLong()).isPositive();
        assertThat(lagging.path("backlogs").path("replicaLagMillis").asLong()).isPositive();

        cluster.start(3);
        node3Down.set(false);
        Thread.sleep(1_000);
        stop.set(true);
        for (Future<?> f : writers) {
            f.get();
        }
        pool.shutdown();
        assertThat(failedThroughLiveNodes).as("W=quorum writes through live nodes that failed").isEmpty();
        assertThat(acknowledged.size()).as("writes acknowledged while node 3 was down").isGreaterThan(atKill + 50);

        awaitHintsDrained();
        assertEveryReplicaHolds(acknowledged);
    }

    @Test
    void nodeCutOffAtTheTransportCatchesUpAfterHealing() throws Exception {
        cluster = new ClusterProcesses(tmp, 3, FAST_DETECTION);
        Map<String, String> acknowledged = new ConcurrentHashMap<>();
        for (int i = 0; i < 20; i++) {
            assertThat(put(1 + i % 3, "before-" + i, "b" + i, "all")).isEqualTo(200);
            acknowledged.put("before-" + i, "b" + i);
        }
        HttpResponse<String> cut = send(cluster.request(3, "/admin/faults?block=1,2")
                .POST(HttpRequest.BodyPublishers.noBody()).build());
        assertThat(cut.statusCode()).isEqualTo(200);
        assertThat(cut.body()).contains("\"blocked\":[1,2]");
        for (int i = 0; i < 200; i++) {
            String key = "during-" + i;
            assertThat(put(1 + i % 2, key, "d" + i, "quorum")).as("W=quorum write %s through the majority side", key).isEqualTo(200);
            acknowledged.put(key, "d" + i);
            // Overwrite some keys written before the cut, so the isolated node holds stale versions.
            if (i < 20) {
                assertThat(put(2, "before-" + i, "b2-" + i, "quorum")).isEqualTo(200);
                acknowledged.put("before-" + i, "b2-" + i);
            }
        }
        // The isolated node cannot reach a quorum: once it declares its peers down it refuses fast.
        // (Probes that end outcome_unknown may still land: LWW keeps them, so they use their own key.)
        awaitStatus(3, "probe", "quorum", 503);

        send(cluster.request(3, "/admin/faults?block=").POST(HttpRequest.BodyPublishers.noBody()).build());
        awaitHintsDrained();
        assertEveryReplicaHolds(acknowledged);
    }

    /** Waits until no node holds a hint any more. */
    private void awaitHintsDrained() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            long pending = 0;
            for (int id = 1; id <= cluster.size(); id++) {
                pending += status(id).path("backlogs").path("hintsPending").asLong();
            }
            if (pending == 0) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(pending + " hints still pending after 60 s\n" + cluster.output(1));
            }
            Thread.sleep(200);
        }
    }

    /**
     * Every replica (as /admin/keys shows it, with no read repair involved) holds the acknowledged
     * value's version, and a read at R=all through each node returns the value.
     */
    private void assertEveryReplicaHolds(Map<String, String> acknowledged) throws Exception {
        int checked = 0;
        for (Map.Entry<String, String> e : acknowledged.entrySet()) {
            JsonNode view = JSON.readTree(send(cluster.request(1 + checked % 3, "/admin/keys/" + e.getKey())
                    .GET().build()).body());
            List<String> etags = new ArrayList<>();
            for (JsonNode r : view.path("replicas")) {
                assertThat(r.path("state").asText()).as("replica %s of %s: %s", r.path("id"), e.getKey(), view).isEqualTo("live");
                etags.add(r.path("etag").asText());
            }
            assertThat(etags).as("replicas of %s", e.getKey()).hasSize(3).containsOnly(etags.get(0));
            HttpResponse<String> read = send(cluster.request(1 + checked % 3, "/kv/" + e.getKey() + "?r=all")
                    .GET().build());
            assertThat(read.statusCode()).as("GET %s at r=all", e.getKey()).isEqualTo(200);
            assertThat(read.body()).isEqualTo(e.getValue());
            assertThat(read.headers().firstValue("etag")).contains(etags.get(0));
            checked++;
        }
    }

    private void awaitStatus(int node, String key, String w, int expected) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        int last;
        do {
            last = put(node, key, "probe", w);
            if (last == expected) {
                return;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("node " + node + " kept answering " + last + " instead of " + expected);
    }

    // The latest failed write's answer (or exception), for the failure report.
    private final ThreadLocal<String> lastFailure = ThreadLocal.withInitial(() -> "");

    private int put(int node, String key, String value, String w) throws InterruptedException {
        try {
            HttpResponse<String> r = send(cluster.request(node, "/kv/" + key + "?w=" + w)
                    .PUT(HttpRequest.BodyPublishers.ofString(value)).build());
            if (r.statusCode() != 200) {
                lastFailure.set(r.body());
            }
            return r.statusCode();
        } catch (IOException e) {
            lastFailure.set(e.toString());
            return -1;
        }
    }

    private JsonNode status(int node) throws Exception {
        return JSON.readTree(send(cluster.request(node, "/admin/status").GET().build()).body());
    }

    private HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(request, (name, value) -> true).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
