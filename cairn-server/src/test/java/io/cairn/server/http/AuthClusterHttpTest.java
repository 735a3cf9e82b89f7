package io.cairn.server.http;

import static io.cairn.server.http.TestNode.json;
import static io.cairn.server.http.TestNode.text;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tokens on a three-node cluster: made on one node, they work on every node; revoked on one,
 * they stop on every other within the token cache time; a node cut off from the token store
 * refuses tokens it cannot check (503, never let through) while its own admin credential works.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuthClusterHttpTest {
    private static final long CACHE_MILLIS = 1_000;
    @TempDir
    static Path tmp;

    private final List<TestNode> nodes = new ArrayList<>();

    @BeforeAll
    void startCluster() throws Exception {
        nodes.addAll(TestNode.startCluster(tmp, 3, "cluster.heartbeatInterval", "100ms", "cluster.faultInjection", "true",
                "auth.enabled", "true", "auth.tokenCacheTtl", CACHE_MILLIS + "ms", "auth.unknownCacheTtl", "200ms"));
    }

    @AfterAll
    void stopCluster() {
        nodes.forEach(TestNode::close);
    }

    private TestNode node(int id) {
        return nodes.get(id - 1);
    }

    private static JsonNode create(TestNode on, String name, String roles) {
        HttpResponse<byte[]> r = on.call("POST", "/admin/auth/tokens", ("{\"name\":\"" + name + "\",\"roles\":" + roles + "}").getBytes(StandardCharsets.UTF_8),
                "Content-Type", "application/json");
        assertThat(r.statusCode()).as(TestNode.describe(r)).isEqualTo(201);
        return json(r);
    }

    @Test
    void aTokenMadeOnOneNodeWorksOnEveryNodeAndARevocationReachesThemWithinTheCacheTime() throws Exception {
        JsonNode made = create(node(1), "svc", "[\"write:default\"]");
        String auth = "Bearer " + made.path("token").asText();
        for (TestNode n : nodes) {
            assertThat(n.put("/kv/svc", "x", "Authorization", auth).statusCode()).isEqualTo(200);
        }
        // Nodes 2 and 3 now trust their cached copy; the revocation is made on node 1.
        assertThat(node(1).delete("/admin/auth/tokens/" + made.path("id").asText()).statusCode()).isEqualTo(200);
        long revokedAt = System.nanoTime();
        assertThat(node(1).get("/kv/svc", "Authorization", auth).statusCode()).as("at once where it was revoked").isEqualTo(401);
        for (TestNode n : List.of(node(2), node(3))) {
            long deadline = revokedAt + (CACHE_MILLIS + 2_000) * 1_000_000L;
            int status;
            do {
                status = n.get("/kv/svc", "Authorization", auth).statusCode();
                if (status == 401) {
                    break;
                }
                Thread.sleep(50);
            } while (System.nanoTime() < deadline);
            assertThat(status).as("node %s refuses within the cache time plus a store read", n.node.config().nodeId()).isEqualTo(401);
        }
        JsonNode listed = json(node(3).get("/admin/auth/tokens"));
        assertThat(listed.path("tokens").toString()).contains(made.path("id").asText()).contains("revoked");
    }

    @Test
    void aNodeCutOffFromTheTokenStoreFailsClosedButItsOwnCredentialStillWorks() throws Exception {
        JsonNode made = create(node(1), "cut", "[\"read:default\"]");
        String auth = "Bearer " + made.path("token").asText();
        assertThat(node(3).call("POST", "/admin/faults?block=1,2", new byte[0]).statusCode()).isEqualTo(200);
        try {
            HttpResponse<byte[]> r = node(3).get("/kv/anything", "Authorization", auth);
            assertThat(r.statusCode()).as(TestNode.describe(r)).isEqualTo(503);
            assertThat(json(r).path("code").asText()).isEqualTo("auth_unavailable");
            assertThat(node(3).get("/admin/status").statusCode()).as("the node's own admin credential needs no store").isEqualTo(200);
        } finally {
            assertThat(node(3).call("POST", "/admin/faults?block=", new byte[0]).statusCode()).isEqualTo(200);
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        int status;
        do {
            Thread.sleep(100);
            status = node(3).get("/kv/anything", "Authorization", auth).statusCode();
        } while (status == 503 && System.nanoTime() < deadline);
        assertThat(status).as("healed: the token is checked again").isEqualTo(404);
        assertThat(text(node(3).get("/metrics"))).contains("cairn_auth_lookups_total{result=\"unavailable\"}");
    }
}
