package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Compare-and-swap on a real three-node cluster under a nemesis, checked linearizable: 16
 * {@link CasClients} on a few keys through random nodes, while nodes are {@code kill -9}ed and
 * restarted and one is cut off from the others at the transport.
 */
class CasIT extends WithClusterProcesses {
    private static final int CLIENTS = 16;
    private static final int KEYS = 4;
    private static final long RUN_MILLIS = 25_000;
    private static final List<String> SETTINGS = List.of(
            "cluster.heartbeatInterval=100ms", "cluster.requestTimeout=1s", "cluster.faultInjection=true",
            "cluster.paxos.timeout=2s", "cluster.paxos.roundTimeout=500ms");

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(1)).build();

    @Test
    void compareAndSwapStaysLinearizableWhileNodesAreKilledAndCutOff() throws Exception {
        cluster = new ClusterProcesses(tmp, 3, SETTINGS);
        long start = System.nanoTime();
        List<Integer> nodes = List.of(1, 2, 3);
        try (CasClients clients = new CasClients(cluster, CLIENTS,
                IntStream.range(0, KEYS).mapToObj(k -> new CasClients.Key("/kv/cas-" + k, false)).toList(), () -> nodes)) {
            nemesis(start);
            clients.stopAndCheck(100);
        }
    }

    /** kill -9 and restart node 3, then cut node 1 off from the others and heal, then kill node 2. */
    private void nemesis(long start) throws Exception {
        Thread.sleep(4_000);
        cluster.kill(3);
        Thread.sleep(3_000);
        cluster.start(3);
        cluster.awaitReady(3);
        Thread.sleep(2_000);
        faults(1, "2,3");
        Thread.sleep(4_000);
        faults(1, "");
        Thread.sleep(2_000);
        cluster.kill(2);
        Thread.sleep(2_000);
        cluster.start(2);
        cluster.awaitReady(2);
        long left = RUN_MILLIS - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        if (left > 0) {
            Thread.sleep(left);
        }
    }

    private void faults(int node, String block) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(cluster.request(node, "/admin/faults?block=" + block)
                .POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }
}
