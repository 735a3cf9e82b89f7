package io.cairn.server.http;

import static io.cairn.server.http.TestNode.etag;
import static io.cairn.server.http.TestNode.json;
import static io.cairn.server.http.TestNode.text;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The key-value API of a three-node cluster (three real nodes in this JVM, each with its own
 * RocksDB, talking over the internode transport on loopback): any node serves any key at the
 * requested quorums, answers say how many replicas took part, idempotent retries through another
 * coordinator replay the first outcome, and bad cluster input is refused without effect.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClusterHttpTest {
    @TempDir
    static Path tmp;

    private final List<TestNode> nodes = new ArrayList<>();

    @BeforeAll
    void startCluster() throws Exception {
        nodes.addAll(TestNode.startCluster(tmp, 3, "cluster.heartbeatInterval", "100ms"));
    }

    @AfterAll
    void stopCluster() {
        nodes.forEach(TestNode::close);
    }

    private TestNode node(int id) {
        return nodes.get(id - 1);
    }

    @Test
    void anyNodeServesAnyKeyAndSaysHowManyReplicasTookPart() {
        HttpResponse<byte[]> put = node(1).put("/kv/shared?w=all", "v1", "Content-Type", "text/plain");
        assertThat(put.statusCode()).isEqualTo(200);
        assertThat(put.headers().firstValue("Cairn-Acks")).contains("3");
        for (int id = 1; id <= 3; id++) {
            HttpResponse<byte[]> get = node(id).get("/kv/shared?r=all");
            assertThat(get.statusCode()).isEqualTo(200);
            assertThat(text(get)).isEqualTo("v1");
            assertThat(get.headers().firstValue("Content-Type")).contains("text/plain");
            assertThat(get.headers().firstValue("Cairn-Replies")).contains("3");
            assertThat(etag(get)).isEqualTo(etag(put));
        }
        HttpResponse<byte[]> one = node(2).get("/kv/shared", "Cairn-Read-Quorum", "one");
        assertThat(one.statusCode()).isEqualTo(200);
        assertThat(Integer.parseInt(one.headers().firstValue("Cairn-Replies").orElseThrow())).isBetween(1, 3);

        HttpResponse<byte[]> delete = node(3).delete("/kv/shared?w=quorum");
        assertThat(delete.statusCode()).isEqualTo(204);
        assertThat(Integer.parseInt(delete.headers().firstValue("Cairn-Acks").orElseThrow())).isBetween(2, 3);
        assertThat(node(1).get("/kv/shared?r=quorum").statusCode()).isEqualTo(404);
        assertThat(node(2).head("/kv/shared?r=all").statusCode()).isEqualTo(404);
    }

    @Test
    void ttlAndBatchWorkThroughAnyCoordinator() throws Exception {
        HttpResponse<byte[]> put = node(2).put("/kv/short-lived?ttl=300ms", "x");
        assertThat(put.statusCode()).isEqualTo(200);
        assertThat(put.headers().firstValue("Cairn-Expires-At")).isPresent();
        assertThat(node(3).get("/kv/short-lived?r=all").statusCode()).isEqualTo(200);
        Thread.sleep(400);
        assertThat(node(1).get("/kv/short-lived?r=all").statusCode()).isEqualTo(404);

        HttpResponse<byte[]> batch = node(1).batch("""
                {"operations":[{"op":"put","key":"b1","value":"one"},{"op":"put","key":"b2","value":"two"},
                        {"op":"get","key":"b1"},{"op":"delete","key":"b-none"},{"op":"get","key":"never-written"},
                        {"op":"put","key":"b1","value":"uno"},{"op":"get","key":"b1"}]}""", "Cairn-Write-Quorum", "all");
        assertThat(batch.statusCode()).as(TestNode.describe(batch)).isEqualTo(200);
        JsonNode results = json(batch).path("results");
        assertThat(results).hasSize(7);
        assertThat(results.get(0).path("status").asInt()).isEqualTo(200);
        assertThat(results.get(1).path("status").asInt()).isEqualTo(200);
        assertThat(results.get(3).path("status").asInt()).isEqualTo(204);
        assertThat(results.get(4).path("status").asInt()).isEqualTo(404);
        // Operations on one key run in order, each seeing the ones before it.
        assertThat(results.get(2).path("value").asText()).isEqualTo("one");
        assertThat(results.get(6).path("value").asText()).isEqualTo("uno");
        assertThat(text(node(2).get("/kv/b1?r=all"))).isEqualTo("uno");
        assertThat(text(node(3).get("/kv/b2?r=one"))).isEqualTo("two");
    }

    @Test
    void idempotentRetryThroughAnotherCoordinatorReplaysTheFirstOutcome() {
        HttpResponse<byte[]> first = node(1).put("/kv/payment-7", "charged", "Idempotency-Key", "req-7");
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.headers().firstValue("Idempotent-Replayed")).isEmpty();
        // Someone else overwrites the key; the retry must not redo the write.
        assertThat(node(3).put("/kv/payment-7", "refunded").statusCode()).isEqualTo(200);

        HttpResponse<byte[]> retry = node(2).put("/kv/payment-7", "charged", "Idempotency-Key", "req-7");
        assertThat(retry.statusCode()).isEqualTo(200);
        assertThat(retry.headers().firstValue("Idempotent-Replayed")).contains("true");
        assertThat(etag(retry)).isEqualTo(etag(first));
        assertThat(text(node(1).get("/kv/payment-7?r=all"))).isEqualTo("refunded");

        HttpResponse<byte[]> reused = node(3).put("/kv/payment-7", "something else", "Idempotency-Key", "req-7");
        assertThat(reused.statusCode()).isEqualTo(422);
        assertThat(json(reused).path("code").asText()).isEqualTo("idempotency_key_reused");

        HttpResponse<byte[]> delete = node(3).delete("/kv/payment-7", "Idempotency-Key", "req-8");
        assertThat(delete.statusCode()).isEqualTo(204);
        HttpResponse<byte[]> deleteRetry = node(1).delete("/kv/payment-7", "Idempotency-Key", "req-8");
        assertThat(deleteRetry.statusCode()).isEqualTo(204);
        assertThat(deleteRetry.headers().firstValue("Idempotent-Replayed")).contains("true");
        assertThat(etag(deleteRetry)).isEqualTo(etag(delete));
    }

    @Test
    void aRetryAskingForAnotherWriteQuorumStillFindsTheFirstOutcome() {
        // The quorum headers are not part of the request's identity: a client may retry at
        // another w. The outcome is kept and looked up at a majority, whatever the w.
        HttpResponse<byte[]> first = node(1).put("/kv/order-9", "placed", "Idempotency-Key", "req-9", "Cairn-Write-Quorum", "one");
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.headers().firstValue("Idempotent-Recorded")).isEmpty();
        HttpResponse<byte[]> retry = node(2).put("/kv/order-9", "placed", "Idempotency-Key", "req-9", "Cairn-Write-Quorum", "all");
        assertThat(retry.statusCode()).isEqualTo(200);
        assertThat(retry.headers().firstValue("Idempotent-Replayed")).contains("true");
        assertThat(etag(retry)).isEqualTo(etag(first));
    }

    @Test
    void badClusterInputIsRefusedAndChangesNothing() {
        assertRefused(node(1).put("/kv/q?w=4", "x"), 400, "invalid_quorum");
        assertRefused(node(1).put("/kv/q?w=most", "x"), 400, "invalid_quorum");
        assertRefused(node(1).put("/kv/q?w=one", "x", "Cairn-Write-Quorum", "all"), 400, "invalid_quorum");
        assertRefused(node(1).get("/kv/q?r=0"), 400, "invalid_quorum");
        assertRefused(node(1).get("/kv/q?consistency=linear"), 400, "invalid_parameter");
        assertRefused(node(1).get("/kv/q?consistency=serial&r=one"), 400, "invalid_parameter");
        assertRefused(node(1).get("/kv/q?consistency=serial", "Cairn-Consistency", "quorum"), 400, "invalid_parameter");
        assertRefused(node(1).put("/kv/q?color=red", "x"), 400, "invalid_parameter");
        assertRefused(node(1).put("/kv/q", "x", "Idempotency-Key", "bad key"), 400, "invalid_idempotency_key");
        // A batch whose quorum cannot be met by any cluster is refused whole, before any operation runs.
        assertRefused(node(1).call("POST", "/kv/_batch?w=4", "{\"operations\":[{\"op\":\"put\",\"key\":\"q\",\"value\":\"x\"}]}"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8), "Content-Type", "application/json"), 400, "invalid_quorum");
        assertThat(node(2).get("/kv/q?r=all").statusCode()).isEqualTo(404);
    }

    @Test
    void conditionalWritesAreCompareAndSwapThroughAnyCoordinator() {
        HttpResponse<byte[]> created = node(1).put("/kv/lock", "owner-a", "If-None-Match", "*");
        assertThat(created.statusCode()).isEqualTo(200);
        String first = etag(created);
        // A second create-only write, through another coordinator, finds the key taken.
        HttpResponse<byte[]> taken = node(2).put("/kv/lock", "owner-b", "If-None-Match", "*");
        assertThat(taken.statusCode()).isEqualTo(412);
        assertThat(json(taken).path("code").asText()).isEqualTo("precondition_failed");

        HttpResponse<byte[]> swapped = node(3).put("/kv/lock", "owner-c", "If-Match", first);
        assertThat(swapped.statusCode()).isEqualTo(200);
        String second = etag(swapped);
        assertThat(second).isNotEqualTo(first);
        assertThat(node(1).put("/kv/lock", "owner-d", "If-Match", first).statusCode()).isEqualTo(412);

        // Serial reads, through every node, see the last swap; so does a quorum read.
        for (int id = 1; id <= 3; id++) {
            HttpResponse<byte[]> read = node(id).get("/kv/lock?consistency=serial");
            assertThat(read.statusCode()).isEqualTo(200);
            assertThat(text(read)).isEqualTo("owner-c");
            assertThat(etag(read)).isEqualTo(second);
        }
        assertThat(etag(node(2).get("/kv/lock", "Cairn-Read-Quorum", "quorum", "Cairn-Consistency", "quorum"))).isEqualTo(second);

        assertThat(node(2).delete("/kv/lock", "If-Match", first).statusCode()).isEqualTo(412);
        assertThat(node(2).delete("/kv/lock", "If-Match", second).statusCode()).isEqualTo(204);
        assertThat(node(3).get("/kv/lock", "Cairn-Consistency", "serial").statusCode()).isEqualTo(404);
        assertThat(node(1).put("/kv/lock", "owner-e", "If-None-Match", "*").statusCode()).isEqualTo(200);
    }

    @Test
    void twoFirstAttemptsThroughTwoNodesRunOnce() throws Exception {
        for (int round = 0; round < 5; round++) {
            String key = "twin-" + round;
            java.util.concurrent.CompletableFuture<HttpResponse<byte[]>> a = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> node(1).put("/kv/" + key, "v", "Idempotency-Key", "k-" + key));
            java.util.concurrent.CompletableFuture<HttpResponse<byte[]>> b = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> node(2).put("/kv/" + key, "v", "Idempotency-Key", "k-" + key));
            List<HttpResponse<byte[]>> both = List.of(a.get(), b.get());
            long ran = both.stream().filter(r -> r.statusCode() == 200 && r.headers().firstValue("Idempotent-Replayed").isEmpty()).count();
            assertThat(ran).as("attempts that ran: %s", both.stream().map(r -> r.statusCode() + " " + r.headers().map()).toList()).isEqualTo(1);
            for (HttpResponse<byte[]> r : both) {
                // The other attempt replays the first outcome, or is told the first one still runs.
                assertThat(r.statusCode()).isIn(200, 409);
                if (r.statusCode() == 409) {
                    assertThat(new String(r.body(), java.nio.charset.StandardCharsets.UTF_8)).contains("idempotency_in_flight");
                }
            }
            // A retry through the third node replays it.
            HttpResponse<byte[]> retry = node(3).put("/kv/" + key, "v", "Idempotency-Key", "k-" + key);
            assertThat(retry.statusCode()).isEqualTo(200);
            assertThat(retry.headers().firstValue("Idempotent-Replayed")).contains("true");
        }
    }

    @Test
    void aWriteCarryingACausalTokenIsStampedAboveIt() {
        HttpResponse<byte[]> first = node(1).put("/kv/causal", "v1");
        io.cairn.clock.Version v1 = io.cairn.clock.Version.parseToken(etag(first).replace("\"", ""));
        // A token from the future within the max clock offset: the next write, through another node, is stamped above it.
        io.cairn.clock.Version ahead = new io.cairn.clock.Version(v1.timestamp() + io.cairn.clock.Version.pack(200, 0), 1);
        HttpResponse<byte[]> second = node(2).put("/kv/causal", "v2", "Cairn-After", "\"" + ahead.token() + "\"");
        assertThat(second.statusCode()).isEqualTo(200);
        io.cairn.clock.Version v2 = io.cairn.clock.Version.parseToken(etag(second).replace("\"", ""));
        assertThat(v2).isGreaterThan(ahead);
        // The unquoted form (as a client may copy it) works too, for deletes as well.
        HttpResponse<byte[]> deleted = node(3).delete("/kv/causal", "Cairn-After", v2.token());
        assertThat(deleted.statusCode()).isEqualTo(204);
        assertThat(io.cairn.clock.Version.parseToken(etag(deleted).replace("\"", ""))).isGreaterThan(v2);

        assertRefused(node(1).put("/kv/causal", "x", "Cairn-After", "yesterday"), 400, "invalid_header");
        // A token further ahead than the max clock offset (500 ms) is refused, and nothing is written:
        // within twice the offset a node's clock may be that far ahead (503, retry elsewhere or later),
        io.cairn.clock.Version soon = new io.cairn.clock.Version(io.cairn.clock.Version.pack(System.currentTimeMillis() + 750, 0), 2);
        assertRefused(node(1).put("/kv/causal", "x", "Cairn-After", soon.token()), 503, "clock_unsafe");
        // beyond it no node of the cluster issued it: a client error.
        io.cairn.clock.Version future = new io.cairn.clock.Version(v2.timestamp() + io.cairn.clock.Version.pack(3_600_000, 0), 2);
        HttpResponse<byte[]> bogus = node(1).put("/kv/causal", "x", "Cairn-After", future.token());
        assertRefused(bogus, 400, "invalid_header");
        assertThat(TestNode.json(bogus).path("cause").asText()).isEqualTo("causal_token");
        assertThat(TestNode.json(bogus).path("offsetMillis").asLong()).isGreaterThan(3_000_000L);
        assertThat(node(2).get("/kv/causal?r=all").statusCode()).isEqualTo(404);
    }

    @Test
    void operatorViewsShowMembersPartitionsAndEachReplicasVersion() {
        HttpResponse<byte[]> put = node(1).put("/kv/inspect-me?w=all", "x");
        JsonNode cluster = json(node(2).get("/admin/cluster"));
        assertThat(cluster.path("self").asInt()).isEqualTo(2);
        assertThat(cluster.path("members")).hasSize(3);
        assertThat(cluster.path("partitionMap").path("partitions").asInt()).isEqualTo(256);
        JsonNode key = json(node(3).get("/admin/keys/inspect-me"));
        assertThat(key.path("replicas")).hasSize(3);
        for (JsonNode r : key.path("replicas")) {
            assertThat(r.path("etag").asText()).isEqualTo(etag(put));
        }
        assertThat(json(node(1).get("/admin/partitions/" + key.path("partition").asInt())).path("preferenceList")).hasSize(3);
        assertRefused(node(1).get("/admin/partitions/256"), 404, "route_not_found");
        assertRefused(node(1).get("/admin/partitions/x"), 400, "invalid_parameter");
        assertRefused(node(1).call("POST", "/admin/faults?block=2", null), 404, "route_not_found");
        JsonNode status = json(node(1).get("/admin/status"));
        assertThat(status.path("cluster").path("members").asInt()).isEqualTo(3);
        assertThat(status.path("backlogs").has("replicaLagMillis")).isTrue();
        assertThat(node(1).metrics()).contains("cairn_peer_requests_seconds_count{kind=\"replication\",peer=\"2\"}");
    }

    private static void assertRefused(HttpResponse<byte[]> r, int status, String code) {
        assertThat(r.statusCode()).as(TestNode.describe(r)).isEqualTo(status);
        assertThat(json(r).path("code").asText()).as(TestNode.describe(r)).isEqualTo(code);
    }
}
