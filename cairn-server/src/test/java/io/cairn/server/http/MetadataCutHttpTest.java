package io.cairn.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node cut off from the metadata log while its peers go on, through the real server: it cannot
 * catch up, and its peers refuse its requests as from an old epoch, so its {@code /ready} must
 * say so once that lasts past {@code node.stallTimeout}, naming the newer epoch its peers showed;
 * it refuses membership changes as unavailable; and once healed it catches up and is ready again.
 */
class MetadataCutHttpTest {
    @TempDir
    Path dir;

    @Test
    void aNodeThatCannotReachTheLogWhilePeersMoveOnIsNotReadyAndRecovers() throws Exception {
        List<TestNode> nodes = new ArrayList<>();
        try {
            nodes.addAll(TestNode.startCluster(dir, 3, true, "cluster.faultInjection", "true", "node.stallTimeout", "2s",
                    "cluster.heartbeatInterval", "100ms"));
            TestNode cut = nodes.get(2);
            awaitReady(cut, true);

            HttpResponse<byte[]> fault = cut.call("POST", "/admin/faults?metadata=cut", null);
            assertThat(fault.statusCode()).as(TestNode.describe(fault)).isEqualTo(200);
            assertThat(TestNode.json(fault).path("metadataCut").asBoolean()).isTrue();
            long heldAt = TestNode.json(cut.get("/ready")).path("epoch").asLong();

            // The others move on: a new namespace is a new epoch.
            HttpResponse<byte[]> created = nodes.get(0).put("/admin/namespaces/flags", "{}");
            assertThat(created.statusCode()).as(TestNode.describe(created)).isIn(200, 201);

            JsonNode behind = awaitReady(cut, false);
            assertThat(behind.path("epoch").asLong()).isEqualTo(heldAt);
            assertThat(behind.path("newestPeerEpoch").asLong()).isGreaterThan(heldAt);
            assertThat(behind.path("removedFromCluster").asBoolean()).isFalse();
            assertThat(awaitReady(nodes.get(0), true).path("ready").asBoolean()).as("the others are ready").isTrue();
            HttpResponse<byte[]> change = cut.put("/admin/namespaces/other", "{}");
            assertThat(change.statusCode()).as(TestNode.describe(change)).isEqualTo(503);
            assertThat(TestNode.json(change).path("code").asText()).isEqualTo("metadata_unavailable");

            HttpResponse<byte[]> heal = cut.call("POST", "/admin/faults?metadata=heal", null);
            assertThat(TestNode.json(heal).path("metadataCut").asBoolean()).isFalse();
            JsonNode caughtUp = awaitReady(cut, true);
            assertThat(caughtUp.path("servingEpoch").asLong()).isGreaterThanOrEqualTo(behind.path("newestPeerEpoch").asLong());
            assertThat(cut.get("/admin/namespaces/flags").statusCode()).isEqualTo(200);

            HttpResponse<byte[]> bad = cut.call("POST", "/admin/faults?metadata=sever", null);
            assertThat(bad.statusCode()).isEqualTo(400);
        } finally {
            for (TestNode n : nodes) {
                n.close();
            }
        }
    }

    /**
     * The nemesis's case: a namespace changes from quorum to serial while node 3 is cut off from
     * the log. Node 3 still holds it quorum: its plain write leaves a record on its own replica
     * alone (the others refuse it), and a serial read through it must not answer that record
     * without finishing it, or a later serial read elsewhere answers the older value. Its Paxos
     * steps are refused by replicas that hold the namespace serial since a newer epoch; and once it
     * has been behind for longer than node.stallTimeout it coordinates nothing, r=1 reads from its own replica
     * included.
     */
    @Test
    void aNodeCutOffFromTheLogCannotServeANamespaceThatBecameSerialMeanwhile() throws Exception {
        List<TestNode> nodes = new ArrayList<>();
        try {
            nodes.addAll(TestNode.startCluster(dir, 3, true, "cluster.faultInjection", "true", "cluster.requestTimeout", "2s",
                    "cluster.heartbeatInterval", "500ms"));
            TestNode first = nodes.get(0);
            TestNode cut = nodes.get(2);
            assertThat(first.put("/admin/namespaces/repro", "{\"consistency\": \"quorum\"}").statusCode()).isEqualTo(200);
            // w=all: every replica must serve the namespace first (in one JVM an entry can take seconds to reach a node).
            for (TestNode n : nodes) {
                awaitNamespace(n, "repro", "quorum");
            }
            HttpResponse<byte[]> v1 = first.put("/ns/repro/kv/x?w=all", "v1");
            assertThat(v1.statusCode()).as(TestNode.describe(v1)).isEqualTo(200);

            assertThat(cut.call("POST", "/admin/faults?metadata=cut", null).statusCode()).isEqualTo(200);
            assertThat(first.put("/admin/namespaces/repro", "{\"consistency\": \"serial\"}").statusCode()).isEqualTo(200);
            awaitNamespace(nodes.get(1), "repro", "serial");

            HttpResponse<byte[]> stray = cut.put("/ns/repro/kv/x", "stray");
            assertThat(stray.statusCode()).as("the others refuse it: %s", TestNode.describe(stray)).isIn(503, 504);
            HttpResponse<byte[]> read = cut.get("/ns/repro/kv/x?consistency=serial");
            assertThat(read.statusCode()).as("a serial read through the stale node: %s", TestNode.describe(read)).isNotEqualTo(200);
            String one = TestNode.text(first.get("/ns/repro/kv/x?consistency=serial"));
            String two = TestNode.text(nodes.get(1).get("/ns/repro/kv/x?consistency=serial"));
            assertThat(two).as("serial reads agree").isEqualTo(one);

            // Behind for longer than node.stallTimeout: it coordinates nothing, r=1 from its own replica included.
            long deadline = System.nanoTime() + 30_000_000_000L;
            HttpResponse<byte[]> local;
            do {
                Thread.sleep(200);
                local = cut.get("/ns/repro/kv/x?r=1");
            } while (local.statusCode() == 200 && System.nanoTime() < deadline);
            assertThat(local.statusCode()).as(TestNode.describe(local)).isEqualTo(503);
            assertThat(TestNode.json(local).path("code").asText()).isEqualTo("epoch_mismatch");
            assertThat(TestNode.json(local).path("message").asText()).contains("coordinates nothing");
            // /ready counts from the same moment as the data path: it says so too.
            assertThat(cut.get("/ready").statusCode()).isEqualTo(503);

            cut.call("POST", "/admin/faults?metadata=heal", null);
            awaitNamespace(cut, "repro", "serial");
            HttpResponse<byte[]> healed = cut.get("/ns/repro/kv/x?consistency=serial");
            assertThat(healed.statusCode()).as(TestNode.describe(healed)).isEqualTo(200);
            assertThat(TestNode.text(first.get("/ns/repro/kv/x?consistency=serial"))).isEqualTo(TestNode.text(healed));
        } finally {
            for (TestNode n : nodes) {
                n.close();
            }
        }
    }

    private static void awaitNamespace(TestNode node, String name, String consistency) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (true) {
            HttpResponse<byte[]> r = node.get("/admin/namespaces/" + name);
            if (r.statusCode() == 200 && TestNode.json(r).path("consistency").asText().equals(consistency)) {
                return;
            }
            assertThat(System.nanoTime()).as("node never served %s as %s", name, consistency).isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    /** Polls {@code /ready} until it says {@code ready}; answers its last body. */
    private static JsonNode awaitReady(TestNode node, boolean ready) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (true) {
            HttpResponse<byte[]> r = node.get("/ready");
            JsonNode body = TestNode.json(r);
            if (body.path("ready").asBoolean() == ready) {
                assertThat(r.statusCode()).isEqualTo(ready ? 200 : 503);
                return body;
            }
            assertThat(System.nanoTime()).as("/ready never said %s: %s", ready, body).isLessThan(deadline);
            Thread.sleep(100);
        }
    }
}
