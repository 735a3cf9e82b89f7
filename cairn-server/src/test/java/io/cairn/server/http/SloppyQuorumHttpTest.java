package io.cairn.server.http;

import static io.cairn.server.http.TestNode.etag;
import static io.cairn.server.http.TestNode.json;
import static io.cairn.server.http.TestNode.text;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.server.TestPorts;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sloppy quorum through the real server: three nodes, N=2. With a home replica down, a write at
 * W=all succeeds only when {@code cluster.sloppyQuorum} is on — the third node holds a durable hint
 * and counts toward W — and the hint reaches the home replica when it is back.
 */
class SloppyQuorumHttpTest {
    @TempDir
    Path tmp;

    private final TestNode[] nodes = new TestNode[3];
    private final int[] http = new int[3];
    private String members;

    @AfterEach
    void stop() {
        for (TestNode n : nodes) {
            if (n != null) {
                n.close();
            }
        }
    }

    @Test
    void fallbackTakesTheWriteOfADownHomeReplicaAndHandsItOff() throws Exception {
        startCluster(true);
        String key = keyWithReplicas(1, 3);
        nodes[2].close();
        nodes[2] = null;
        nodes[0].awaitDown(3);

        HttpResponse<byte[]> put = nodes[0].put("/kv/" + key + "?w=all", "kept");
        assertThat(put.statusCode()).as(TestNode.describe(put)).isEqualTo(200);
        assertThat(put.headers().firstValue("Cairn-Acks")).contains("2");
        assertThat(put.headers().firstValue("Cairn-Fallback-Acks")).contains("1");
        assertThat(json(nodes[1].get("/admin/status")).path("backlogs").path("hintsPending").asLong())
                .as("the fallback (node 2) holds the hint").isEqualTo(1);

        nodes[2] = start(3, true);
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (json(nodes[1].get("/admin/status")).path("backlogs").path("hintsPending").asLong() > 0) {
            assertThat(System.nanoTime()).as("hint handed off within 20 s").isLessThan(deadline);
            Thread.sleep(100);
        }
        JsonNode view = json(nodes[2].get("/admin/keys/" + key));
        for (JsonNode r : view.path("replicas")) {
            assertThat(r.path("etag").asText()).as(view.toString()).isEqualTo(etag(put));
        }
        assertThat(text(nodes[2].get("/kv/" + key + "?r=all"))).isEqualTo("kept");
    }

    @Test
    void withoutSloppyQuorumTheSameWriteFailsFastAndChangesNothing() throws Exception {
        startCluster(false);
        String key = keyWithReplicas(1, 3);
        nodes[2].close();
        nodes[2] = null;
        nodes[0].awaitDown(3);
        HttpResponse<byte[]> put = nodes[0].put("/kv/" + key + "?w=all", "refused");
        assertThat(put.statusCode()).isEqualTo(503);
        assertThat(json(put).path("code").asText()).isEqualTo("quorum_unavailable");
        assertThat(json(put).path("reachable").asInt()).isEqualTo(1);
        assertThat(nodes[0].get("/kv/" + key + "?r=one").statusCode()).isEqualTo(404);
    }

    private void startCluster(boolean sloppy) throws Exception {
        List<String> specs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            http[i] = TestPorts.free();
            specs.add((i + 1) + "/zone-" + (i + 1) + "/127.0.0.1:" + http[i] + "/127.0.0.1:" + TestPorts.free());
        }
        members = String.join(",", specs);
        for (int id = 1; id <= 3; id++) {
            nodes[id - 1] = start(id, sloppy);
        }
        for (TestNode n : nodes) {
            n.awaitAllMembersAlive();
        }
    }

    private TestNode start(int id, boolean sloppy) {
        return TestNode.start(tmp.resolve("n" + id), "node.id", Integer.toString(id), "http.port", Integer.toString(http[id - 1]),
                "cluster.members", members, "cluster.replicationFactor", "2", "cluster.heartbeatInterval", "100ms",
                "cluster.hintReplayInterval", "100ms", "cluster.sloppyQuorum", Boolean.toString(sloppy));
    }

    /** A key whose two home replicas are exactly {@code a} and {@code b}. */
    private String keyWithReplicas(int a, int b) {
        for (int i = 0; ; i++) {
            JsonNode prefs = json(nodes[0].get("/admin/keys/k" + i)).path("preferenceList");
            List<Integer> homes = new ArrayList<>();
            for (JsonNode p : prefs) {
                if (p.path("role").asText().equals("replica")) {
                    homes.add(p.path("id").asInt());
                }
            }
            if (homes.size() == 2 && homes.containsAll(List.of(a, b))) {
                return "k" + i;
            }
        }
    }
}
