package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * An elastic cluster as real processes, under continuous writes at W=quorum: a node joins (3 → 4),
 * a live node is decommissioned, a {@code kill -9}ed node is replaced by a new one with an empty
 * disk, another joins and a {@code kill -9}ed one is removed. Each change goes through the metadata
 * log (Ratis) and the admin API; moves stream partitions between the processes. Throughout, no
 * write through a live member fails, and at the end every acknowledged write is on every replica
 * of its partition (read per replica through {@code /admin/keys}, no read repair). An unsafe change
 * is refused with the reason. Part of it goes through {@code cairn membership}, {@code rebalance} and {@code what-if}. A node that joined is sent writes once it is ready (it heard from its peers).
 */
class ElasticClusterIT extends WithClusterProcesses {
    private static final Duration CHANGE = Duration.ofSeconds(90);

    @Test
    void membersJoinLeaveAndAreReplacedWhileWritesGoOnAndNoAcknowledgedWriteIsLost() throws Exception {
        // A 2 s request deadline (the default): a write during a move needs a quorum of both replica
        // sets, the joiner's included, and a new JVM on two shared cores can take over a second to answer.
        cluster = new ClusterProcesses(tmp, 3, List.of("cluster.heartbeatInterval=100ms", "cluster.requestTimeout=2s",
                "cluster.hintReplayInterval=200ms", "moves.maxConcurrent=16"), true, 3);
        ElasticHarness h = new ElasticHarness(cluster, Set.of(1, 2, 3), 0);
        try (h) {
            Thread.sleep(500);
            // Conditional writes leave Paxos states on their keys' replicas; moves carry them along.
            Map<String, String> etags = new HashMap<>();
            for (int i = 0; i < 24; i++) {
                String key = "paxos-it-" + i;
                HttpResponse<String> created = h.send(cluster.request(1 + i % 3, "/kv/" + key).header("If-None-Match", "*")
                        .PUT(HttpRequest.BodyPublishers.ofString("v0")).build());
                assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
                etags.put(key, created.headers().firstValue("ETag").orElseThrow());
            }

            // Grow: node 4 joins through node 1.
            cluster.join(4, 1);
            cluster.awaitReady(4);
            h.live.add(4);
            CliRun progress = cli("rebalance", "status", "--url", cluster.url(1));
            assertThat(progress.code()).as(progress.err()).isZero();
            assertThat(progress.out()).as(progress.out()).containsAnyOf("partitions moved", "no change running");
            h.awaitChangeDone(1, Set.of(1, 2, 3, 4), CHANGE);
            // The joiner streamed its partitions in, and says so in its metrics.
            String metrics = h.send(cluster.request(4, "/metrics").GET().build()).body();
            assertThat(metric(metrics, "cairn_metadata_epoch")).isGreaterThan(1);
            assertThat(metric(metrics, "cairn_moves_streamed_bytes_total")).isPositive();
            assertThat(metric(metrics, "cairn_moves_streams_completed_total")).isPositive();
            assertThat(metric(metrics, "cairn_moves_streamed_paxos_states_total")).isPositive();
            assertThat(metric(metrics, "cairn_partitions_moving")).isZero();
            // A member that started before node 4 joined has its per-peer meters too.
            h.awaitTrue("node 2 reports node 4 alive", () -> metricsOf(h, 2).contains("cairn_peer_alive{peer=\"4\"} 1.0"));
            CliRun status = cli("membership", "status", "--url", cluster.url(2));
            assertThat(status.out()).as(status.out()).contains("no change running").containsPattern("(?m)^4 +zone-4 +normal ");

            // The settings every member shares are the log's: a change is recorded once and every
            // member, the joiner included, says it takes it at its next start; a later joiner runs with it.
            CliRun set = cli("settings", "set", "limits.maxBatchOperations=500", "--url", cluster.url(1));
            assertThat(set.code()).as(set.err()).isZero();
            assertThat(set.out()).contains("recorded at epoch");
            CliRun badSet = cli("settings", "set", "http.port=1", "--url", cluster.url(1));
            assertThat(badSet.code()).isEqualTo(1);
            assertThat(badSet.err()).contains("invalid_setting").contains("not a setting every member shares");
            h.awaitTrue("node 4 notes the change", () -> cli("settings", "show", "--url", cluster.url(4)).out().contains("restart needed"));
            assertThat(cli("settings", "show", "--url", cluster.url(4)).out()).containsPattern("(?m)^limits.maxBatchOperations +500 +1000");

            // Shrink: node 1, alive, is decommissioned; its partitions stream to the others.
            h.live.remove(1);
            CliRun decommission = cli("membership", "decommission", "1", "--url", cluster.url(2));
            assertThat(decommission.code()).as(decommission.err()).isZero();
            assertThat(decommission.out()).contains("applied decommission");
            h.awaitChangeDone(2, Set.of(2, 3, 4), CHANGE);
            // Its per-peer meters go with it: an alert on cairn_peer_alive == 0 does not fire for a member that left.
            h.awaitTrue("node 2 drops node 1's meters", () -> !metricsOf(h, 2).contains("cairn_peer_alive{peer=\"1\"}")
                    && !metricsOf(h, 2).contains("cairn_hints_pending{target=\"1\"}"));
            HttpResponse<String> ready = h.send(cluster.request(1, "/ready").GET().build());
            assertThat(ready.statusCode()).as("a decommissioned node is not ready: %s", ready.body()).isEqualTo(503);
            assertThat(ElasticHarness.JSON.readTree(ready.body()).path("removedFromCluster").asBoolean()).isTrue();
            // Nor does it coordinate: a client that still sends it requests is told to go elsewhere.
            HttpResponse<String> stale = h.send(cluster.request(1, "/kv/after-decommission").GET().build());
            assertThat(stale.statusCode()).as(stale.body()).isEqualTo(503);
            assertThat(ElasticHarness.JSON.readTree(stale.body()).path("code").asText()).isEqualTo("not_a_member");
            // Nor does it change the cluster: its credentials may still be on the disk of a machine on its way out.
            HttpResponse<String> namespace = h.send(cluster.request(1, "/admin/namespaces/from-removed")
                    .PUT(HttpRequest.BodyPublishers.ofString("{}")).build());
            assertThat(namespace.statusCode()).as(namespace.body()).isEqualTo(503);
            assertThat(ElasticHarness.JSON.readTree(namespace.body()).path("code").asText()).isEqualTo("not_a_member");
            HttpResponse<String> settings = h.send(cluster.request(1, "/admin/cluster/settings")
                    .PUT(HttpRequest.BodyPublishers.ofString("{\"limits.maxNamespaces\": \"200\"}")).build());
            assertThat(settings.statusCode()).as(settings.body()).isEqualTo(503);
            assertThat(h.send(cluster.request(3, "/admin/namespaces/from-removed").GET().build()).statusCode()).isEqualTo(404);
            assertThat(h.change(1, "/admin/membership/decommission?node=3", 503).path("code").asText()).isEqualTo("not_a_member");
            // Its own views say it left, so an operator does not take them for the cluster's; a member's do not.
            assertThat(h.get(1, "/admin/membership").path("removedFromCluster").asBoolean()).isTrue();
            assertThat(h.get(1, "/admin/rebalance").path("note").asText()).contains("removed from the cluster");
            assertThat(h.get(2, "/admin/membership").has("removedFromCluster")).isFalse();
            CliRun removedStatus = cli("membership", "status", "--url", cluster.url(1));
            assertThat(removedStatus.out()).as(removedStatus.out()).startsWith("note: node 1 was removed from the cluster");
            CliRun removedWatch = cli("rebalance", "status", "--watch", "--url", cluster.url(1));
            assertThat(removedWatch.code()).as(removedWatch.err()).isZero();
            assertThat(removedWatch.out()).contains("removed from the cluster");

            // Replace: node 2 dies for good; node 5, with an empty disk, takes over exactly its partitions.
            // While node 2 is still heard, remove and replace (which drop its copies unstreamed) are refused.
            JsonNode live = h.change(3, "/admin/membership/replace?node=2&" + memberQuery(5), 422);
            assertThat(live.path("message").asText()).contains("node 2 is up").contains("decommission");
            assertThat(h.change(3, "/admin/membership/remove?node=2", 422).path("code").asText()).isEqualTo("membership_unsafe");
            h.live.remove(2);
            cluster.kill(2);
            h.awaitDown(3, 2);
            h.change(3, "/admin/membership/replace?node=2&" + memberQuery(5), 200);
            cluster.join(5, 3);
            cluster.awaitReady(5);
            CliRun joinedSettings = cli("settings", "show", "--url", cluster.url(5));
            assertThat(joinedSettings.out()).as(joinedSettings.out()).containsPattern("(?m)^limits.maxBatchOperations +500 +500")
                    .contains("runs with the cluster's values");
            h.live.add(5);
            h.awaitChangeDone(3, Set.of(3, 4, 5), CHANGE);

            // Refused with the reason: three nodes hold three replicas of everything.
            JsonNode refused = h.change(3, "/admin/membership/decommission?node=4", 422);
            assertThat(refused.path("message").asText()).contains("fewer than the 3 replicas");
            CliRun refusedCli = cli("membership", "decommission", "4", "--url", cluster.url(3));
            assertThat(refusedCli.code()).isEqualTo(1);
            assertThat(refusedCli.err()).contains("membership_unsafe").contains("fewer than the 3 replicas");
            // With three nodes in three zones, losing a zone leaves quorums but under-replicates its partitions.
            CliRun whatIf = cli("what-if", "--lose", "zone:zone-4", "--url", cluster.url(3));
            assertThat(whatIf.code()).as(whatIf.err()).isZero();
            assertThat(whatIf.out()).containsPattern("unavailable for quorum writes +0").containsPattern("under-replicated +[1-9]")
                    .contains("namespace default (quorum, defaults r=quorum w=quorum)").containsPattern("unavailable at default writes +0")
                    .containsPattern("metadata log: \\[[0-9,]*\\] of voters \\[[0-9,]+\\] lost; membership, namespace and settings changes possible");

            HttpResponse<String> notMember = h.send(cluster.request(3, "/admin/what-if?lose=node:99").GET().build());
            assertThat(notMember.statusCode()).as(notMember.body()).isEqualTo(400);
            assertThat(notMember.body()).contains("node 99 is not an active member");

            // Grow again. Then node 3 dies and is replaced by node 7, which never starts: cancelling
            // that replace drops node 7 and re-replicates node 3's partitions on the others, as a remove would.
            cluster.join(6, 4);
            cluster.awaitReady(6);
            h.live.add(6);
            h.awaitChangeDone(4, Set.of(3, 4, 5, 6), CHANGE);
            h.live.remove(3);
            cluster.kill(3);
            h.awaitDown(4, 3);
            h.change(4, "/admin/membership/replace?node=3&id=7&zone=zone-7&http=127.0.0.1:1&internode=127.0.0.1:2&metadata=127.0.0.1:3", 200);
            assertThat(h.change(4, "/admin/rebalance/pause", 200).path("applied").asText()).isEqualTo("pause");
            assertThat(h.change(4, "/admin/rebalance/resume", 200).path("applied").asText()).isEqualTo("resume");
            assertThat(h.change(4, "/admin/membership/join?id=8&zone=zone-8&http=127.0.0.1:4&internode=127.0.0.1:5&metadata=127.0.0.1:6", 409)
                    .path("code").asText()).as("one change at a time").isEqualTo("membership_conflict");
            assertThat(h.change(4, "/admin/rebalance/cancel", 200).path("applied").asText()).isEqualTo("cancel");
            h.awaitChangeDone(4, Set.of(4, 5, 6), CHANGE);
            Thread.sleep(500);

            // Every conditional write made before the moves still swaps on its ETag, once, on the final members.
            for (Map.Entry<String, String> e : etags.entrySet()) {
                HttpResponse<String> swapped = h.send(cluster.request(4 + e.getKey().length() % 3, "/kv/" + e.getKey())
                        .header("If-Match", e.getValue()).PUT(HttpRequest.BodyPublishers.ofString("v1")).build());
                assertThat(swapped.statusCode()).as("%s: %s", e.getKey(), swapped.body()).isEqualTo(200);
                HttpResponse<String> again = h.send(cluster.request(4, "/kv/" + e.getKey())
                        .header("If-Match", e.getValue()).PUT(HttpRequest.BodyPublishers.ofString("v2")).build());
                assertThat(again.statusCode()).as("%s: %s", e.getKey(), again.body()).isEqualTo(412);
                HttpResponse<String> read = h.send(cluster.request(5, "/kv/" + e.getKey() + "?consistency=serial").GET().build());
                assertThat(read.body()).as(e.getKey()).isEqualTo("v1");
            }
        }
        h.assertEveryAcknowledgedWriteOnEveryReplica(4, 3, 100);
    }

    private String memberQuery(int id) {
        String[] f = cluster.spec(id).split("/");
        return "id=" + f[0] + "&zone=" + f[1] + "&http=" + f[2] + "&internode=" + f[3] + "&metadata=" + f[4];
    }

    private String metricsOf(ElasticHarness h, int node) {
        try {
            return h.send(cluster.request(node, "/metrics").GET().build()).body();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static double metric(String exposition, String name) {
        for (String line : exposition.split("\n")) {
            if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        throw new AssertionError("no metric " + name);
    }

    private CliRun cli(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--token", cluster.token()));
        return CliRun.of(all.toArray(String[]::new));
    }
}
