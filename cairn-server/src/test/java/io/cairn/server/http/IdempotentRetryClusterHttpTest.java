package io.cairn.server.http;

import static io.cairn.server.http.TestNode.etag;
import static io.cairn.server.http.TestNode.text;
import static org.assertj.core.api.Assertions.assertThat;

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
 * An idempotent put whose first attempt failed with its outcome unknown, retried through another
 * node: the retry writes the record the first attempt stamped (same version, same ETag), so the
 * put takes effect once, and a write made in between is not undone by the retry.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IdempotentRetryClusterHttpTest {
    @TempDir
    static Path tmp;

    private final List<TestNode> nodes = new ArrayList<>();

    @BeforeAll
    void startCluster() throws Exception {
        nodes.addAll(TestNode.startCluster(tmp, 3, "cluster.heartbeatInterval", "100ms", "cluster.faultInjection", "true",
                "cluster.requestTimeout", "1s"));
    }

    @AfterAll
    void stopCluster() {
        nodes.forEach(TestNode::close);
    }

    private TestNode node(int id) {
        return nodes.get(id - 1);
    }

    @Test
    void aRetryAfterAnUnknownOutcomeWritesTheFirstAttemptsRecordAndUndoesNothing() throws Exception {
        // Node 1 cannot reach node 3: a put at w=all through it cannot learn its outcome (or is refused).
        assertThat(node(1).call("POST", "/admin/faults?block=3", new byte[0]).statusCode()).isEqualTo(200);
        HttpResponse<byte[]> first;
        try {
            first = node(1).put("/kv/payment-1", "charged", "Idempotency-Key", "pay-1", "Cairn-Write-Quorum", "all");
        } finally {
            assertThat(node(1).call("POST", "/admin/faults?block=", new byte[0]).statusCode()).isEqualTo(200);
        }
        assertThat(first.statusCode()).as(TestNode.describe(first)).isIn(503, 504);

        // Another client writes the key meanwhile.
        HttpResponse<byte[]> other = node(2).put("/kv/payment-1", "refunded", "Cairn-Write-Quorum", "all");
        assertThat(other.statusCode()).isEqualTo(200);

        // The retry, through another node, runs the stamped write: answered as written (not a
        // replay of the failure), at a version older than the write in between, which stays.
        HttpResponse<byte[]> retry = node(2).put("/kv/payment-1", "charged", "Idempotency-Key", "pay-1", "Cairn-Write-Quorum", "all");
        assertThat(retry.statusCode()).as(TestNode.describe(retry)).isEqualTo(200);
        assertThat(retry.headers().firstValue("Idempotent-Replayed")).isEmpty();
        assertThat(retry.headers().firstValue("Idempotent-Recorded")).isEmpty();
        assertThat(etag(retry)).isNotEqualTo(etag(other));
        for (int id = 1; id <= 3; id++) {
            assertThat(text(node(id).get("/kv/payment-1?r=all"))).as("through node %s", id).isEqualTo("refunded");
        }

        // Later retries replay that outcome, with the same ETag.
        HttpResponse<byte[]> again = node(3).put("/kv/payment-1", "charged", "Idempotency-Key", "pay-1");
        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(again.headers().firstValue("Idempotent-Replayed")).contains("true");
        assertThat(etag(again)).isEqualTo(etag(retry));
    }
}
