package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Compare-and-swap while the members change, on real processes, checked linearizable: Paxos states
 * move with their partitions, so a key's conditional writes and serial reads must stay one history
 * through a join whose source is {@code kill -9}ed mid-stream and removed, another join, and the
 * decommission of a node that coordinates until it is gone. Keys of the default namespace get
 * conditional writes and serial reads; keys of a {@code serial} namespace blind writes as well.
 * Beside them, {@link ElasticHarness}'s writer at W=quorum, whose every acknowledged write must
 * end on every final replica.
 */
class CasMembershipIT extends WithClusterProcesses {
    private static final Duration CHANGE = Duration.ofSeconds(90);
    private static final List<String> SETTINGS = List.of("cluster.heartbeatInterval=100ms", "cluster.requestTimeout=2s",
            "cluster.hintReplayInterval=200ms", "moves.maxConcurrent=16");

    @Test
    void compareAndSwapStaysLinearizableWhileNodesJoinDieAndLeave() throws Exception {
        cluster = new ClusterProcesses(tmp, 3, SETTINGS, true, 2);
        ElasticHarness h = new ElasticHarness(cluster, Set.of(1, 2, 3), 0);
        h.pause(20);
        try (h) {
            HttpResponse<String> created = h.send(cluster.request(1, "/admin/namespaces/locks").header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString("{\"consistency\": \"serial\"}")).build());
            assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
            for (int id = 1; id <= 3; id++) {
                int node = id;
                h.awaitTrue("node " + node + " knows namespace locks",
                        () -> ask(() -> h.get(node, "/admin/namespaces/locks").path("consistency").asText().equals("serial")));
            }
            List<CasClients.Key> keys = new ArrayList<>();
            for (int k = 0; k < 3; k++) {
                keys.add(new CasClients.Key("/kv/cas-" + k, false));
                keys.add(new CasClients.Key("/ns/locks/kv/lock-" + k, true));
            }
            List<Integer> through = new CopyOnWriteArrayList<>(List.of(1, 2, 3));
            try (CasClients clients = new CasClients(cluster, 12, keys, () -> List.copyOf(through))) {
                Thread.sleep(3_000);

                // Node 4 joins; once it streams, node 2 (one of the owners it streams from) is killed and removed.
                cluster.join(4, 1);
                cluster.awaitReady(4);
                through.add(4);
                h.live.add(4);
                h.awaitTrue("node 4 streams", () -> ask(() -> h.get(4, "/admin/rebalance").path("thisNode").path("bytesStreamed").asLong() > 0));
                log("node 4 streams: " + h.get(4, "/admin/rebalance").path("thisNode") + "; killing node 2");
                through.remove(Integer.valueOf(2));
                h.live.remove(2);
                cluster.kill(2);
                h.awaitDown(1, 2);
                h.change(1, "/admin/membership/remove?node=2", 200);
                log("node 2 removed");
                h.awaitChangeDone(1, Set.of(1, 3, 4), CHANGE);
                log("join of 4 and removal of 2 done");

                // Node 5 joins; then node 1 is decommissioned, and coordinates CAS until it is gone.
                cluster.join(5, 3);
                cluster.awaitReady(5);
                through.add(5);
                h.live.add(5);
                h.awaitChangeDone(3, Set.of(1, 3, 4, 5), CHANGE);
                log("join of 5 done");
                h.live.remove(1);
                h.change(3, "/admin/membership/decommission?node=1", 200);
                h.awaitChangeDone(3, Set.of(3, 4, 5), CHANGE);
                log("decommission of 1 done; " + clients.written() + " writes by the CAS clients so far");
                through.remove(Integer.valueOf(1));
                Thread.sleep(2_000);
                clients.stopAndCheck(100);
            }
        }
        h.assertEveryAcknowledgedWriteOnEveryReplica(3, 3, 50);
    }

    private final long started = System.nanoTime();

    private void log(String what) {
        System.out.printf("+%.1f s: %s%n", (System.nanoTime() - started) / 1e9, what);
    }

    /** What {@code question} answers, false when asking failed (a node busy starting, say). */
    private static boolean ask(java.util.concurrent.Callable<Boolean> question) {
        try {
            return question.call();
        } catch (Exception e) {
            return false;
        }
    }
}
