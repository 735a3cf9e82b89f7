package io.cairn.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The front end's bounds through the real server: timeouts for slow and silent clients, the
 * operators' reserve of connections, the memory budget for requests in flight, and backpressure
 * against a client that never reads its answers. Each bound refuses or drops the offender and
 * leaves everyone else served and nothing half-applied.
 */
class HttpLimitsTest {
    @TempDir
    Path dir;

    @Test
    void aConnectionThatSendsNothingIsClosedAfterTheHeaderTimeout() {
        try (TestNode node = TestNode.start(dir, "http.headerTimeout", "300ms", "http.idleTimeout", "30s")) {
            try (RawHttp c = new RawHttp(node.port())) {
                long start = System.nanoTime();
                assertThat(c.closedByServer(5000)).isTrue();
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(250L, 4000L);
            }
            assertThat(node.metric("cairn_http_timeouts_total{phase=\"header\"}")).isGreaterThanOrEqualTo(1);
            double idle = node.metric("cairn_http_timeouts_total{phase=\"idle\"}");
            assertThat(Double.isNaN(idle) ? 0 : idle).as("it was never idle after a request").isZero();
        }
    }

    @Test
    void slowHeadersGet408AndNothingIsApplied() {
        try (TestNode node = TestNode.start(dir, "http.headerTimeout", "300ms")) {
            try (RawHttp c = new RawHttp(node.port())) {
                c.send("PUT /kv/slowloris HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "Content-Len");
                RawHttp.Response r = c.read();
                assertThat(r.status()).as(r.toString()).isEqualTo(408);
                assertThat(r.json().path("code").asText()).isEqualTo("request_timeout");
                assertThat(c.closedByServer(5000)).isTrue();
            }
            assertThat(node.get("/kv/slowloris").statusCode()).isEqualTo(404);
            assertThat(node.metric("cairn_http_timeouts_total{phase=\"header\"}")).isEqualTo(1);
        }
    }

    @Test
    void aBodyShorterThanItsLengthTimesOutAndIsNotStored() throws Exception {
        try (TestNode node = TestNode.start(dir, "http.bodyTimeout", "300ms", "http.minBodyRate", "1KiB")) {
            try (RawHttp c = new RawHttp(node.port())) {
                c.send("PUT /kv/short HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "Content-Length: 100000\r\n\r\n" + "a".repeat(50));
                RawHttp.Response r = c.read();
                assertThat(r.status()).as(r.toString()).isEqualTo(408);
                assertThat(c.closedByServer(5000)).isTrue();
            }
            assertThat(node.get("/kv/short").statusCode()).isEqualTo(404);
            assertThat(node.metric("cairn_http_timeouts_total{phase=\"body\"}")).isEqualTo(1);
            awaitDrained(node);
        }
    }

    @Test
    void aSlowButSteadyBodyIsAccepted() throws Exception {
        try (TestNode node = TestNode.start(dir, "http.bodyTimeout", "200ms", "http.minBodyRate", "100")) {
            try (RawHttp c = new RawHttp(node.port())) {
                c.send("PUT /kv/steady HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "Content-Length: 60\r\n\r\n");
                for (int i = 0; i < 6; i++) {
                    Thread.sleep(100);
                    c.send("0123456789");
                }
                assertThat(c.read().status()).isEqualTo(200);
            }
            assertThat(TestNode.text(node.get("/kv/steady"))).hasSize(60);
        }
    }

    @Test
    void anIdleKeptAliveConnectionIsClosedAfterTheIdleTimeout() {
        try (TestNode node = TestNode.start(dir, "http.idleTimeout", "400ms", "http.headerTimeout", "30s")) {
            try (RawHttp c = new RawHttp(node.port())) {
                c.send(RawHttp.request("GET", "/health", null));
                assertThat(c.read().status()).isEqualTo(200);
                long start = System.nanoTime();
                assertThat(c.closedByServer(5000)).isTrue();
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isGreaterThanOrEqualTo(300L);
            }
        }
    }

    @Test
    void connectionsBeyondTheLimitGetOnlyOperatorRoutesAndThenNothing() throws Exception {
        try (TestNode node = TestNode.start(dir, "http.maxConnections", "4", "http.reservedOpsConnections", "2", "http.headerTimeout", "60s")) {
            List<RawHttp> hogs = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    RawHttp c = new RawHttp(node.port());
                    hogs.add(c);
                    c.send(RawHttp.request("GET", "/health", null));
                    assertThat(c.read().status()).isEqualTo(200);
                }
                // The limit is reached (and nobody is silent): a fifth connection is an operator's one.
                try (RawHttp ops = new RawHttp(node.port())) {
                    ops.send(RawHttp.request("GET", "/ready", null));
                    assertThat(ops.read().status()).isEqualTo(200);
                    ops.send(RawHttp.request("GET", "/metrics", null));
                    assertThat(ops.read().status()).isEqualTo(200);
                    RawHttp ops2 = new RawHttp(node.port());
                    ops2.send(RawHttp.request("PUT", "/kv/reserved", "v"));
                    RawHttp.Response refused = ops2.read();
                    assertThat(refused.status()).as(refused.toString()).isEqualTo(503);
                    assertThat(refused.json().path("code").asText()).isEqualTo("overloaded");
                    assertThat(ops2.closedByServer(5000)).isTrue();
                    ops2.close();
                    // The reserve holds ops and ops2 until ops2's close is noticed; one more is too many.
                    try (RawHttp beyond = new RawHttp(node.port())) {
                        if (!beyond.closedByServer(3000)) {
                            // ops2 had already left the reserve: this one is a reserve connection too.
                            beyond.send(RawHttp.request("PUT", "/kv/reserved", "v"));
                            assertThat(beyond.read().status()).isEqualTo(503);
                        }
                    }
                }
                // Established connections were never harmed.
                for (RawHttp c : hogs) {
                    c.send(RawHttp.request("GET", "/health", null));
                    assertThat(c.read().status()).isEqualTo(200);
                }
            } finally {
                hogs.forEach(RawHttp::close);
            }
            // Once the closes are noticed, the limit has room again and nothing was written.
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (node.node.httpFrontEnd().connections() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(node.get("/kv/reserved").statusCode()).isEqualTo(404);
        }
    }

    @Test
    void atTheLimitANewConnectionEvictsTheOldestSilentOne() throws Exception {
        try (TestNode node = TestNode.start(dir, "http.maxConnections", "3", "http.reservedOpsConnections", "0", "http.headerTimeout", "60s")) {
            try (RawHttp used = new RawHttp(node.port())) {
                used.send(RawHttp.request("GET", "/health", null));
                assertThat(used.read().status()).isEqualTo(200);
                try (RawHttp silent1 = new RawHttp(node.port()); RawHttp silent2 = new RawHttp(node.port())) {
                    Thread.sleep(200);
                    // The limit is reached; a client with something to say still gets in.
                    try (RawHttp client = new RawHttp(node.port())) {
                        client.send(RawHttp.request("PUT", "/kv/evict", "v"));
                        assertThat(client.read().status()).isEqualTo(200);
                    }
                    assertThat(silent1.closedByServer(3000)).as("the oldest silent connection was evicted").isTrue();
                    // The connection that had spoken is never evicted.
                    used.send(RawHttp.request("GET", "/health", null));
                    assertThat(used.read().status()).isEqualTo(200);
                }
            }
            assertThat(node.metric("cairn_http_connections_evicted_total")).isGreaterThanOrEqualTo(1);
        }
    }

    @Test
    void aRequestOverTheMemoryBudgetIsRefusedBeforeItsBodyIsRead() throws Exception {
        try (TestNode node = TestNode.start(dir, "http.maxInflightBytes", "300KiB")) {
            // A first upload holds 200 KiB of the budget while its body trickles in.
            try (Socket holder = new Socket("127.0.0.1", node.port())) {
                OutputStream out = holder.getOutputStream();
                out.write(("PUT /kv/holder HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "Content-Length: " + (200 * 1024) + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.write(new byte[1024]);
                out.flush();
                awaitMetric(node, "cairn_http_inflight_request_bytes", 200 * 1024);
                // A second of 150 KiB does not fit: refused at its head, nothing of its body read.
                try (RawHttp c = new RawHttp(node.port())) {
                    c.send("PUT /kv/second HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "Content-Length: " + (150 * 1024) + "\r\n\r\n");
                    RawHttp.Response r = c.read();
                    assertThat(r.status()).as(r.toString()).isEqualTo(503);
                    assertThat(r.json().path("code").asText()).isEqualTo("overloaded");
                    assertThat(r.header("Retry-After")).isNotNull();
                    assertThat(c.closedByServer(5000)).isTrue();
                }
                // Small requests still fit beside the holder.
                assertThat(node.put("/kv/small", "s").statusCode()).isEqualTo(200);
                out.write(new byte[200 * 1024 - 1024]);
                out.flush();
                RawHttp.Response done = readResponse(holder);
                assertThat(done.status()).isEqualTo(200);
            }
            assertThat(node.get("/kv/second").statusCode()).isEqualTo(404);
            assertThat(node.get("/kv/holder").body()).hasSize(200 * 1024);
            // With the budget free again, the same request goes through.
            assertThat(node.put("/kv/second", new byte[150 * 1024]).statusCode()).isEqualTo(200);
            assertThat(node.metric("cairn_http_shed_total{reason=\"memory\"}")).isEqualTo(1);
            awaitDrained(node);
        }
    }

    @Test
    void aChunkedBodyGrowingPastTheBudgetIsRefused() throws Exception {
        try (TestNode node = TestNode.start(dir, "http.maxInflightBytes", "200KiB")) {
            try (Socket holder = new Socket("127.0.0.1", node.port())) {
                OutputStream out = holder.getOutputStream();
                out.write(("PUT /kv/holder HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "Content-Length: " + (150 * 1024) + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                awaitMetric(node, "cairn_http_inflight_request_bytes", 150 * 1024);
                try (RawHttp c = new RawHttp(node.port())) {
                    String chunk = "a".repeat(32 * 1024);
                    StringBuilder body = new StringBuilder("PUT /kv/chunky HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "Transfer-Encoding: chunked\r\n\r\n");
                    for (int i = 0; i < 4; i++) {
                        body.append(Integer.toHexString(chunk.length())).append("\r\n").append(chunk).append("\r\n");
                    }
                    c.send(body.append("0\r\n\r\n").toString());
                    RawHttp.Response r = c.read();
                    assertThat(r.status()).as(r.toString()).isEqualTo(503);
                }
            }
            assertThat(node.get("/kv/chunky").statusCode()).isEqualTo(404);
            awaitDrained(node);
        }
    }

    @Test
    void aClientThatNeverReadsHoldsBoundedMemoryAndOthersAreServed() throws Exception {
        try (TestNode node = TestNode.start(dir, "http.maxConnectionUnflushedBytes", "256KiB", "http.idleTimeout", "60s")) {
            byte[] value = new byte[64 * 1024];
            assertThat(node.put("/kv/big", value).statusCode()).isEqualTo(200);
            Socket abuser = new Socket();
            Thread writer = pipelineWithoutReading(abuser, node.port(), "/kv/big");
            try {
                Thread.sleep(1500);
                double unflushed = node.metric("cairn_http_unflushed_response_bytes");
                // One connection's share: its write buffer (256 KiB) plus the answer that crossed it.
                assertThat(unflushed).isLessThan(256 * 1024 + 2 * value.length + 4096);
                long start = System.nanoTime();
                HttpResponse<byte[]> other = node.get("/kv/big");
                assertThat(other.statusCode()).isEqualTo(200);
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(2000);
                assertThat(node.get("/health").statusCode()).isEqualTo(200);
            } finally {
                abuser.close();
                writer.join(5000);
            }
            awaitDrained(node);
        }
    }

    /**
     * Found by the overload benchmark: a hundred clients that pipeline GETs and never read held
     * the node-wide budgets, and every other request, /health included, got 503 until they left.
     * Now probes are admitted whatever the budget, and while the budget is short the clients that
     * do not read are dropped after the slow-reader timeout, so the others are served again.
     */
    @Test
    void clientsThatNeverReadCannotHoldTheMemoryBudgetHostage() throws Exception {
        try (TestNode node = TestNode.start(dir, "http.maxConnectionUnflushedBytes", "128KiB", "http.maxUnflushedBytes", "512KiB",
                "http.maxInflightBytes", "512KiB", "http.idleTimeout", "60s", "http.slowReaderTimeout", "3s")) {
            byte[] value = new byte[64 * 1024];
            assertThat(node.put("/kv/big", value).statusCode()).isEqualTo(200);
            List<Socket> abusers = new ArrayList<>();
            List<Thread> writers = new ArrayList<>();
            try {
                for (int c = 0; c < 12; c++) {
                    Socket abuser = new Socket();
                    abusers.add(abuser);
                    writers.add(pipelineWithoutReading(abuser, node.port(), "/kv/big"));
                }
                long held = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (node.get("/kv/big").statusCode() != 503) {
                    assertThat(System.nanoTime()).as("the non-readers fill the budget").isLessThan(held);
                }
                assertThat(node.get("/health").statusCode()).as("probes answer at the budget").isEqualTo(200);
                assertThat(node.get("/ready").statusCode()).isEqualTo(200);

                awaitMetric(node, "cairn_http_timeouts_total{phase=\"unread\"}", 1);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                int status;
                do {
                    status = node.get("/kv/big").statusCode();
                } while (status != 200 && System.nanoTime() < deadline);
                assertThat(status).as("a client that reads is served once the non-readers are dropped").isEqualTo(200);
            } finally {
                for (Socket abuser : abusers) {
                    abuser.close();
                }
                for (Thread writer : writers) {
                    writer.join(5000);
                }
            }
            awaitDrained(node);
        }
    }

    /**
     * Found by the overload benchmark: a flood of 256 KiB writes fills RocksDB faster than it
     * compacts, RocksDB throttles every write, and small writers starve behind the flood. While the
     * engine throttles, large bodies are refused at their head and small writes keep going. The
     * node's RocksDB is made tiny and slow to flush so that it throttles within seconds.
     */
    @Test
    void whileTheDiskIsBehindLargeWritesAreShedAndSmallOnesServed() throws Exception {
        try (TestNode node = TestNode.start(dir, "storage.writeBuffer", "1MiB", "storage.maxWriteBuffers", "4",
                "storage.compactionRate", "512KiB", "http.largeRequestBytes", "64KiB")) {
            byte[] large = new byte[256 * 1024];
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            HttpResponse<byte[]> refused = null;
            int i = 0;
            while (refused == null) {
                assertThat(System.nanoTime()).as("RocksDB throttles within 30 s of large writes").isLessThan(deadline);
                HttpResponse<byte[]> put = node.put("/kv/large-" + i, large);
                if (put.statusCode() == 503) {
                    refused = put;
                } else {
                    assertThat(put.statusCode()).as(TestNode.describe(put)).isEqualTo(200);
                    i++;
                }
            }
            assertThat(TestNode.json(refused).path("code").asText()).isEqualTo("overloaded");
            assertThat(TestNode.text(refused)).contains("throttling writes");
            assertThat(refused.headers().firstValue("Retry-After")).isPresent();
            assertThat(node.get("/kv/large-" + i).statusCode()).as("nothing of the refused write is stored").isEqualTo(404);

            // RocksDB may also stop writes outright for a moment (every memtable full): that is
            // storage_stalled for everyone, and passes once a flush completes.
            HttpResponse<byte[]> small = node.put("/kv/small", "still served");
            long stalledUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (small.statusCode() == 503 && TestNode.text(small).contains("storage_stalled") && System.nanoTime() < stalledUntil) {
                Thread.sleep(50);
                small = node.put("/kv/small", "still served");
            }
            assertThat(small.statusCode()).as(TestNode.describe(small)).isEqualTo(200);
            assertThat(TestNode.text(node.get("/kv/small"))).isEqualTo("still served");
            assertThat(node.metric("cairn_http_shed_total{reason=\"storage\"}")).isGreaterThanOrEqualTo(1);
        }
    }

    @Test
    void deeplyPipelinedRequestsAreAllAnsweredInOrder() {
        try (TestNode node = TestNode.start(dir, "http.maxPipelinedRequests", "4")) {
            StringBuilder pipeline = new StringBuilder();
            int n = 200;
            for (int i = 0; i < n; i++) {
                pipeline.append(RawHttp.request("PUT", "/kv/p" + i, "v" + i));
                pipeline.append(RawHttp.request("GET", "/kv/p" + i, null));
            }
            try (RawHttp c = new RawHttp(node.port())) {
                c.send(pipeline.toString());
                for (int i = 0; i < n; i++) {
                    assertThat(c.read().status()).isEqualTo(200);
                    assertThat(c.read().text()).isEqualTo("v" + i);
                }
            }
        }
    }

    /**
     * Connects {@code socket} with a tiny receive buffer and starts a thread that pipelines GETs of
     * {@code path} on it and never reads an answer; the thread ends when the socket is closed.
     */
    private static Thread pipelineWithoutReading(Socket socket, int port, String path) throws IOException {
        byte[] get = RawHttp.request("GET", path, null).getBytes(StandardCharsets.ISO_8859_1);
        socket.setReceiveBufferSize(4096);
        socket.connect(new java.net.InetSocketAddress("127.0.0.1", port));
        Thread writer = new Thread(() -> {
            try {
                OutputStream out = socket.getOutputStream();
                for (int i = 0; i < 100_000; i++) {
                    out.write(get);
                }
            } catch (IOException e) {
                // dropped by the node, or closed by the test under the blocked writer
            }
        });
        writer.setDaemon(true);
        writer.start();
        return writer;
    }

    private static RawHttp.Response readResponse(Socket s) throws IOException {
        String head = new String(readUntil(s, "\r\n\r\n"), StandardCharsets.ISO_8859_1);
        int status = Integer.parseInt(head.split(" ", 3)[1]);
        return new RawHttp.Response("HTTP/1.1", status, java.util.Map.of(), new byte[0]);
    }

    private static byte[] readUntil(Socket s, String end) throws IOException {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        var in = s.getInputStream();
        s.setSoTimeout(10_000);
        while (!b.toString(StandardCharsets.ISO_8859_1).endsWith(end)) {
            int c = in.read();
            if (c < 0) {
                break;
            }
            b.write(c);
        }
        return b.toByteArray();
    }

    /** Waits until a gauge reaches at least {@code min}. */
    private static void awaitMetric(TestNode node, String series, double min) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        double v = Double.NaN;
        while (System.nanoTime() < deadline) {
            v = node.metric(series);
            if (v >= min) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError(series + " is " + v + ", expected >= " + min);
    }

    /**
     * Waits until every reservation and unflushed answer is returned (read from the front end
     * itself: a scrape of /metrics would count its own request).
     */
    private static void awaitDrained(TestNode node) throws InterruptedException {
        HttpFrontEnd http = node.node.httpFrontEnd();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (http.inflightRequestBytes() == 0 && http.unflushedResponseBytes() == 0) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("still reserved: " + http.inflightRequestBytes() + " request bytes, " + http.unflushedResponseBytes() + " unflushed");
    }
}
