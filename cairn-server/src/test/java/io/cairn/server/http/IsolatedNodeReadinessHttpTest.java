package io.cairn.server.http;

import static io.cairn.server.http.TestNode.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node that can reach no majority of any partition's replicas is not ready: every request it
 * coordinates at the default quorums would fail, so a load balancer should send them elsewhere.
 * Losing a minority leaves it ready; a peer coming back makes it ready again.
 */
class IsolatedNodeReadinessHttpTest {
    @TempDir
    Path tmp;

    private final List<TestNode> nodes = new ArrayList<>();

    @AfterEach
    void stop() {
        nodes.forEach(TestNode::close);
    }

    @Test
    void aNodeWithNoQuorumAnywhereLeavesReadyAndComesBackWithAPeer() throws Exception {
        nodes.addAll(TestNode.startCluster(tmp, 3, "cluster.heartbeatInterval", "100ms"));
        TestNode one = nodes.get(0);
        int partitions = json(one.get("/admin/cluster")).path("partitionMap").path("partitions").asInt();
        assertThat(partitions).isPositive();

        nodes.get(2).close();
        one.awaitDown(3);
        JsonNode minorityLost = awaitReady(one, r -> r.statusCode() == 200);
        assertThat(minorityLost.path("isolated").asBoolean()).isFalse();
        assertThat(minorityLost.path("partitionsWithoutQuorum").asInt()).as("2 of 3 replicas of every partition").isZero();

        nodes.get(1).close();
        one.awaitDown(2);
        JsonNode isolated = awaitReady(one, r -> r.statusCode() == 503);
        assertThat(isolated.path("ready").asBoolean()).isFalse();
        assertThat(isolated.path("isolated").asBoolean()).isTrue();
        assertThat(isolated.path("partitionsWithoutQuorum").asInt()).isEqualTo(partitions);

        nodes.set(1, nodes.get(1).restart());
        JsonNode back = awaitReady(one, r -> r.statusCode() == 200);
        assertThat(back.path("isolated").asBoolean()).isFalse();
        assertThat(back.path("partitionsWithoutQuorum").asInt()).isZero();
    }

    /** Polls /ready (20 s at most) until {@code until} holds; returns its body. */
    private static JsonNode awaitReady(TestNode node, Predicate<HttpResponse<byte[]>> until) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        HttpResponse<byte[]> r = node.get("/ready");
        while (!until.test(r)) {
            assertThat(System.nanoTime()).as("/ready: " + TestNode.describe(r)).isLessThan(deadline);
            Thread.sleep(100);
            r = node.get("/ready");
        }
        return json(r);
    }
}
