package io.cairn.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member of an elastic cluster whose disk was lost (its data directory wiped, its certificates
 * kept, as when a volume is replaced under a machine that keeps its identity) must not take its old
 * place: it refuses to start, naming {@code replace}. A member's first start, after the others
 * formed the log, is not refused (every elastic cluster these tests start has one: nodes start one
 * after another).
 */
class LostDiskHttpTest {
    @TempDir
    Path dir;

    @Test
    void aMemberThatLostItsDiskRefusesToTakeItsOldPlace() throws Exception {
        List<TestNode> nodes = new ArrayList<>();
        try {
            nodes.addAll(TestNode.startCluster(dir, 3, true));
            assertThat(nodes.get(0).put("/kv/before?w=quorum", "v1").statusCode()).isEqualTo(200);

            // A member the log's leader has seen acknowledge entries, not the leader itself.
            int victim = 0;
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (victim == 0) {
                JsonNode group = TestNode.json(nodes.get(0).get("/admin/membership")).path("metadataGroup");
                int leader = group.path("leader").asInt();
                if (leader > 0) {
                    for (JsonNode id : TestNode.json(nodes.get(leader - 1).get("/admin/membership")).path("metadataGroup").path("acknowledged")) {
                        if (id.asInt() != leader) {
                            victim = id.asInt();
                        }
                    }
                }
                assertThat(System.nanoTime()).as("the leader never listed a follower that acknowledged entries: %s", group).isLessThan(deadline);
                Thread.sleep(100);
            }

            TestNode lost = nodes.get(victim - 1);
            lost.close();
            wipeAllBut(lost.dataDir, "tls");
            int id = victim;
            assertThatThrownBy(lost::restart).hasStackTraceContaining("node " + id + " lost its data")
                    .hasStackTraceContaining("bin/cairn membership replace " + id);
            nodes.remove(lost);

            // The others go on serving what was written.
            assertThat(TestNode.text(nodes.get(0).get("/kv/before?r=one"))).isEqualTo("v1");
        } finally {
            nodes.forEach(TestNode::close);
        }
    }

    private static void wipeAllBut(Path dataDir, String kept) throws IOException {
        try (Stream<Path> top = Files.list(dataDir)) {
            for (Path p : top.filter(p -> !p.getFileName().toString().equals(kept)).toList()) {
                try (Stream<Path> all = Files.walk(p)) {
                    for (Path f : all.sorted(Comparator.reverseOrder()).toList()) {
                        Files.delete(f);
                    }
                }
            }
        }
    }
}
