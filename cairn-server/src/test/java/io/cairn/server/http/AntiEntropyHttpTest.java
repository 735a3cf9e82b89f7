package io.cairn.server.http;

import static io.cairn.server.http.TestNode.etag;
import static io.cairn.server.http.TestNode.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.namespace.Namespace;
import io.cairn.server.TestPorts;
import io.cairn.server.rocks.RocksEngine;
import io.cairn.server.rocks.RocksSettings;
import io.cairn.storage.Durability;
import io.cairn.storage.Keyspace;
import io.cairn.storage.WriteBatch;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Anti-entropy through the real server, three nodes, N=3, exchanges every 2 s and a hint window
 * of 1 s, so a replica that misses writes for longer has nothing but anti-entropy to bring them.
 * No test here reads a key through {@code /kv} before checking the replicas: what converges them
 * is the exchanges, not read repair. Replicas are looked at through {@code /admin/keys}, which
 * reports each replica's stored copy without repairing anything.
 */
class AntiEntropyHttpTest {
    private static final long CONVERGENCE_NANOS = 60_000_000_000L;

    @TempDir
    Path tmp;

    private final TestNode[] nodes = new TestNode[3];
    private final int[] http = new int[3];
    private String members;

    @BeforeEach
    void startCluster() throws InterruptedException {
        List<String> specs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            http[i] = TestPorts.free();
            specs.add((i + 1) + "/zone-" + (i + 1) + "/127.0.0.1:" + http[i] + "/127.0.0.1:" + TestPorts.free());
        }
        members = String.join(",", specs);
        for (int id = 1; id <= 3; id++) {
            nodes[id - 1] = start(id);
        }
        for (TestNode n : nodes) {
            n.awaitAllMembersAlive();
        }
    }

    @AfterEach
    void stop() {
        for (TestNode n : nodes) {
            if (n != null) {
                n.close();
            }
        }
    }

    private TestNode start(int id) {
        return TestNode.start(tmp.resolve("n" + id), "node.id", Integer.toString(id), "http.port", Integer.toString(http[id - 1]),
                "cluster.members", members, "cluster.heartbeatInterval", "100ms", "cluster.hintReplayInterval", "100ms",
                "cluster.hintWindow", "1s", "ttl.purgeGrace", "1h", "antiEntropy.cycle", "2s", "cluster.faultInjection", "true");
    }

    @Test
    void aReplicaDownPastTheHintWindowConvergesWithNoClientReads() throws Exception {
        Map<String, String> written = new LinkedHashMap<>();
        for (int i = 0; i < 10; i++) {
            written.put("gone-" + i, etag(ok(nodes[0].put("/kv/gone-" + i + "?w=all", "old"))));
        }
        nodes[2].close();
        nodes[2] = null;
        nodes[0].awaitDown(3);
        for (int i = 0; i < 40; i++) {
            written.put("k" + i, etag(ok(nodes[0].put("/kv/k" + i, "value-" + i))));
        }
        for (int i = 0; i < 10; i++) {
            written.put("gone-" + i, etag(ok(nodes[1].delete("/kv/gone-" + i))));
        }
        // Past the hint window: the hints for node 3 are dropped, never handed off.
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (json(nodes[0].get("/admin/status")).path("cluster").path("hintsDropped").asLong()
                + json(nodes[1].get("/admin/status")).path("cluster").path("hintsDropped").asLong() < 50) {
            assertThat(System.nanoTime()).as("hints dropped past the window").isLessThan(deadline);
            Thread.sleep(200);
        }

        nodes[2] = start(3);
        awaitReplicasHold(written);
        JsonNode repair = json(nodes[2].get("/admin/repair"));
        long moved = 0;
        for (TestNode n : nodes) {
            JsonNode since = json(n.get("/admin/repair")).path("sinceStart");
            moved += since.path("keysPushed").asLong() + since.path("keysFetched").asLong();
        }
        assertThat(moved).as("anti-entropy moved the missed writes").isGreaterThanOrEqualTo(50);
        assertThat(repair.has("differingKeys")).as(repair.toString()).isTrue();
        for (int i = 0; i < 10; i++) {
            JsonNode view = json(nodes[2].get("/admin/keys/gone-" + i));
            for (JsonNode r : view.path("replicas")) {
                assertThat(r.path("state").asText()).as(view.toString()).isEqualTo("tombstone");
            }
        }
    }

    @Test
    void aCorruptRecordIsFoundByTheScrubAndRepairedFromAPeer() throws Exception {
        String tag = etag(ok(nodes[0].put("/kv/precious?w=all", "the value")));
        nodes[1].close();
        nodes[1] = null;
        Path rocks = tmp.resolve("n2").resolve("rocksdb");
        byte[] key = "precious".getBytes(StandardCharsets.UTF_8);
        byte[] storageKey = Keyspace.data(Namespace.DEFAULT_ID, Namespace.defaults(0).partitionOf(key), key);
        try (RocksEngine engine = new RocksEngine(rocks, RocksSettings.DEFAULTS)) {
            byte[] raw = engine.get(storageKey);
            assertThat(raw).isNotNull();
            raw[raw.length - 6] ^= 0x20;
            engine.write(new WriteBatch().put(storageKey, raw), Durability.SYNC);
        }
        nodes[1] = start(2);
        nodes[1].awaitAllMembersAlive();

        long deadline = System.nanoTime() + CONVERGENCE_NANOS;
        while (true) {
            JsonNode scrub = json(nodes[1].get("/admin/repair")).path("scrub");
            if (scrub.path("corruptFound").asLong() >= 1 && scrub.path("corruptRepaired").asLong() >= 1) {
                break;
            }
            assertThat(System.nanoTime()).as("found and repaired: %s", scrub).isLessThan(deadline);
            Thread.sleep(200);
        }
        awaitReplicasHold(Map.of("precious", tag));
        assertThat(TestNode.text(nodes[1].get("/kv/precious?r=all"))).isEqualTo("the value");
        int partition = Namespace.defaults(0).partitionOf(key);
        JsonNode rows = json(nodes[1].get("/admin/repair?namespace=default&partition=" + partition)).path("partitionsShown");
        assertThat(rows).as("a partition that had a corrupt record is shown: %s", rows).hasSize(1);
        assertThat(rows.get(0).path("corruptFound").asLong()).isEqualTo(1);
        assertThat(rows.get(0).path("corruptRepaired").asLong()).isEqualTo(1);
    }

    @Test
    void aReplicaThatLostItsDataDirectoryIsRebuiltByAntiEntropy() throws Exception {
        Map<String, String> written = new LinkedHashMap<>();
        for (int i = 0; i < 30; i++) {
            written.put("k" + i, etag(ok(nodes[0].put("/kv/k" + i + "?w=all", "value-" + i))));
        }
        nodes[2].close();
        nodes[2] = null;
        deleteTree(tmp.resolve("n3").resolve("rocksdb"));
        nodes[2] = start(3);
        awaitReplicasHold(written);
    }

    @Test
    void anOperatorCanAskForAnExchangeNowAndBadRequestsAreRefused() throws Exception {
        HttpResponse<byte[]> run = nodes[0].call("POST", "/admin/repair?partition=3", null);
        assertThat(run.statusCode()).as(TestNode.describe(run)).isEqualTo(202);
        assertThat(json(run).path("roundsQueued").asInt()).as("one round per other replica of the partition, per namespace that has it")
                .isEqualTo(4);
        HttpResponse<byte[]> ns = nodes[0].call("POST", "/admin/repair?namespace=default", null);
        assertThat(json(ns).path("roundsQueued").asInt()).isEqualTo(2 * 256);

        assertThat(json(nodes[0].call("POST", "/admin/repair?partition=999", null)).path("code").asText()).isEqualTo("invalid_parameter");
        assertThat(json(nodes[0].get("/admin/repair?partition=999")).path("code").asText()).isEqualTo("invalid_parameter");
        assertThat(json(nodes[0].get("/admin/repair?partition=-1")).path("code").asText()).isEqualTo("invalid_parameter");
        assertThat(json(nodes[0].call("POST", "/admin/repair?namespace=nope", null)).path("code").asText()).isEqualTo("invalid_parameter");
        assertThat(json(nodes[0].call("POST", "/admin/repair?bogus=1", null)).path("code").asText()).isEqualTo("invalid_parameter");
        assertThat(nodes[0].call("DELETE", "/admin/repair", null).statusCode()).isEqualTo(405);
        assertThat(nodes[0].send(nodes[0].anonymous("/admin/repair")).statusCode()).isEqualTo(401);

        JsonNode view = json(nodes[0].get("/admin/repair?all=true&namespace=default"));
        assertThat(view.path("partitions").asInt()).isEqualTo(256);
        assertThat(view.path("partitionsShown")).hasSize(256);
        JsonNode status = json(nodes[0].get("/admin/status")).path("repair");
        assertThat(status.has("etaMillis")).as(status.toString()).isTrue();
        assertThat(status.path("scrub").has("corruptFound")).isTrue();
    }

    /** Waits until every home replica of every key holds exactly the version given (inspection only: nothing is repaired by looking). */
    private void awaitReplicasHold(Map<String, String> expected) throws InterruptedException {
        long deadline = System.nanoTime() + CONVERGENCE_NANOS;
        List<String> apart = new ArrayList<>(expected.keySet());
        while (!apart.isEmpty()) {
            List<String> still = new ArrayList<>();
            for (String key : apart) {
                JsonNode view = json(nodes[0].get("/admin/keys/" + key));
                for (JsonNode r : view.path("replicas")) {
                    if (!expected.get(key).equals(r.path("etag").asText())) {
                        still.add(key + " " + view.path("replicas"));
                        break;
                    }
                }
            }
            if (still.isEmpty()) {
                return;
            }
            assertThat(System.nanoTime()).as("replicas converged by anti-entropy; still apart: %s", still).isLessThan(deadline);
            apart = still.stream().map(s -> s.substring(0, s.indexOf(' '))).toList();
            Thread.sleep(250);
        }
    }

    private static HttpResponse<byte[]> ok(HttpResponse<byte[]> r) {
        assertThat(r.statusCode()).as(TestNode.describe(r)).isBetween(200, 204);
        return r;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
