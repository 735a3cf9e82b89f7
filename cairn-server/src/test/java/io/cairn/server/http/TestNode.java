package io.cairn.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cairn.server.CairnNode;
import io.cairn.server.config.ConfigLoader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A real Cairn node started in-process on an ephemeral port of 127.0.0.1, with an HTTP/1.1 client
 * and the small request helpers the HTTP tests share. Always closed by the test that starts it.
 */
final class TestNode implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    final Path dataDir;
    final CairnNode node;
    final HttpClient client;
    /** Exit statuses the node asked for on a fatal error: a test JVM must never really exit. */
    final List<Integer> exits;

    /** The setting/value pairs it was started with. */
    private String[] overrides = new String[0];

    private TestNode(Path dataDir, CairnNode node, List<Integer> exits) {
        this.dataDir = dataDir;
        this.node = node;
        this.exits = exits;
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    /** Starts a node on {@code dataDir}; {@code overrides} are setting/value pairs. */
    static TestNode start(Path dataDir, String... overrides) {
        Map<String, String> config = new HashMap<>();
        config.put("node.dataDir", dataDir.toString());
        config.put("http.host", "127.0.0.1");
        config.put("http.port", "0");
        for (int i = 0; i < overrides.length; i += 2) {
            config.put(overrides[i], overrides[i + 1]);
        }
        TestTokens.provide(dataDir);
        if (config.containsKey("cluster.members") && !config.containsKey("cluster.tls.dir")) {
            TestCertificates.provide(dataDir.resolve("tls"), Integer.parseInt(config.getOrDefault("node.id", "1")));
        }
        List<Integer> exits = new CopyOnWriteArrayList<>();
        try {
            TestNode started = new TestNode(dataDir, CairnNode.start(ConfigLoader.load(null, config), exits::add), exits);
            started.overrides = overrides.clone();
            return started;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Starts a cluster of {@code size} nodes in {@code dir}/n1.. (zones zone-1.., loopback ports
     * picked here), each with {@code overrides} besides its id, port and the member list, and
     * waits until every node sees every member alive.
     */
    static List<TestNode> startCluster(Path dir, int size, String... overrides) throws InterruptedException {
        return startCluster(dir, size, false, overrides);
    }

    /** As {@link #startCluster(Path, int, String...)}; {@code elastic}: members get metadata addresses (the metadata log runs). */
    static List<TestNode> startCluster(Path dir, int size, boolean elastic, String... overrides) throws InterruptedException {
        int[] http = new int[size];
        List<String> members = new java.util.ArrayList<>();
        for (int i = 0; i < size; i++) {
            http[i] = io.cairn.server.TestPorts.free();
            members.add((i + 1) + "/zone-" + (i + 1) + "/127.0.0.1:" + http[i] + "/127.0.0.1:" + io.cairn.server.TestPorts.free()
                    + (elastic ? "/127.0.0.1:" + io.cairn.server.TestPorts.free() : ""));
        }
        List<TestNode> nodes = new java.util.ArrayList<>();
        for (int i = 0; i < size; i++) {
            List<String> settings = new java.util.ArrayList<>(List.of("node.id", Integer.toString(i + 1), "http.port", Integer.toString(http[i]),
                    "cluster.members", String.join(",", members)));
            settings.addAll(List.of(overrides));
            nodes.add(start(dir.resolve("n" + (i + 1)), settings.toArray(String[]::new)));
        }
        for (TestNode n : nodes) {
            n.awaitAllMembersAlive();
        }
        if (elastic) {
            // The members record their settings in the metadata log just after it elects a leader
            // (one epoch): let that happen before a test reads the epoch.
            long deadline = System.nanoTime() + 30_000_000_000L;
            for (TestNode n : nodes) {
                while (json(n.get("/admin/cluster/settings")).path("cluster").isEmpty()) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("node " + n.port() + " never saw the cluster's settings recorded");
                    }
                    Thread.sleep(50);
                }
            }
        }
        return nodes;
    }

    int port() {
        return node.httpPort();
    }

    /**
     * Stops this node and starts it again on its data directory and HTTP port, with the settings
     * it was started with and then {@code extra} (setting/value pairs, which win).
     */
    TestNode restart(String... extra) {
        int port = port();
        close();
        List<String> settings = new java.util.ArrayList<>(List.of(overrides));
        settings.addAll(List.of(extra));
        settings.addAll(List.of("http.port", Integer.toString(port)));
        return start(dataDir, settings.toArray(String[]::new));
    }

    URI uri(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + port() + pathAndQuery);
    }

    /** A request carrying the test admin credential. */
    HttpRequest.Builder request(String pathAndQuery) {
        return anonymous(pathAndQuery).header("Authorization", TestTokens.AUTHORIZATION);
    }

    /** A request without credentials. */
    HttpRequest.Builder anonymous(String pathAndQuery) {
        return HttpRequest.newBuilder(uri(pathAndQuery)).timeout(Duration.ofSeconds(20));
    }

    HttpResponse<byte[]> send(HttpRequest.Builder request) {
        try {
            return client.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Sends {@code method} with an optional body and header name/value pairs. */
    HttpResponse<byte[]> call(String method, String pathAndQuery, byte[] body, String... headers) {
        boolean ownCredential = false;
        for (int i = 0; i < headers.length; i += 2) {
            ownCredential |= headers[i].equalsIgnoreCase("Authorization");
        }
        HttpRequest.Builder b = (ownCredential ? anonymous(pathAndQuery) : request(pathAndQuery)).method(method,
                body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return send(b);
    }

    HttpResponse<byte[]> get(String path, String... headers) {
        return call("GET", path, null, headers);
    }

    /** A GET without credentials (the open probe routes). */
    HttpResponse<byte[]> anonymousGet(String path) {
        return send(anonymous(path).GET());
    }

    HttpResponse<byte[]> head(String path, String... headers) {
        return call("HEAD", path, null, headers);
    }

    HttpResponse<byte[]> put(String path, String value, String... headers) {
        return call("PUT", path, value.getBytes(StandardCharsets.UTF_8), headers);
    }

    HttpResponse<byte[]> put(String path, byte[] value, String... headers) {
        return call("PUT", path, value, headers);
    }

    HttpResponse<byte[]> delete(String path, String... headers) {
        return call("DELETE", path, null, headers);
    }

    HttpResponse<byte[]> batch(String json, String... headers) {
        return call("BATCH", "/kv", json.getBytes(StandardCharsets.UTF_8), headers);
    }

    static JsonNode json(HttpResponse<byte[]> response) {
        try {
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + text(response), e);
        }
    }

    static String text(HttpResponse<byte[]> response) {
        return new String(response.body(), StandardCharsets.UTF_8);
    }

    static String etag(HttpResponse<byte[]> response) {
        return response.headers().firstValue("ETag").orElse(null);
    }

    /** Formats a response for assertion messages. */
    static String describe(HttpResponse<byte[]> response) {
        return response.request().method() + " " + response.uri() + " -> " + response.statusCode() + " " + response.headers().map() + " " + text(response);
    }

    /**
     * Waits until this node's failure detector counts every cluster member alive: a node that
     * has never heard from a peer counts it down and refuses quorums that need it.
     */
    void awaitAllMembersAlive() throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (System.nanoTime() < deadline) {
            boolean all = true;
            for (JsonNode m : json(get("/admin/cluster")).path("members")) {
                all &= m.path("alive").asBoolean();
            }
            if (all) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("not every member is alive after 20 s: " + text(get("/admin/cluster")));
    }

    /**
     * Waits (20 s at most) until {@code peer} is down as this node sees it: every core shard's
     * failure detector has noticed, so whichever coordinates a key does.
     */
    void awaitDown(int peer) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (System.nanoTime() < deadline) {
            for (JsonNode m : json(get("/admin/cluster")).path("members")) {
                if (m.path("id").asInt() == peer && m.path("down").asBoolean()) {
                    return;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("node " + peer + " not declared down within 20 s: " + text(get("/admin/cluster")));
    }

    /** Waits (10 s at most) until this node's audit log holds a line containing {@code text}; returns that line. */
    String awaitAudit(String text) throws IOException, InterruptedException {
        Path file = dataDir.resolve("audit").resolve("audit.log");
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (true) {
            if (Files.exists(file)) {
                for (String line : Files.readAllLines(file)) {
                    if (line.contains(text)) {
                        return line;
                    }
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no audit line containing " + text + " within 10 s in " + file);
            }
            Thread.sleep(50);
        }
    }

    String metrics() {
        return text(get("/metrics"));
    }

    /** The value of the Prometheus sample whose name and labels are exactly {@code series}, or NaN. */
    double metric(String series) {
        for (String line : metrics().split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim().split(" ")[0]);
            }
        }
        return Double.NaN;
    }

    JsonNode status() {
        return json(get("/admin/status"));
    }

    /** Percent-encodes every byte of the key's UTF-8 form except RFC 3986 unreserved characters. */
    static String encodeKey(String key) {
        return encodeKey(key.getBytes(StandardCharsets.UTF_8));
    }

    static String encodeKey(byte[] key) {
        StringBuilder sb = new StringBuilder();
        for (byte b : key) {
            int c = b & 0xFF;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
                sb.append((char) c);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16))).append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return sb.toString();
    }

    @Override
    public void close() {
        client.close();
        node.close();
    }

    /** Stops without waiting for requests in flight (their connections are cut, as by a crash). */
    void stopNow() {
        client.close();
        node.stopNow();
    }
}
