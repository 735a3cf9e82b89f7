package io.cairn.server.http;

import static io.cairn.server.http.TestNode.etag;
import static io.cairn.server.http.TestNode.text;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A conditional idempotent put (a lock claim: {@code If-None-Match: *}) whose coordinator stops
 * after the put was chosen but before the request's outcome was recorded: the client never hears
 * back. Its retry through another node must learn that the put took effect (200, the same ETag),
 * not evaluate the condition again against the value its own first attempt wrote (412).
 */
class IdempotentCasRetryClusterHttpTest {
    @TempDir
    Path tmp;

    private final List<TestNode> nodes = new ArrayList<>();

    @AfterEach
    void stopCluster() {
        nodes.forEach(TestNode::close);
    }

    @Test
    void aRetryOfAConditionalPutThatTookEffectUnseenAnswersItsWriteNot412() throws Exception {
        nodes.addAll(TestNode.startCluster(tmp, 3, "cluster.heartbeatInterval", "100ms", "cluster.faultInjection", "true",
                "cluster.requestTimeout", "1s", "cluster.paxos.timeout", "6s", "cluster.paxos.roundTimeout", "2s"));
        nodes.get(0).awaitAllMembersAlive();
        // The peers' disks slow down, so node 1's request lingers between choosing the put and
        // recording its outcome (each Paxos phase waits for a peer's storage).
        for (int peer : new int[] {2, 3}) {
            assertThat(node(peer).call("POST", "/admin/faults?diskDelay=40ms", new byte[0]).statusCode()).isEqualTo(200);
        }
        HttpResponse<byte[]> won;
        try (HttpClient client = HttpClient.newHttpClient()) {
            HttpRequest put = node(1).request("/kv/lock-1").PUT(HttpRequest.BodyPublishers.ofString("owner-a"))
                    .header("If-None-Match", "*").header("Idempotency-Key", "claim-1").build();
            CompletableFuture<HttpResponse<byte[]>> first = client.sendAsync(put, HttpResponse.BodyHandlers.ofByteArray());

            // Node 1's own replica stores the put when its commit starts, which is after a majority
            // accepted it: chosen. Node 1 stops at once, well before the outcome is recorded.
            won = null;
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (won == null && System.nanoTime() < deadline && !first.isDone()) {
                HttpResponse<byte[]> local = node(1).get("/kv/lock-1?r=1");
                if (local.statusCode() == 200) {
                    won = local;
                } else {
                    Thread.sleep(5);
                }
            }
            assertThat(first.isDone()).as("the first attempt ended before node 1 stopped: the test's timing is off (%s, %s)",
                    first.isDone() ? TestNode.describe(first.join()) : "", won == null ? "" : etag(won)).isFalse();
            assertThat(won).as("node 1 never stored the put").isNotNull();
            node(1).stopNow();
        }
        for (int peer : new int[] {2, 3}) {
            assertThat(node(peer).call("POST", "/admin/faults?diskDelay=0", new byte[0]).statusCode()).isEqualTo(200);
        }

        // The retry, through node 2: 409 while the dead attempt's claim holds (its lease), then it
        // takes the claim over and finds the put it stamped already chosen.
        HttpResponse<byte[]> retry = null;
        long deadline = System.nanoTime() + 40_000_000_000L;
        while (System.nanoTime() < deadline) {
            retry = node(2).put("/kv/lock-1", "owner-a", "If-None-Match", "*", "Idempotency-Key", "claim-1");
            if (retry.statusCode() != 409) {
                break;
            }
            Thread.sleep(250);
        }
        assertThat(retry.statusCode()).as(TestNode.describe(retry)).isEqualTo(200);
        assertThat(retry.headers().firstValue("Idempotent-Replayed")).as("the first attempt recorded its outcome: the test's timing is off").isEmpty();
        assertThat(etag(retry)).isEqualTo(etag(won));
        assertThat(text(node(3).get("/kv/lock-1"))).isEqualTo("owner-a");
        assertThat(etag(node(3).get("/kv/lock-1?consistency=serial"))).isEqualTo(etag(won));

        // Its outcome is recorded now: a later retry replays it.
        HttpResponse<byte[]> again = node(3).put("/kv/lock-1", "owner-a", "If-None-Match", "*", "Idempotency-Key", "claim-1");
        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(again.headers().firstValue("Idempotent-Replayed")).contains("true");
        assertThat(etag(again)).isEqualTo(etag(won));
    }

    private TestNode node(int id) {
        return nodes.get(id - 1);
    }
}
