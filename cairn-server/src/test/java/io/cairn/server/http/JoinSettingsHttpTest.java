package io.cairn.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node joining an elastic cluster must share the settings every member must share (limits, the
 * purge grace, the clock offset bound, the hint window, the metadata log's voters): one that does
 * not is refused at start, naming each difference, before it registers or keeps anything; started
 * again with the cluster's settings, it joins.
 */
class JoinSettingsHttpTest {
    @TempDir
    Path dir;

    @Test
    void aJoiningNodeWithOtherClusterWideSettingsIsRefusedThenJoinsOnceTheyMatch() throws Exception {
        List<TestNode> nodes = new ArrayList<>();
        try {
            nodes.addAll(TestNode.startCluster(dir, 3, true, "ttl.purgeGrace", "2d", "limits.maxValueBytes", "256KiB"));
            TestNode first = nodes.get(0);
            JsonNode bootstrap = TestNode.json(first.get("/admin/cluster/bootstrap"));
            assertThat(bootstrap.path("settings").path("ttl.purgeGrace").asText()).isEqualTo("172800000ms");
            assertThat(bootstrap.path("settings").path("limits.maxValueBytes").asText()).isEqualTo("262144");

            int http = io.cairn.server.TestPorts.free();
            String self = "4/zone-1/127.0.0.1:" + http + "/127.0.0.1:" + io.cairn.server.TestPorts.free()
                    + "/127.0.0.1:" + io.cairn.server.TestPorts.free();
            Path joiner = dir.resolve("n4");
            String[] defaults = {"node.id", "4", "http.port", Integer.toString(http), "cluster.members", self,
                "cluster.join", "127.0.0.1:" + first.port()};
            assertThatThrownBy(() -> TestNode.start(joiner, defaults))
                    .hasStackTraceContaining("settings differ from the cluster's")
                    .hasStackTraceContaining("ttl.purgeGrace is 14400000ms here and 172800000ms on 127.0.0.1:" + first.port())
                    .hasStackTraceContaining("limits.maxValueBytes is 1048576 here and 262144 on");
            assertThat(joiner.resolve("metadata").resolve("bootstrap.state")).as("nothing kept").doesNotExist();
            assertThat(TestNode.json(first.get("/admin/membership")).path("members").size()).as("not registered").isEqualTo(3);

            List<String> matching = new ArrayList<>(List.of(defaults));
            matching.addAll(List.of("ttl.purgeGrace", "2d", "limits.maxValueBytes", "256KiB"));
            nodes.add(TestNode.start(joiner, matching.toArray(String[]::new)));
            assertThat(Files.exists(joiner.resolve("metadata").resolve("bootstrap.state"))).isTrue();
            List<Integer> ids = new ArrayList<>();
            TestNode.json(first.get("/admin/membership")).path("members").forEach(m -> ids.add(m.path("id").asInt()));
            assertThat(ids).contains(4);
        } finally {
            nodes.forEach(TestNode::close);
        }
    }
}
