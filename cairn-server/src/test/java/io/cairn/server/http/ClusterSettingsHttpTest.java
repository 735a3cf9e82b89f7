package io.cairn.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The settings every member of an elastic cluster must share (limits, the purge grace, the clock
 * offset bound, the hint window, the metadata log's voters) live in the metadata log: the members
 * record their own when the cluster starts, {@code PUT /admin/cluster/settings} changes them, and
 * every node runs with the cluster's values from its next start on, whatever its own configuration
 * says; a node that joins takes them from the member it joins through.
 */
class ClusterSettingsHttpTest {
    private static final int KIB = 1024;

    @TempDir
    Path dir;

    @Test
    void theClustersSettingsAreRecordedChangedThroughTheLogAndTakenAtEachStart() throws Exception {
        List<TestNode> nodes = new ArrayList<>();
        try {
            nodes.addAll(TestNode.startCluster(dir, 3, true, "ttl.purgeGrace", "2d", "limits.maxValueBytes", "256KiB"));
            for (TestNode n : nodes) {
                await("node " + n.port() + " sees the cluster's record", () -> settings(n).path("cluster").has("limits.maxValueBytes"));
                JsonNode s = settings(n);
                assertThat(s.path("cluster").path("limits.maxValueBytes").asText()).isEqualTo("262144");
                assertThat(s.path("cluster").path("ttl.purgeGrace").asText()).isEqualTo("172800000ms");
                assertThat(s.path("node")).isEqualTo(s.path("cluster"));
                assertThat(s.path("restartNeeded").asBoolean()).isFalse();
            }
            TestNode first = nodes.get(0);
            JsonNode bootstrap = TestNode.json(first.get("/admin/cluster/bootstrap"));
            assertThat(bootstrap.path("settings").path("limits.maxValueBytes").asText()).isEqualTo("262144");
            // The metadata group's members as node 1 knows them now, for a joining node to ask.
            List<Integer> contactIds = new ArrayList<>();
            bootstrap.path("contacts").forEach(c -> {
                contactIds.add(c.path("id").asInt());
                assertThat(c.path("metadata").asText()).matches("127\\.0\\.0\\.1:\\d+");
            });
            assertThat(contactIds).containsExactlyInAnyOrder(1, 2, 3);

            // Refused, naming the problem, and nothing recorded.
            long epoch = settings(first).path("epoch").asLong();
            assertRefused(first.put("/admin/cluster/settings", "{\"http.port\": \"1\"}"), "not a setting every member shares");
            assertRefused(first.put("/admin/cluster/settings", "{\"ttl.purgeGrace\": \"1s\"}"), "must be longer than cluster.hintWindow");
            assertRefused(first.put("/admin/cluster/settings", "{\"limits.maxValueBytes\": \"lots\"}"), "limits.maxValueBytes");
            assertRefused(first.put("/admin/cluster/settings", "{\"limits.maxValueBytes\": [1]}"), "a string or a whole number");
            assertRefused(first.put("/admin/cluster/settings", "not json"), "not valid JSON");
            assertRefused(first.put("/admin/cluster/settings", "{\"ttl.purgeGrace\": \"6h\", \"ttl.purgeGrace\": \"7h\"}"), "Duplicate field");
            assertRefused(first.put("/admin/cluster/settings", "{\"ttl.purgeGrace\": \"6h\"} {}"), "not valid JSON");
            assertRefused(first.put("/admin/cluster/settings", "{}"), "a JSON object of settings");
            HttpResponse<byte[]> text = first.put("/admin/cluster/settings", "{\"ttl.purgeGrace\": \"6h\"}", "Content-Type", "text/plain");
            assertThat(text.statusCode()).as(TestNode.describe(text)).isEqualTo(415);
            assertThat(TestNode.json(text).path("message").asText()).contains("the settings must be JSON");
            assertThat(settings(first).path("epoch").asLong()).isEqualTo(epoch);
            assertThat(first.call("POST", "/admin/cluster/settings", new byte[0]).statusCode()).isEqualTo(405);

            // A change: one entry in the log; every member sees it and says it runs with other values until it restarts.
            var changed = first.put("/admin/cluster/settings", "{\"limits.maxValueBytes\": \"512KiB\"}");
            assertThat(changed.statusCode()).as(TestNode.text(changed)).isEqualTo(200);
            assertThat(TestNode.json(changed).path("cluster").path("limits.maxValueBytes").asText()).isEqualTo("524288");
            assertThat(TestNode.json(changed).path("epoch").asLong()).isEqualTo(epoch + 1);
            for (TestNode n : nodes) {
                await("node " + n.port() + " notes the change", () -> settings(n).path("restartNeeded").asBoolean());
                assertThat(settings(n).path("differences").toString()).contains("limits.maxValueBytes is 262144 here and 524288 on the cluster");
            }
            byte[] big = new byte[300 * KIB];
            assertThat(first.put("/kv/big", big).statusCode()).as("the running limit until a restart").isEqualTo(413);

            // Each member restarted with its configuration unchanged (one even with another value)
            // runs with the cluster's values.
            for (int i = 0; i < nodes.size(); i++) {
                nodes.set(i, i == 2 ? nodes.get(i).restart("limits.maxValueBytes", "64KiB") : nodes.get(i).restart());
            }
            for (TestNode n : nodes) {
                n.awaitAllMembersAlive();
                JsonNode s = settings(n);
                assertThat(s.path("node").path("limits.maxValueBytes").asText()).isEqualTo("524288");
                assertThat(s.path("node").path("ttl.purgeGrace").asText()).isEqualTo("172800000ms");
                assertThat(s.path("restartNeeded").asBoolean()).isFalse();
            }
            var put = nodes.get(2).put("/kv/big", big);
            assertThat(put.statusCode()).as(TestNode.text(put)).isIn(200, 201, 204);
            assertThat(nodes.get(0).get("/kv/big").body()).hasSize(big.length);
            assertThat(nodes.get(2).put("/kv/bigger", new byte[600 * KIB]).statusCode()).isEqualTo(413);

            // moves.window is applied by the log itself: at its entry, with no restart, never a difference.
            var window = nodes.get(1).put("/admin/cluster/settings", "{\"moves.window\": \"96\"}");
            assertThat(window.statusCode()).as(TestNode.text(window)).isEqualTo(200);
            assertRefused(nodes.get(0).put("/admin/cluster/settings", "{\"moves.window\": \"0\"}"), "moves.window");
            for (TestNode n : nodes) {
                await("node " + n.port() + " sees the window", () -> settings(n).path("cluster").path("moves.window").asText().equals("96"));
                assertThat(settings(n).path("restartNeeded").asBoolean()).isFalse();
                assertThat(TestNode.json(n.get("/admin/rebalance")).path("moveWindow").asInt()).isEqualTo(96);
            }

            // A node joining with its own (default) configuration takes the cluster's.
            int http = io.cairn.server.TestPorts.free();
            String self = "4/zone-1/127.0.0.1:" + http + "/127.0.0.1:" + io.cairn.server.TestPorts.free()
                    + "/127.0.0.1:" + io.cairn.server.TestPorts.free();
            Path joiner = dir.resolve("n4");
            TestNode fourth = TestNode.start(joiner, "node.id", "4", "http.port", Integer.toString(http), "cluster.members", self,
                    "cluster.join", "127.0.0.1:" + nodes.get(0).port());
            nodes.add(fourth);
            JsonNode joined = settings(fourth);
            assertThat(joined.path("node").path("limits.maxValueBytes").asText()).isEqualTo("524288");
            assertThat(joined.path("node").path("ttl.purgeGrace").asText()).isEqualTo("172800000ms");
            assertThat(Files.readString(joiner.resolve("metadata").resolve("cluster.settings"))).contains("limits.maxValueBytes=524288");
            assertThat(fourth.put("/kv/bigger", new byte[600 * KIB]).statusCode()).isEqualTo(413);
            // Its join streams at most the window's partitions at once; the rest wait, and all arrive.
            boolean sawQueue = false;
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(180);
            while (true) {
                JsonNode r = TestNode.json(nodes.get(0).get("/admin/rebalance"));
                assertThat(r.path("partitionsStreaming").asInt()).as(r.toString()).isLessThanOrEqualTo(96);
                sawQueue |= r.path("partitionsQueued").asInt() > 0;
                if (r.path("change").isNull() && r.path("epoch").asLong() > epoch + 2) {
                    break;
                }
                assertThat(System.nanoTime()).as("the join ends: %s", r).isLessThan(deadline);
                Thread.sleep(100);
            }
            assertThat(sawQueue).as("partitions waited for the window").isTrue();
            assertThat(TestNode.json(nodes.get(0).get("/admin/membership")).toString()).contains("\"id\":4").doesNotContain("joining");

            // A node that joins with the id of a member of the first list, at other addresses, is
            // refused (the first epoch it fetched lists that id), and again on the same directory.
            int imposterHttp = io.cairn.server.TestPorts.free();
            String imposter = "2/zone-2/127.0.0.1:" + imposterHttp + "/127.0.0.1:" + io.cairn.server.TestPorts.free()
                    + "/127.0.0.1:" + io.cairn.server.TestPorts.free();
            for (int attempt = 0; attempt < 2; attempt++) {
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> TestNode.start(dir.resolve("imposter"), "node.id", "2",
                                "http.port", Integer.toString(imposterHttp), "cluster.members", imposter, "cluster.join", "127.0.0.1:" + nodes.get(0).port()))
                        .as("attempt " + attempt).hasStackTraceContaining("node id 2 is already member");
            }
            assertThat(TestNode.json(nodes.get(0).get("/admin/membership")).toString()).doesNotContain(imposter.split("/")[2]);
        } finally {
            nodes.forEach(TestNode::close);
        }
    }

    /**
     * A cluster an earlier release started (its members' metadata directories hold the first epoch
     * but no offer) records nothing by itself, since a member of that release could not read the
     * entry; the operator's first change makes the record, from the values of the member that takes
     * it and the change.
     */
    @Test
    void aClusterAnEarlierReleaseStartedGetsItsRecordFromTheFirstChange() throws Exception {
        int size = 3;
        List<String> members = new ArrayList<>();
        int[] http = new int[size];
        for (int i = 0; i < size; i++) {
            http[i] = io.cairn.server.TestPorts.free();
            members.add((i + 1) + "/zone-" + (i + 1) + "/127.0.0.1:" + http[i] + "/127.0.0.1:" + io.cairn.server.TestPorts.free()
                    + "/127.0.0.1:" + io.cairn.server.TestPorts.free());
        }
        List<io.cairn.membership.Member> parsed = io.cairn.server.config.ConfigLoader.load(null, java.util.Map.of("node.id", "1", "http.port", Integer.toString(http[0]),
                "cluster.members", String.join(",", members))).cluster().members();
        byte[] firstEpoch = io.cairn.metadata.MetadataCodec.encode(io.cairn.metadata.ClusterState.bootstrap(parsed,
                io.cairn.namespace.Namespace.DEFAULT_PARTITIONS, 3));
        List<TestNode> nodes = new ArrayList<>();
        try {
            for (int i = 0; i < size; i++) {
                Path data = dir.resolve("old" + (i + 1));
                Files.createDirectories(data.resolve("metadata"));
                Files.write(data.resolve("metadata").resolve("bootstrap.state"), firstEpoch);
                nodes.add(TestNode.start(data, "node.id", Integer.toString(i + 1), "http.port", Integer.toString(http[i]),
                        "cluster.members", String.join(",", members), "limits.maxKeyBytes", i == 0 ? "512" : "1024"));
            }
            for (TestNode n : nodes) {
                n.awaitAllMembersAlive();
            }
            Thread.sleep(2_000); // The members would have offered by now.
            for (TestNode n : nodes) {
                assertThat(settings(n).path("cluster").isEmpty()).as("no record without an operator").isTrue();
                assertThat(settings(n).path("restartNeeded").asBoolean()).isFalse();
            }
            long before = settings(nodes.get(1)).path("epoch").asLong();
            var first = nodes.get(1).put("/admin/cluster/settings", "{\"ttl.purgeGrace\": \"6h\"}");
            assertThat(first.statusCode()).as(TestNode.text(first)).isEqualTo(200);
            JsonNode record = TestNode.json(first).path("cluster");
            assertThat(record.path("ttl.purgeGrace").asText()).isEqualTo("21600000ms");
            assertThat(record.path("limits.maxKeyBytes").asText()).as("node 2's own").isEqualTo("1024");
            assertThat(TestNode.json(first).path("epoch").asLong()).isEqualTo(before + 1);
            TestNode one = nodes.get(0);
            await("node 1 notes the record", () -> settings(one).path("restartNeeded").asBoolean());
            assertThat(settings(one).path("differences").toString()).contains("limits.maxKeyBytes is 512 here and 1024 on the cluster");
            nodes.set(0, one.restart());
            assertThat(settings(nodes.get(0)).path("node").path("limits.maxKeyBytes").asText()).isEqualTo("1024");
            assertThat(settings(nodes.get(0)).path("restartNeeded").asBoolean()).isFalse();
        } finally {
            nodes.forEach(TestNode::close);
        }
    }

    private static JsonNode settings(TestNode node) {
        var r = node.get("/admin/cluster/settings");
        assertThat(r.statusCode()).as(TestNode.text(r)).isEqualTo(200);
        return TestNode.json(r);
    }

    private static void assertRefused(java.net.http.HttpResponse<byte[]> r, String naming) {
        assertThat(r.statusCode()).as(TestNode.text(r)).isEqualTo(400);
        assertThat(TestNode.json(r).path("code").asText()).isEqualTo("invalid_setting");
        assertThat(TestNode.text(r)).contains(naming);
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() < deadline).as("timed out waiting until %s", what).isTrue();
            Thread.sleep(100);
        }
    }
}
