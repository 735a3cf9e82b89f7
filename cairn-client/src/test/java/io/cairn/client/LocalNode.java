package io.cairn.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cairn.server.CairnNode;
import io.cairn.server.TestPorts;
import io.cairn.server.config.ConfigLoader;
import io.cairn.server.http.TestCertificates;
import io.cairn.server.security.AdminCredential;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A real Cairn node in the test JVM, on 127.0.0.1 (an ephemeral port for a single node, ports
 * below the ephemeral range for a cluster's member list), with its data in a test's temporary
 * directory and an admin credential written before it starts. Always closed by the test that
 * started it; closing twice is harmless.
 */
final class LocalNode implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient ADMIN = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

    final Path dataDir;
    final CairnNode node;
    final String adminToken;
    /** Exit statuses the node asked for on a fatal error: a test JVM never really exits. */
    final List<Integer> exits;

    private LocalNode(Path dataDir, CairnNode node, String adminToken, List<Integer> exits) {
        this.dataDir = dataDir;
        this.node = node;
        this.adminToken = adminToken;
        this.exits = exits;
    }

    /** Starts a node on {@code dataDir} with {@code adminToken} as its admin credential; {@code overrides} are setting/value pairs. */
    static LocalNode start(Path dataDir, String adminToken, String... overrides) {
        Map<String, String> config = new HashMap<>();
        config.put("node.dataDir", dataDir.toString());
        config.put("http.host", "127.0.0.1");
        config.put("http.port", "0");
        for (int i = 0; i < overrides.length; i += 2) {
            config.put(overrides[i], overrides[i + 1]);
        }
        try {
            Path token = dataDir.resolve("auth").resolve(AdminCredential.FILE);
            if (!Files.exists(token)) {
                Files.createDirectories(token.getParent());
                Files.writeString(token, adminToken + "\n");
                Files.setPosixFilePermissions(token, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (config.containsKey("cluster.members")) {
            TestCertificates.provide(dataDir.resolve("tls"), Integer.parseInt(config.getOrDefault("node.id", "1")));
        }
        List<Integer> exits = new CopyOnWriteArrayList<>();
        try {
            return new LocalNode(dataDir, CairnNode.start(ConfigLoader.load(null, config), exits::add), adminToken, exits);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A fresh admin credential, written to a scratch file by the server's own code and read back. */
    static String newAdminToken(Path scratch) {
        try {
            Path file = scratch.resolve("admin.token");
            AdminCredential.create(file);
            return Files.readString(file).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Starts {@code size} nodes in {@code dir}/n1.. (zones zone-1..), sharing one admin
     * credential, and waits until every node sees every member alive. A node that fails to start
     * stops the ones already started.
     */
    static List<LocalNode> startCluster(Path dir, int size, String... overrides) throws InterruptedException {
        String token = newAdminToken(dir);
        int[] http = new int[size];
        List<String> members = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            http[i] = TestPorts.free();
            members.add((i + 1) + "/zone-" + (i + 1) + "/127.0.0.1:" + http[i] + "/127.0.0.1:" + TestPorts.free());
        }
        List<LocalNode> nodes = new ArrayList<>();
        try {
            for (int i = 0; i < size; i++) {
                List<String> settings = new ArrayList<>(List.of("node.id", Integer.toString(i + 1), "http.port", Integer.toString(http[i]),
                        "cluster.members", String.join(",", members)));
                settings.addAll(List.of(overrides));
                nodes.add(start(dir.resolve("n" + (i + 1)), token, settings.toArray(String[]::new)));
            }
            for (LocalNode n : nodes) {
                n.awaitAllMembersAlive();
            }
            return nodes;
        } catch (RuntimeException | InterruptedException | AssertionError e) {
            nodes.forEach(LocalNode::close);
            throw e;
        }
    }

    String url() {
        return "http://127.0.0.1:" + node.httpPort();
    }

    /** An admin request (namespaces, tokens, cluster views), outside the client under test. */
    HttpResponse<String> admin(String method, String path, String body) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(url() + path)).timeout(Duration.ofSeconds(20))
                .header("Authorization", "Bearer " + adminToken)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .build();
        try {
            return ADMIN.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static JsonNode json(HttpResponse<String> response) {
        try {
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + response.body(), e);
        }
    }

    /** Waits (20 s at most) until this node's failure detector counts every member alive. */
    void awaitAllMembersAlive() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            HttpResponse<String> view = admin("GET", "/admin/cluster", null);
            last = view.body();
            boolean all = view.statusCode() == 200;
            for (JsonNode m : json(view).path("members")) {
                all &= m.path("alive").asBoolean();
            }
            if (all) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("not every member is alive after 20 s: " + last);
    }

    @Override
    public void close() {
        node.close();
    }
}
