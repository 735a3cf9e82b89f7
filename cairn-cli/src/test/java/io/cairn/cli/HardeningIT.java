package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Overload and abuse against a real node process, the way they were found from outside: a crowd
 * of large writers against a small heap, a client that pipelines without ever reading, and a
 * flood of connections that send nothing. The node must shed with 503 (never die of
 * OutOfMemoryError), keep every write it acknowledged, and keep serving everybody else.
 *
 * <p>The default build runs each briefly; {@code ./mvnw -Phardening verify} runs them at the sizes
 * of the original reports (1 000 writers of 256 KiB at {@code -Xmx256m} for a minute, 100 000
 * unread pipelined GETs, 10 000 idle connections).
 */
class HardeningIT {
    private static final boolean LONG = Boolean.getBoolean("cairn.hardening");
    private static final int VALUE_BYTES = 256 * 1024;

    @TempDir
    Path tmp;

    @Test
    void aCrowdOfLargeWritersIsShedAndEveryAcknowledgedWriteIsKept() throws Exception {
        int writers = LONG ? 1000 : 200;
        long runNanos = TimeUnit.SECONDS.toNanos(LONG ? 60 : 8);
        Map<String, Integer> outcomes = new ConcurrentHashMap<>();
        AtomicLong retryAfterMissing = new AtomicLong();
        try (NodeProcess node = NodeProcess.start(List.of("-Xmx256m"), tmp.resolve("node"))) {
            int port = URI.create(node.url()).getPort();
            long deadline = System.nanoTime() + runNanos;
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<?>> running = new ArrayList<>();
                for (int w = 0; w < writers; w++) {
                    int writer = w;
                    running.add(pool.submit(() -> {
                        Client client = new Client(port, node.token());
                        for (int i = 0; System.nanoTime() < deadline; i++) {
                            String key = "w" + writer + "-" + i;
                            Client.Response r = client.put(key, value(key));
                            outcomes.put(key, r == null ? -1 : r.status);
                            if (r != null && r.status == 503 && r.header("retry-after") == null) {
                                retryAfterMissing.incrementAndGet();
                            }
                        }
                        client.close();
                        return null;
                    }));
                }
                for (Future<?> f : running) {
                    f.get(runNanos / 1_000_000_000 + 120, TimeUnit.SECONDS);
                }
            }
            assertThat(node.isAlive()).as("the node survived; its output:\n" + tail(node)).isTrue();
            assertThat(node.output()).doesNotContain("OutOfMemoryError");
            long acked = outcomes.values().stream().filter(s -> s == 200).count();
            long shed = outcomes.values().stream().filter(s -> s == 503).count();
            long other = outcomes.values().stream().filter(s -> s != 200 && s != 503 && s != -1).count();
            assertThat(acked).as("writes acknowledged").isPositive();
            assertThat(shed).as("writes shed with 503").isPositive();
            assertThat(other).as("answers other than 200 and 503: " + outcomes.values().stream().filter(s -> s != 200 && s != 503 && s != -1).distinct().toList()).isZero();
            assertThat(retryAfterMissing.get()).isZero();
            Client check = new Client(port, node.token());
            assertThat(check.get("/health").status).isEqualTo(200);
            for (Map.Entry<String, Integer> e : outcomes.entrySet()) {
                Client.Response r = check.get("/kv/" + e.getKey());
                if (e.getValue() == 200) {
                    assertThat(r.status).as("acknowledged write " + e.getKey()).isEqualTo(200);
                    assertThat(Arrays.equals(r.body, value(e.getKey()))).as("value of " + e.getKey()).isTrue();
                } else if (e.getValue() == 503) {
                    assertThat(r.status).as("refused write " + e.getKey() + " must not be applied").isEqualTo(404);
                }
            }
            check.close();
        }
    }

    @Test
    void aClientThatPipelinesWithoutReadingLeavesOthersServed() throws Exception {
        int pipelined = LONG ? 100_000 : 20_000;
        try (NodeProcess node = NodeProcess.start(List.of("-Xmx256m"), tmp.resolve("node"))) {
            int port = URI.create(node.url()).getPort();
            Client setup = new Client(port, node.token());
            assertThat(setup.put("big", new byte[64 * 1024]).status).isEqualTo(200);
            byte[] get = ("GET /kv/big HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
            Socket abuser = new Socket();
            abuser.setReceiveBufferSize(4096);
            abuser.connect(new InetSocketAddress("127.0.0.1", port));
            Thread flood = Thread.ofVirtual().start(() -> {
                try {
                    OutputStream out = abuser.getOutputStream();
                    for (int i = 0; i < pipelined; i++) {
                        out.write(get);
                    }
                } catch (IOException e) {
                    // closed under the blocked writer at the end of the test
                }
            });
            try {
                Thread.sleep(1000);
                long worst = 0;
                long served = 0;
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(LONG ? 30 : 5);
                while (System.nanoTime() < end) {
                    long start = System.nanoTime();
                    Client.Response r = setup.get("/kv/big");
                    worst = Math.max(worst, System.nanoTime() - start);
                    assertThat(r.status).isEqualTo(200);
                    served++;
                }
                assertThat(served).isGreaterThan(100);
                assertThat(TimeUnit.NANOSECONDS.toMillis(worst)).as("slowest well-behaved GET").isLessThan(1000);
                double unflushed = metric(setup, "cairn_http_unflushed_response_bytes");
                assertThat(unflushed).as("answers held for the non-reader").isLessThan(2 * 1024 * 1024);
            } finally {
                abuser.close();
                flood.join(10_000);
            }
            assertThat(setup.get("/health").status).isEqualTo(200);
            setup.close();
        }
    }

    @Test
    void aFloodOfIdleConnectionsLeavesHealthReachable() throws Exception {
        int fdLimit = openFileLimit();
        int idle = LONG ? 10_000 : 2_000;
        // Leave room for the test JVM's own files under a low open-file limit.
        idle = Math.min(idle, fdLimit - 500);
        assertThat(idle).as("open-file limit " + fdLimit + " is too low for this test").isGreaterThan(100);
        int max = idle / 2;
        try (NodeProcess node = NodeProcess.start(List.of("-Xmx256m"), tmp.resolve("node"),
                "--set", "http.maxConnections=" + max, "--set", "http.headerTimeout=" + (LONG ? "30s" : "6s"))) {
            int port = URI.create(node.url()).getPort();
            List<Socket> hogs = new ArrayList<>();
            try {
                for (int i = 0; i < idle; i++) {
                    Socket s = new Socket();
                    s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                    hogs.add(s);
                }
                // Every slot is held by a connection that says nothing; operators still get in.
                long start = System.nanoTime();
                Client probe = new Client(port, node.token());
                assertThat(probe.get("/health").status).isEqualTo(200);
                assertThat(probe.get("/ready").status).isEqualTo(200);
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(2000);
                probe.close();
                // The silent ones are dropped after the header timeout, and clients are served again.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(LONG ? 90 : 30);
                int status = 0;
                while (System.nanoTime() < deadline && status != 200) {
                    Client c = new Client(port, node.token());
                    Client.Response r = c.put("after-flood", "v".getBytes(StandardCharsets.UTF_8));
                    status = r == null ? -1 : r.status;
                    c.close();
                    if (status != 200) {
                        Thread.sleep(200);
                    }
                }
                assertThat(status).isEqualTo(200);
            } finally {
                for (Socket s : hogs) {
                    s.close();
                }
            }
            assertThat(node.isAlive()).isTrue();
        }
    }

    private static byte[] value(String key) {
        byte[] v = new byte[VALUE_BYTES];
        int seed = key.hashCode();
        for (int i = 0; i < v.length; i++) {
            v[i] = (byte) (seed + i * 31);
        }
        return v;
    }

    private static double metric(Client c, String series) throws IOException {
        for (String line : new String(c.get("/metrics").body, StandardCharsets.UTF_8).split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        return Double.NaN;
    }

    private static int openFileLimit() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
            if (line.startsWith("Max open files")) {
                String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
                return soft.equals("unlimited") ? 1 << 20 : Integer.parseInt(soft);
            }
        }
        return 1024;
    }

    private static String tail(NodeProcess node) throws IOException {
        String out = node.output();
        return out.length() > 4000 ? out.substring(out.length() - 4000) : out;
    }

    /**
     * A keep-alive HTTP/1.1 client on one socket that reconnects when the server closes: what a
     * plain load-generating client does. Null answers mean the connection failed mid-request.
     */
    private static final class Client {
        private final int port;
        private Socket socket;
        private InputStream in;
        private OutputStream out;

        record Response(int status, Map<String, String> headers, byte[] body) {
            String header(String name) {
                return headers.get(name);
            }
        }

        private final String token;

        Client(int port, String token) {
            this.port = port;
            this.token = token;
        }

        Response put(String key, byte[] value) {
            byte[] head = ("PUT /kv/" + key + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\nContent-Length: " + value.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1);
            return exchange(head, value);
        }

        Response get(String path) throws IOException {
            Response r = exchange(("GET " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1), new byte[0]);
            if (r == null) {
                throw new IOException("no answer to GET " + path);
            }
            return r;
        }

        private Response exchange(byte[] head, byte[] body) {
            try {
                if (socket == null) {
                    socket = new Socket();
                    socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
                    socket.setSoTimeout(60_000);
                    in = new BufferedInputStream(socket.getInputStream());
                    out = socket.getOutputStream();
                }
                out.write(head);
                try {
                    out.write(body);
                } catch (IOException e) {
                    // The server may answer (503) and stop reading before the body is sent: read the answer.
                }
                out.flush();
                Response r = read();
                if ("close".equalsIgnoreCase(r.header("connection"))) {
                    close();
                }
                return r;
            } catch (IOException e) {
                close();
                return null;
            }
        }

        private Response read() throws IOException {
            String status = line();
            Map<String, String> headers = new java.util.HashMap<>();
            for (String l = line(); !l.isEmpty(); l = line()) {
                int colon = l.indexOf(':');
                headers.put(l.substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT), l.substring(colon + 1).trim());
            }
            int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
            return new Response(Integer.parseInt(status.split(" ")[1]), headers, in.readNBytes(length));
        }

        private String line() throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            for (int c = in.read(); c != '\n'; c = in.read()) {
                if (c < 0) {
                    throw new IOException("connection closed");
                }
                if (c != '\r') {
                    b.write(c);
                }
            }
            return b.toString(StandardCharsets.ISO_8859_1);
        }

        void close() {
            if (socket != null) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // closing
                }
                socket = null;
            }
        }
    }
}
