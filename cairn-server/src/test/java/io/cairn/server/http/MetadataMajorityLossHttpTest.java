package io.cairn.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An elastic cluster whose metadata log lost its majority (two of its three voters stopped),
 * through the real server: the survivor keeps serving data at its last epoch, and every change
 * that needs the log — a membership change, a namespace — is refused with {@code 503
 * metadata_unavailable} within the metadata timeout, changing nothing. Once a voter is back, the
 * log has its majority again and changes go through.
 */
class MetadataMajorityLossHttpTest {
    @TempDir
    Path dir;

    @Test
    void withoutAMajorityTheDataPathServesAndChangesAreRefusedClearly() throws Exception {
        List<TestNode> nodes = new ArrayList<>();
        try {
            nodes.addAll(TestNode.startCluster(dir, 3, true, "cluster.requestTimeout", "2s", "metadata.requestTimeout", "3s"));
            TestNode survivor = nodes.get(0);
            assertThat(survivor.put("/kv/before?w=all", "v1").statusCode()).isEqualTo(200);
            long epoch = TestNode.json(survivor.get("/admin/membership")).path("epoch").asLong();
            // Its own log server, as /admin/membership and the metrics tell it.
            com.fasterxml.jackson.databind.JsonNode group = TestNode.json(survivor.get("/admin/membership")).path("metadataGroup");
            assertThat(group.path("server").asText()).as("%s", group).isEqualTo("running");
            assertThat(group.path("role").asText()).as("%s", group).isIn("leader", "follower");
            assertThat(group.path("following").asText()).as("%s", group).isEqualTo("log");
            assertThat(TestNode.text(survivor.get("/metrics"))).contains("cairn_metadata_server_down 0.0");

            nodes.get(1).close();
            nodes.get(2).close();

            // The data path: what one replica can answer, it answers.
            HttpResponse<byte[]> read = survivor.get("/kv/before?r=one");
            assertThat(read.statusCode()).as(TestNode.describe(read)).isEqualTo(200);
            assertThat(TestNode.text(read)).isEqualTo("v1");
            HttpResponse<byte[]> write = survivor.put("/kv/during?w=one", "v2");
            assertThat(write.statusCode()).as(TestNode.describe(write)).isEqualTo(200);

            // Changes: refused, naming the reason, within the metadata timeout (plus slack).
            long start = System.nanoTime();
            HttpResponse<byte[]> decommission = survivor.call("POST", "/admin/membership/decommission?node=3", null);
            long tookMillis = (System.nanoTime() - start) / 1_000_000;
            assertThat(decommission.statusCode()).as(TestNode.describe(decommission)).isEqualTo(503);
            assertThat(TestNode.json(decommission).path("code").asText()).isEqualTo("metadata_unavailable");
            assertThat(tookMillis).as("refused within the metadata timeout").isLessThan(15_000);
            HttpResponse<byte[]> namespace = survivor.put("/admin/namespaces/flags", "{}");
            assertThat(namespace.statusCode()).as(TestNode.describe(namespace)).isEqualTo(503);
            assertThat(TestNode.json(namespace).path("code").asText()).isEqualTo("metadata_unavailable");
            assertThat(survivor.get("/admin/namespaces/flags").statusCode()).as("a refused change changes nothing").isEqualTo(404);
            assertThat(TestNode.json(survivor.get("/admin/membership")).path("epoch").asLong()).isEqualTo(epoch);

            // A voter back: the log has its majority, and the same change goes through.
            nodes.set(1, nodes.get(1).restart());
            long deadline = System.nanoTime() + 60_000_000_000L;
            HttpResponse<byte[]> again;
            do {
                again = survivor.put("/admin/namespaces/flags", "{}");
                if (again.statusCode() == 200) {
                    break;
                }
                Thread.sleep(200);
            } while (System.nanoTime() < deadline);
            assertThat(again.statusCode()).as(TestNode.describe(again)).isEqualTo(200);
            assertThat(TestNode.json(survivor.get("/admin/membership")).path("epoch").asLong()).isGreaterThan(epoch);
        } finally {
            nodes.forEach(TestNode::close);
        }
    }
}
