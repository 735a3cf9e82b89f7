package io.cairn.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.server.TestPorts;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node that joins while another membership change runs (nodes started together for a
 * scale-up, a decommission under way) waits for it, up to {@code metadata.joinWait}, and then
 * registers; with no wait it exits at once naming the change, as before. The running change here
 * is node 4's join, held paused by the operator so that it cannot end on its own.
 */
class JoinWaitHttpTest {
    @TempDir
    Path dir;

    @Test
    void aJoinThatFindsAnotherChangeRunningWaitsForItToEndInsteadOfExiting() throws Exception {
        List<TestNode> nodes = new ArrayList<>();
        CompletableFuture<TestNode> fifth = null;
        try {
            // Every partition of node 4's join moving at once (no window): the join's length is then
            // a few metadata entries, which in one JVM with four metadata servers take seconds each.
            nodes.addAll(TestNode.startCluster(dir, 3, true, "moves.window", "1024"));
            TestNode first = nodes.get(0);
            nodes.add(joiner(4, first, "10m"));
            var paused = first.call("POST", "/admin/rebalance/pause", null);
            assertThat(paused.statusCode()).as(TestNode.text(paused)).isEqualTo(200);

            // No wait: refused at once, naming the running change.
            assertThatThrownBy(() -> joiner(6, first, "0s")).hasStackTraceContaining("a membership change is running");

            // With the wait: still not a member while the change is paused, then one once it ends.
            fifth = CompletableFuture.supplyAsync(() -> joiner(5, first, "10m"));
            Thread.sleep(6_000);
            assertThat(fifth).isNotDone();
            assertThat(memberIds(first)).doesNotContain(5);
            var resumed = first.call("POST", "/admin/rebalance/resume", null);
            assertThat(resumed.statusCode()).as(TestNode.text(resumed)).isEqualTo(200);
            nodes.add(fifth.get(120, TimeUnit.SECONDS));
            assertThat(memberIds(first)).contains(4, 5).doesNotContain(6);

            // A node whose certificate another CA issued: the log never answers it, and it says why
            // at once instead of "no majority" after a minute.
            java.nio.file.Path otherCa = dir.resolve("other-ca");
            io.cairn.server.security.CertificateAuthority.init(otherCa, "other", io.cairn.server.security.CertificateAuthority.DEFAULT_CA_VALIDITY);
            io.cairn.server.security.CertificateAuthority.issueNode(otherCa, 7, List.of("127.0.0.1"), dir.resolve("tls-7"),
                    io.cairn.server.security.CertificateAuthority.DEFAULT_NODE_VALIDITY);
            long asked = System.nanoTime();
            assertThatThrownBy(() -> joiner(7, first, "10m", "cluster.tls.dir", dir.resolve("tls-7").toString()))
                    .hasStackTraceContaining("could not join the cluster").hasStackTraceContaining("did not issue")
                    .hasStackTraceContaining("the metadata log's members (node 1 at 127.0.0.1:");
            assertThat(System.nanoTime() - asked).as("told at once, not after the minute of asking again").isLessThan(40_000_000_000L);
            assertThat(memberIds(first)).doesNotContain(7);
        } finally {
            if (fifth != null) {
                List<TestNode> closing = List.copyOf(nodes);
                fifth.thenAccept(n -> {
                    if (!closing.contains(n)) {
                        n.close(); // started after the test gave up on it
                    }
                });
            }
            nodes.forEach(TestNode::close);
        }
    }

    private TestNode joiner(int id, TestNode through, String joinWait, String... more) {
        int http = TestPorts.free();
        String self = id + "/zone-" + id + "/127.0.0.1:" + http + "/127.0.0.1:" + TestPorts.free() + "/127.0.0.1:" + TestPorts.free();
        List<String> settings = new ArrayList<>(List.of("node.id", Integer.toString(id), "http.port", Integer.toString(http),
                "cluster.members", self, "cluster.join", "127.0.0.1:" + through.port(), "metadata.joinWait", joinWait));
        settings.addAll(List.of(more));
        return TestNode.start(dir.resolve("n" + id), settings.toArray(String[]::new));
    }

    private static List<Integer> memberIds(TestNode node) {
        JsonNode view = TestNode.json(node.get("/admin/membership"));
        List<Integer> ids = new ArrayList<>();
        view.path("members").forEach(m -> {
            if (!"removed".equals(m.path("state").asText())) {
                ids.add(m.path("id").asInt());
            }
        });
        return ids;
    }
}
