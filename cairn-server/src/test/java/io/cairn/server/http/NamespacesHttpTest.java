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
 * Namespaces through the real server: defined with {@code PUT /admin/namespaces/{name}}, addressed
 * at {@code /ns/{name}/kv/...}, each with its own policy; on a single node (kept in its storage,
 * across a restart) and on a three-node cluster (kept in the metadata log; a serial namespace runs
 * every plain read and write as a Paxos round and refuses weaker quorums).
 */
class NamespacesHttpTest {
    @TempDir
    Path dir;

    @Test
    void aSingleNodeKeepsItsNamespacesWithTheirPoliciesAcrossARestart() {
        try (TestNode node = TestNode.start(dir)) {
            JsonNode list = TestNode.json(node.get("/admin/namespaces"));
            assertThat(list.path("namespaces")).hasSize(1);
            assertThat(list.path("namespaces").get(0).path("name").asText()).isEqualTo("default");

            HttpResponse<byte[]> created = node.put("/admin/namespaces/sessions", "{\"defaultTtl\": \"30m\", \"maxValueBytes\": 16}");
            assertThat(created.statusCode()).as(TestNode.describe(created)).isEqualTo(200);
            assertThat(TestNode.json(created).path("id").asInt()).isEqualTo(16);
            assertThat(TestNode.json(created).path("defaultTtlMillis").asLong()).isEqualTo(30 * 60_000L);
            // The same definition again is a no-op that answers the same.
            assertThat(TestNode.json(node.put("/admin/namespaces/sessions", "{\"defaultTtl\": \"30m\", \"maxValueBytes\": 16}")).path("id").asInt())
                    .isEqualTo(16);

            HttpResponse<byte[]> put = node.put("/ns/sessions/kv/s1", "0123456789");
            assertThat(put.statusCode()).as(TestNode.describe(put)).isEqualTo(200);
            assertThat(put.headers().firstValue("Cairn-Expires-At")).as("the namespace's default TTL applies").isPresent();
            HttpResponse<byte[]> tooLarge = node.put("/ns/sessions/kv/s2", "0123456789abcdefg");
            assertThat(tooLarge.statusCode()).isEqualTo(413);
            assertThat(TestNode.json(tooLarge).path("code").asText()).isEqualTo("value_too_large");
            assertThat(TestNode.json(tooLarge).path("message").asText()).contains("namespace sessions");
            assertThat(node.get("/ns/sessions/kv/s2").statusCode()).as("a refused put stores nothing").isEqualTo(404);
            // In a batch, the value over the namespace's limit is a bad operation, named as the batch's others are.
            HttpResponse<byte[]> batch = node.call("POST", "/ns/sessions/kv/_batch", ("[{\"op\":\"put\",\"key\":\"b1\",\"value\":\"ok\"},"
                    + "{\"op\":\"put\",\"key\":\"b2\",\"value\":\"0123456789abcdefg\"}]").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            assertThat(batch.statusCode()).as(TestNode.describe(batch)).isEqualTo(400);
            assertThat(TestNode.json(batch).path("code").asText()).isEqualTo("malformed_batch");
            assertThat(TestNode.json(batch).path("operation").asInt()).isEqualTo(1);
            assertThat(TestNode.json(batch).path("cause").asText()).isEqualTo("value_too_large");
            assertThat(TestNode.json(batch).path("message").asText()).startsWith("operations[1]: ").contains("namespace sessions");
            HttpResponse<byte[]> single = node.call("POST", "/ns/sessions/kv/_batch",
                    "[{\"op\":\"put\",\"key\":\"b2\",\"value\":\"0123456789abcdefg\"}]".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            assertThat(TestNode.json(single).path("code").asText()).isEqualTo("malformed_batch");
            assertThat(TestNode.json(single).path("operation").asInt()).isZero();
            assertThat(node.get("/ns/sessions/kv/b1").statusCode()).as("nothing of the batch was applied").isEqualTo(404);
            // Namespaces are separate key spaces.
            assertThat(node.get("/kv/s1").statusCode()).isEqualTo(404);
            HttpResponse<byte[]> badName = node.get("/ns/Sessions/kv/s1");
            assertThat(TestNode.json(badName).path("code").asText()).isEqualTo("namespace_not_found");
            assertThat(TestNode.json(badName).path("message").asText()).contains("is not a namespace name").doesNotContain("creates it");
            assertThat(TestNode.text(node.get("/ns/sessions/kv/s1"))).isEqualTo("0123456789");

            HttpResponse<byte[]> unknown = node.put("/ns/nope/kv/a", "v");
            assertThat(unknown.statusCode()).isEqualTo(404);
            assertThat(TestNode.json(unknown).path("code").asText()).isEqualTo("namespace_not_found");
            assertThat(TestNode.json(unknown).path("message").asText()).contains("PUT /admin/namespaces/nope creates it");
            HttpResponse<byte[]> reserved = node.get("/ns/idempotency/kv/a");
            assertThat(reserved.statusCode()).isEqualTo(404);
            assertThat(TestNode.json(reserved).path("message").asText()).contains("reserved").doesNotContain("creates it");

            for (String[] bad : new String[][] {
                    {"/admin/namespaces/x1", "{\"consistency\": \"strong\"}", "consistency must be quorum or serial"},
                    {"/admin/namespaces/x2", "{\"colour\": 1}", "unknown field 'colour'"},
                    {"/admin/namespaces/x3", "{\"maxValueBytes\": -1}", "maxValueBytes"},
                    {"/admin/namespaces/x4", "[1]", "JSON object"},
                    {"/admin/namespaces/x5", "{\"readQuorum\": 2}", "readQuorum=2"},
                    {"/admin/namespaces/Upper", "{}", "must match"},
                    {"/admin/namespaces/default", "{}", "the default namespace's policy"},
                    {"/admin/namespaces/tokens", "{}", "reserved"},
                    {"/admin/namespaces/x6", "{\"defaultTtl\": \"0.0001\"}", "at least 1ms"},
                    {"/admin/namespaces/x7", "{\"defaultTtl\": true}", "number of seconds"},
                    {"/admin/namespaces/x12", "{\"defaultTtl\": 1e400}", "at most"},
                    // Strict JSON: a repeated field, anything after the object, or no body at all is refused, never guessed at.
                    {"/admin/namespaces/x8", "{\"consistency\": \"serial\", \"consistency\": \"quorum\"}", "Duplicate field"},
                    {"/admin/namespaces/x9", "{\"consistency\": \"serial\"} {}", "not valid JSON"},
                    {"/admin/namespaces/x10", "{\"consistency\": \"serial\"}garbage", "not valid JSON"},
                    {"/admin/namespaces/x11", "", "({} for every default)"}}) {
                HttpResponse<byte[]> refused = node.put(bad[0], bad[1]);
                assertThat(refused.statusCode()).as(bad[1] + ": " + TestNode.describe(refused)).isEqualTo(400);
                assertThat(TestNode.json(refused).path("code").asText()).isEqualTo("invalid_namespace");
                assertThat(TestNode.json(refused).path("message").asText()).contains(bad[2]);
            }
            // A form (curl -d without -H) or text is not parsed on a guess.
            for (String type : new String[] {"application/x-www-form-urlencoded", "text/plain", "application/json; charset=latin1"}) {
                HttpResponse<byte[]> form = node.put("/admin/namespaces/formed", "{}", "Content-Type", type);
                assertThat(form.statusCode()).as(type + ": " + TestNode.describe(form)).isEqualTo(415);
                assertThat(TestNode.json(form).path("code").asText()).isEqualTo("unsupported_media_type");
                assertThat(TestNode.json(form).path("message").asText()).contains("a namespace's settings must be JSON").contains(type);
            }
            assertThat(TestNode.json(node.get("/admin/namespaces")).path("namespaces")).as("refused definitions change nothing").hasSize(2);
            // Seconds, whole or not, as a batch's ttl and the ttl parameter take them.
            HttpResponse<byte[]> fractional = node.put("/admin/namespaces/fractional", "{\"defaultTtl\": 1.5}",
                    "Content-Type", "application/json; charset=UTF-8");
            assertThat(fractional.statusCode()).as(TestNode.describe(fractional)).isEqualTo(200);
            assertThat(TestNode.json(fractional).path("defaultTtlMillis").asLong()).isEqualTo(1500);
        }
        try (TestNode node = TestNode.start(dir)) {
            JsonNode sessions = TestNode.json(node.get("/admin/namespaces/sessions"));
            assertThat(sessions.path("maxValueBytes").asLong()).isEqualTo(16);
            assertThat(TestNode.text(node.get("/ns/sessions/kv/s1"))).isEqualTo("0123456789");
            assertThat(node.put("/ns/sessions/kv/s3", "0123456789abcdefg").statusCode()).isEqualTo(413);
            assertRetryReplaysAcrossAPolicyChange(node, node);
        }
    }

    @Test
    void aClusterDefinesNamespacesInItsMetadataLogAndASerialOneRunsEveryOperationThroughPaxos() throws Exception {
        List<TestNode> nodes = new ArrayList<>();
        try {
            nodes.addAll(TestNode.startCluster(dir, 3, true, "cluster.requestTimeout", "2s"));
            TestNode first = nodes.get(0);
            HttpResponse<byte[]> weak = first.put("/admin/namespaces/locks", "{\"consistency\": \"serial\", \"writeQuorum\": \"one\"}");
            assertThat(weak.statusCode()).as(TestNode.describe(weak)).isEqualTo(400);
            assertThat(TestNode.json(weak).path("message").asText()).contains("serial namespace");

            HttpResponse<byte[]> created = first.put("/admin/namespaces/locks", "{\"consistency\": \"serial\"}");
            assertThat(created.statusCode()).as(TestNode.describe(created)).isEqualTo(200);
            // Usable on the node that answered at once; on the others once they applied the epoch.
            assertThat(first.put("/ns/locks/kv/leader", "node-a").statusCode()).isEqualTo(200);
            for (TestNode n : nodes) {
                awaitNamespace(n, "locks");
            }
            // A namespace created while the nodes run is repaired like the others, without a restart.
            for (TestNode n : nodes) {
                JsonNode repair = TestNode.json(n.get("/admin/repair?namespace=locks"));
                assertThat(repair.path("partitions").asInt()).as(repair.toString()).isPositive();
            }
            // The key view looks in the namespace asked for: the key is live there, absent from the default one.
            JsonNode view = TestNode.json(first.get("/admin/keys/leader?namespace=locks"));
            assertThat(view.path("namespace").asText()).isEqualTo("locks");
            assertThat(view.path("replicas").findValuesAsText("state")).as(view.toString()).contains("live");
            assertThat(TestNode.json(first.get("/admin/keys/leader")).path("replicas").findValuesAsText("state")).containsOnly("absent");
            assertThat(first.get("/admin/keys/leader?namespace=nope").statusCode()).isEqualTo(400);
            assertThat(first.get("/admin/keys/leader?bogus=1").statusCode()).isEqualTo(400);
            Thread.sleep(1_200); // Metrics come from snapshots taken every second: let the first put's show.
            long paxosBefore = paxosStarted(nodes);
            HttpResponse<byte[]> plain = nodes.get(1).put("/ns/locks/kv/leader", "node-b");
            assertThat(plain.statusCode()).as(TestNode.describe(plain)).isEqualTo(200);
            HttpResponse<byte[]> read = nodes.get(2).get("/ns/locks/kv/leader");
            assertThat(TestNode.text(read)).isEqualTo("node-b");
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (paxosStarted(nodes) - paxosBefore < 2 && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(paxosStarted(nodes) - paxosBefore).as("a plain put and a plain get of a serial namespace are Paxos rounds")
                    .isGreaterThanOrEqualTo(2);

            HttpResponse<byte[]> weakWrite = nodes.get(1).put("/ns/locks/kv/leader?w=one", "x");
            assertThat(weakWrite.statusCode()).isEqualTo(400);
            assertThat(TestNode.json(weakWrite).path("code").asText()).isEqualTo("invalid_quorum");
            assertThat(nodes.get(2).get("/ns/locks/kv/leader?r=one").statusCode()).isEqualTo(400);
            assertThat(TestNode.text(nodes.get(0).get("/ns/locks/kv/leader"))).as("a refused write changes nothing").isEqualTo("node-b");

            // Changing the class is one more metadata entry: the namespace keeps its id and its data.
            HttpResponse<byte[]> relaxed = nodes.get(2).put("/admin/namespaces/locks", "{\"consistency\": \"quorum\", \"readQuorum\": \"one\"}");
            assertThat(relaxed.statusCode()).as(TestNode.describe(relaxed)).isEqualTo(200);
            assertThat(TestNode.json(relaxed).path("id").asInt()).isEqualTo(TestNode.json(created).path("id").asInt());
            assertThat(nodes.get(2).get("/ns/locks/kv/leader?r=one").statusCode()).isEqualTo(200);
            assertThat(TestNode.json(nodes.get(0).get("/admin/namespaces")).path("namespaces")).hasSize(2);

            // The what-if view answers per namespace, at majority quorums and at each one's defaults.
            assertThat(nodes.get(2).put("/admin/namespaces/flags", "{\"writeQuorum\": \"all\"}").statusCode()).isEqualTo(200);
            JsonNode whatIf = TestNode.json(nodes.get(2).get("/admin/what-if?lose=node:3"));
            int partitions = TestNode.json(nodes.get(2).get("/admin/cluster")).path("partitionMap").path("partitions").asInt();
            JsonNode locks = whatIf.path("namespaces").path("locks");
            assertThat(locks.path("consistency").asText()).as(whatIf.toString()).isEqualTo("quorum");
            assertThat(locks.path("defaultReadQuorum").asText()).isEqualTo("one");
            assertThat(locks.path("unavailableForDefaultReads")).isEmpty();
            assertThat(locks.path("unavailableForQuorumWrites")).as("2 of 3 replicas left everywhere").isEmpty();
            JsonNode flags = whatIf.path("namespaces").path("flags");
            assertThat(flags.path("defaultWriteQuorum").asText()).as(whatIf.toString()).isEqualTo("all");
            assertThat(flags.path("unavailableForDefaultWrites")).as("node 3 holds every partition of N=3 on 3 nodes").hasSize(partitions);
            assertThat(flags.path("withNoReplicaLeft")).isEmpty();
            assertThat(whatIf.path("namespaces").path("default").path("unavailableForDefaultWrites")).isEmpty();
            assertThat(whatIf.path("namespaces").path("idempotency").path("unavailableForQuorumReads")).isEmpty();
            // And the metadata log: three voters, one lost keeps a majority; two lost do not.
            JsonNode metadata = whatIf.path("metadata");
            assertThat(metadata.path("voters").toString()).as(whatIf.toString()).isEqualTo("[1,2,3]");
            assertThat(metadata.path("votersLost").toString()).isEqualTo("[3]");
            assertThat(metadata.path("majorityKept").asBoolean()).isTrue();
            JsonNode twoLost = TestNode.json(nodes.get(2).get("/admin/what-if?lose=node:1,3")).path("metadata");
            assertThat(twoLost.path("votersLost").toString()).as(twoLost.toString()).isEqualTo("[1,3]");
            assertThat(twoLost.path("majorityKept").asBoolean()).isFalse();
            assertThat(twoLost.path("changes").asText()).contains("metadata_unavailable");

            // A retry of an idempotent put that ran before the namespace's limit was lowered
            // replays its outcome; the same put under a new key is refused by the limit of now.
            assertRetryReplaysAcrossAPolicyChange(nodes.get(0), nodes.get(1));

            // A malformed member is invalid_member (a missing parameter stays invalid_parameter).
            HttpResponse<byte[]> badPort = nodes.get(0).call("POST", "/admin/membership/join?id=9&zone=z9&http=127.0.0.1:99999"
                    + "&internode=127.0.0.1:9&metadata=127.0.0.1:10", new byte[0]);
            assertThat(TestNode.json(badPort).path("code").asText()).as(TestNode.describe(badPort)).isEqualTo("invalid_member");
            HttpResponse<byte[]> missing = nodes.get(0).call("POST", "/admin/membership/join?id=9&zone=z9", new byte[0]);
            assertThat(TestNode.json(missing).path("code").asText()).as(TestNode.describe(missing)).isEqualTo("invalid_parameter");
        } finally {
            nodes.forEach(TestNode::close);
        }
    }

    @Test
    void aClusterSetsTheDefaultNamespacesPolicyOnceForEveryNode() throws Exception {
        List<TestNode> nodes = new ArrayList<>();
        try {
            nodes.addAll(TestNode.startCluster(dir, 3, true, "cluster.requestTimeout", "2s"));
            HttpResponse<byte[]> serial = nodes.get(0).put("/admin/namespaces/default", "{\"consistency\": \"serial\"}");
            assertThat(serial.statusCode()).as(TestNode.describe(serial)).isEqualTo(400);
            assertThat(TestNode.json(serial).path("message").asText()).contains("quorum namespace");

            HttpResponse<byte[]> set = nodes.get(0).put("/admin/namespaces/default",
                    "{\"defaultTtl\": \"30m\", \"maxValueBytes\": 8, \"readQuorum\": \"one\"}");
            assertThat(set.statusCode()).as(TestNode.describe(set)).isEqualTo(200);
            assertThat(TestNode.json(set).path("name").asText()).isEqualTo("default");
            assertThat(TestNode.json(set).path("builtIn").asBoolean()).isTrue();
            // Shown as applied, on every node (readQuorum set, writeQuorum the nodes' setting).
            for (TestNode n : nodes) {
                awaitUntil(() -> TestNode.json(n.get("/admin/namespaces/default")).path("readQuorum").asText().equals("one"),
                        "node does not show the default policy's read quorum");
                assertThat(TestNode.json(n.get("/admin/namespaces/default")).path("writeQuorum").isNull()).isTrue();
            }
            assertThat(TestNode.json(set).path("maxValueBytes").asLong()).isEqualTo(8);
            // Every node applies it from the epoch on: a put through another node has the TTL and the limit.
            for (TestNode n : nodes) {
                awaitUntil(() -> TestNode.json(n.get("/admin/namespaces/default")).path("maxValueBytes").asLong() == 8,
                        "node does not apply the default policy");
            }
            HttpResponse<byte[]> put = nodes.get(1).put("/kv/a", "12345678");
            assertThat(put.statusCode()).as(TestNode.describe(put)).isEqualTo(200);
            assertThat(put.headers().firstValue("Cairn-Expires-At")).as("the cluster's default TTL").isPresent();
            HttpResponse<byte[]> tooLarge = nodes.get(2).put("/kv/b", "123456789");
            assertThat(tooLarge.statusCode()).as(TestNode.describe(tooLarge)).isEqualTo(413);
            assertThat(TestNode.json(tooLarge).path("message").asText()).contains("namespace default");
            assertThat(nodes.get(0).get("/kv/b").statusCode()).as("a refused put stores nothing").isEqualTo(404);
            assertThat(TestNode.json(nodes.get(2).get("/admin/namespaces")).path("namespaces")).as("listed once").hasSize(1);

            // Kept in the metadata log: a restarted member applies it again.
            nodes.set(2, nodes.get(2).restart());
            nodes.get(2).awaitAllMembersAlive();
            assertThat(nodes.get(2).put("/kv/c", "123456789").statusCode()).isEqualTo(413);
            // Back to no TTL and the node's own value limit: a PUT states the whole policy.
            assertThat(nodes.get(1).put("/admin/namespaces/default", "{}").statusCode()).isEqualTo(200);
            awaitUntil(() -> nodes.get(2).put("/kv/c", "123456789").statusCode() == 200, "node 3 does not apply the changed policy");
            assertThat(nodes.get(0).put("/kv/d", "x").headers().firstValue("Cairn-Expires-At")).isEmpty();
        } finally {
            nodes.forEach(TestNode::close);
        }
    }

    @Test
    void anElasticMemberRestartedWithAnotherReplicationFactorSettingKeepsTheClusters() throws Exception {
        List<TestNode> nodes = new ArrayList<>();
        try {
            nodes.addAll(TestNode.startCluster(dir, 3, true, "cluster.requestTimeout", "2s"));
            assertThat(nodes.get(0).put("/kv/k", "v").statusCode()).isEqualTo(200);
            // The setting only seeds a new cluster's first epoch; the metadata log's N is the one.
            nodes.set(2, nodes.get(2).restart("cluster.replicationFactor", "2"));
            nodes.get(2).awaitAllMembersAlive();
            assertThat(TestNode.json(nodes.get(2).get("/admin/namespaces")).path("replicationFactor").asInt()).isEqualTo(3);
            HttpResponse<byte[]> all = nodes.get(2).get("/kv/k?r=all");
            assertThat(all.statusCode()).as(TestNode.describe(all)).isEqualTo(200);
            assertThat(TestNode.text(all)).isEqualTo("v");
            assertThat(nodes.get(2).put("/kv/k2?w=all", "w").statusCode()).isEqualTo(200);
            assertThat(TestNode.text(nodes.get(0).get("/kv/k2?r=all"))).isEqualTo("w");
        } finally {
            nodes.forEach(TestNode::close);
        }
    }

    @Test
    void aClusterWithAFixedMemberListRefusesNamespaceChanges() throws Exception {
        List<TestNode> nodes = TestNode.startCluster(dir, 3);
        try {
            HttpResponse<byte[]> refused = nodes.get(0).put("/admin/namespaces/flags", "{}");
            assertThat(refused.statusCode()).isEqualTo(409);
            assertThat(TestNode.json(refused).path("code").asText()).isEqualTo("namespace_conflict");
            assertThat(TestNode.json(refused).path("message").asText()).contains("metadata address");
            assertThat(nodes.get(0).get("/ns/flags/kv/a").statusCode()).isEqualTo(404);
        } finally {
            nodes.forEach(TestNode::close);
        }
    }

    private static void assertRetryReplaysAcrossAPolicyChange(TestNode first, TestNode retryThrough) {
        assertThat(first.put("/admin/namespaces/shrinking", "{\"maxValueBytes\": 100}").statusCode()).isEqualTo(200);
        String value = "x".repeat(50);
        HttpResponse<byte[]> ran = first.put("/ns/shrinking/kv/k", value, "Idempotency-Key", "shrink-1");
        assertThat(ran.statusCode()).as(TestNode.describe(ran)).isEqualTo(200);
        assertThat(first.put("/admin/namespaces/shrinking", "{\"maxValueBytes\": 10}").statusCode()).isEqualTo(200);
        long deadline = System.nanoTime() + 10_000_000_000L;
        HttpResponse<byte[]> fresh = retryThrough.put("/ns/shrinking/kv/k2", value, "Idempotency-Key", "shrink-2");
        while (fresh.statusCode() == 200 && System.nanoTime() < deadline) { // until the node applied the lower limit
            fresh = retryThrough.put("/ns/shrinking/kv/k" + System.nanoTime(), value, "Idempotency-Key", "shrink-" + System.nanoTime());
        }
        assertThat(fresh.statusCode()).as(TestNode.describe(fresh)).isEqualTo(413);
        HttpResponse<byte[]> retry = retryThrough.put("/ns/shrinking/kv/k", value, "Idempotency-Key", "shrink-1");
        assertThat(retry.statusCode()).as(TestNode.describe(retry)).isEqualTo(200);
        assertThat(retry.headers().firstValue("Idempotent-Replayed")).contains("true");
        assertThat(TestNode.etag(retry)).isEqualTo(TestNode.etag(ran));
    }

    private static void awaitNamespace(TestNode node, String name) throws InterruptedException {
        awaitUntil(() -> node.get("/admin/namespaces/" + name).statusCode() == 200, "node does not serve namespace " + name);
    }

    /** Polls {@code done} for up to 20 s, failing as {@code what} if it never holds. */
    private static void awaitUntil(java.util.function.BooleanSupplier done, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!done.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what).isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    private static long paxosStarted(List<TestNode> nodes) {
        long total = 0;
        for (TestNode n : nodes) {
            for (String line : TestNode.text(n.get("/metrics")).split("\n")) {
                if (line.startsWith("cairn_paxos_operations_started_total")) {
                    total += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
        }
        return total;
    }
}
