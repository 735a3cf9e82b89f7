package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Anti-entropy with real processes: a node {@code kill -9}ed while writes and deletes go on, kept
 * down past a one-second hint window (its hints are dropped, never handed off), restarted after a
 * crash (so it rebuilds its trees from storage), converges with no client reads; an operator sees
 * the backlog and forces exchanges with {@code cairn repair status|run}.
 */
class AntiEntropyIT extends WithClusterProcesses {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    @Test
    void aNodeDownPastTheHintWindowConvergesWithNoClientReads() throws Exception {
        // Exchanges on the regular schedule only every 10 minutes: what converges the node within
        // the test is the operator's 'repair run'.
        cluster = new ClusterProcesses(tmp, 3, java.util.List.of("cluster.heartbeatInterval=100ms", "cluster.requestTimeout=1s",
                "cluster.hintReplayInterval=200ms", "cluster.hintWindow=1s", "ttl.purgeGrace=1h", "antiEntropy.cycle=10m"));
        Map<String, String> etags = new LinkedHashMap<>();
        for (int i = 0; i < 20; i++) {
            etags.put("doomed-" + i, put(1, "doomed-" + i, "old", "all"));
        }
        cluster.kill(3);
        Thread.sleep(2_500);
        for (int i = 0; i < 100; i++) {
            etags.put("k" + i, put(1 + i % 2, "k" + i, "value-" + i, "quorum"));
        }
        for (int i = 0; i < 20; i++) {
            HttpResponse<String> d = send(cluster.request(2, "/kv/doomed-" + i).DELETE().build());
            assertThat(d.statusCode()).as(d.body()).isEqualTo(204);
            etags.put("doomed-" + i, d.headers().firstValue("etag").orElseThrow());
        }
        // The hints for node 3 age past the window and are dropped.
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (stat(1, "hintsDropped") + stat(2, "hintsDropped") < 120) {
            assertThat(System.nanoTime()).as("hints dropped past the window").isLessThan(deadline);
            Thread.sleep(200);
        }
        cluster.start(3);
        cluster.awaitSeesEveryoneAlive(3);

        String url = cluster.url(3);
        String token = cluster.token();
        CliRun run = CliRun.of("repair", "run", "--url", url, "--token", token);
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(JSON.readTree(run.out()).path("roundsQueued").asInt()).isPositive();

        deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (!converged(etags)) {
            assertThat(System.nanoTime()).as("node 3 converged by anti-entropy").isLessThan(deadline);
            Thread.sleep(500);
        }
        CliRun status = CliRun.of("repair", "status", "--url", url, "--token", token);
        assertThat(status.code()).as(status.err()).isZero();
        JsonNode view = JSON.readTree(status.out());
        assertThat(view.path("sinceStart").path("rounds").asLong()).isPositive();
        assertThat(view.path("scrub").path("treesReady").asBoolean()).as("trees rebuilt after the crash").isTrue();
        long moved = 0;
        for (int id = 1; id <= 3; id++) {
            JsonNode since = JSON.readTree(send(cluster.request(id, "/admin/repair").GET().build()).body()).path("sinceStart");
            moved += since.path("keysPushed").asLong() + since.path("keysFetched").asLong();
        }
        assertThat(moved).as("records moved by anti-entropy").isGreaterThanOrEqualTo(120);
        CliRun bad = CliRun.of("repair", "run", "--url", url, "--token", token, "--partition", "100000");
        assertThat(bad.code()).isNotZero();
        assertThat(bad.out() + bad.err()).contains("invalid_parameter");
    }

    @Test
    void aCorruptRecordAndALostDataDirectoryAreRepairedFromPeers() throws Exception {
        cluster = new ClusterProcesses(tmp, 3, java.util.List.of("cluster.heartbeatInterval=100ms", "cluster.requestTimeout=1s",
                "cluster.hintReplayInterval=200ms", "antiEntropy.cycle=3s"));
        Map<String, String> etags = new LinkedHashMap<>();
        for (int i = 0; i < 50; i++) {
            etags.put("k" + i, put(1 + i % 3, "k" + i, "value-" + i, "all"));
        }
        // A bit flipped on node 2's disk while it is down (kill -9: no clean shutdown, trees rebuilt at start).
        cluster.kill(2);
        byte[] key = "k7".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] storageKey = io.cairn.storage.Keyspace.data(io.cairn.namespace.Namespace.DEFAULT_ID,
                io.cairn.namespace.Namespace.defaults(0).partitionOf(key), key);
        try (var engine = new io.cairn.server.rocks.RocksEngine(tmp.resolve("node-2").resolve("rocksdb"),
                io.cairn.server.rocks.RocksSettings.DEFAULTS)) {
            byte[] raw = engine.get(storageKey);
            raw[raw.length - 6] ^= 0x10;
            engine.write(new io.cairn.storage.WriteBatch().put(storageKey, raw), io.cairn.storage.Durability.SYNC);
        }
        cluster.start(2);
        cluster.awaitSeesEveryoneAlive(2);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            JsonNode scrub = JSON.readTree(send(cluster.request(2, "/admin/repair").GET().build()).body()).path("scrub");
            if (scrub.path("corruptFound").asLong() == 1 && scrub.path("corruptRepaired").asLong() == 1) {
                break;
            }
            assertThat(System.nanoTime()).as("the scrub found the flipped record and a peer's copy replaced it: %s", scrub).isLessThan(deadline);
            Thread.sleep(300);
        }

        // Node 3 loses its whole data directory (but keeps its certificate and credential).
        cluster.kill(3);
        deleteTree(tmp.resolve("node-3").resolve("rocksdb"));
        cluster.start(3);
        cluster.awaitSeesEveryoneAlive(3);
        deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (!converged(etags)) {
            assertThat(System.nanoTime()).as("node 3 rebuilt by anti-entropy").isLessThan(deadline);
            Thread.sleep(500);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var files = java.nio.file.Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                java.nio.file.Files.delete(p);
            }
        }
    }

    /** Whether every replica of every key holds the version given (inspection: nothing is repaired by looking). */
    private boolean converged(Map<String, String> etags) throws Exception {
        for (Map.Entry<String, String> e : etags.entrySet()) {
            JsonNode view = JSON.readTree(send(cluster.request(3, "/admin/keys/" + e.getKey()).GET().build()).body());
            for (JsonNode r : view.path("replicas")) {
                if (!e.getValue().equals(r.path("etag").asText())) {
                    return false;
                }
            }
        }
        return true;
    }

    private String put(int node, String key, String value, String w) throws Exception {
        HttpResponse<String> r = send(cluster.request(node, "/kv/" + key + "?w=" + w).PUT(HttpRequest.BodyPublishers.ofString(value)).build());
        assertThat(r.statusCode()).as("PUT %s: %s", key, r.body()).isEqualTo(200);
        return r.headers().firstValue("etag").orElseThrow();
    }

    private long stat(int node, String name) throws Exception {
        return JSON.readTree(send(cluster.request(node, "/admin/status").GET().build()).body()).path("cluster").path(name).asLong();
    }

    private HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }
}
