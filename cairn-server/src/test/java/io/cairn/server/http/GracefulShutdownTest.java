package io.cairn.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node told to stop while it serves (a rolling restart's SIGTERM), through the real server: a
 * request it had admitted is still answered and applied; a new request on a connection it kept
 * open is answered {@code 503 not_ready} and applies nothing, never cut without an answer; no new
 * connection is accepted.
 */
class GracefulShutdownTest {
    @TempDir
    Path dir;

    @Test
    void whatWasAdmittedFinishesAndWhatComesAfterIsToldTheNodeIsStopping() throws Exception {
        TestNode node = TestNode.start(dir.resolve("n"));
        int port = node.port();
        CompletableFuture<Void> stopped = null;
        try (RawHttp kept = new RawHttp(port); RawHttp inFlight = new RawHttp(port)) {
            kept.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(kept.read().status()).isEqualTo(200);
            // Admitted, its body half sent: the node must wait for it.
            inFlight.send("PUT /kv/during-stop HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "Content-Length: 10\r\n\r\nhello");
            Thread.sleep(200);

            stopped = CompletableFuture.runAsync(node::close);
            Thread.sleep(300);
            assertThat(stopped).as("the node waits for the request it admitted").isNotDone();

            kept.send("PUT /kv/after-stop HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "Content-Length: 1\r\n\r\nx");
            RawHttp.Response refused = kept.read();
            assertThat(refused.status()).as(refused.toString()).isEqualTo(503);
            assertThat(refused.json().path("code").asText()).isEqualTo("not_ready");
            assertThat(refused.header("Connection")).isEqualToIgnoringCase("close");

            inFlight.send("world");
            RawHttp.Response done = inFlight.read();
            assertThat(done.status()).as("the admitted request is answered: %s", done).isEqualTo(200);
            stopped.get(15, TimeUnit.SECONDS);
        } finally {
            if (stopped == null) {
                node.close();
            }
        }
        try (TestNode again = TestNode.start(dir.resolve("n"))) {
            assertThat(TestNode.text(again.get("/kv/during-stop"))).isEqualTo("helloworld");
            assertThat(again.get("/kv/after-stop").statusCode()).isEqualTo(404);
        }
    }
}
