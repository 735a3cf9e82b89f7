package io.cairn.cli;

import io.cairn.server.TestPorts;
import io.cairn.server.http.TestCertificates;
import io.cairn.server.security.AdminCredential;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A cluster of Cairn nodes, each its own JVM process, on loopback ports picked at start: node
 * {@code i} (1-based) lives in zone {@code zone-i}, or with a zone count Z in {@code zone-((i-1) mod Z + 1)}.
 * Nodes can be killed and restarted on the same data directory and ports.
 */
final class ClusterProcesses implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path dir;
    private final String members;
    private final int size;
    private final int[] httpPorts;
    private final int[] internodePorts;
    private final int[] metadataPorts;
    private final boolean elastic;
    private final int zones;
    private final List<String> settings;
    private final NodeProcess[] nodes;

    /** @param settings extra {@code key=value} settings every node gets */
    ClusterProcesses(Path dir, int size, List<String> settings) throws IOException, InterruptedException {
        this(dir, size, settings, false, 0);
    }

    /**
     * @param elastic whether members get metadata addresses (a cluster whose membership can change)
     * @param spares  nodes beyond {@code size} that may {@link #join} later (ids size+1..)
     */
    ClusterProcesses(Path dir, int size, List<String> settings, boolean elastic, int spares) throws IOException, InterruptedException {
        this(dir, size, settings, elastic, spares, 0);
    }

    /** @param zones how many zones nodes are spread over round-robin (0: a zone per node) */
    ClusterProcesses(Path dir, int size, List<String> settings, boolean elastic, int spares, int zones) throws IOException, InterruptedException {
        this.zones = zones;
        this.dir = dir;
        this.size = size;
        this.elastic = elastic;
        this.settings = List.copyOf(settings);
        int capacity = size + spares;
        this.httpPorts = new int[capacity];
        this.internodePorts = new int[capacity];
        this.metadataPorts = new int[capacity];
        this.nodes = new NodeProcess[capacity];
        List<String> specs = new ArrayList<>();
        for (int i = 0; i < capacity; i++) {
            httpPorts[i] = TestPorts.free();
            internodePorts[i] = TestPorts.free();
            metadataPorts[i] = elastic ? TestPorts.free() : 0;
            if (i < size) {
                specs.add(spec(i + 1));
            }
        }
        this.members = String.join(",", specs);
        try {
            for (int id = 1; id <= size; id++) {
                start(id);
            }
            for (int id = 1; id <= size; id++) {
                awaitSeesEveryoneAlive(id);
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Node {@code id}'s member spec: id/zone/http/internode[/metadata]. */
    String spec(int id) {
        return id + "/" + zone(id) + "/127.0.0.1:" + httpPorts[id - 1] + "/127.0.0.1:" + internodePorts[id - 1]
                + (elastic ? "/127.0.0.1:" + metadataPorts[id - 1] : "");
    }

    String zone(int id) {
        return "zone-" + (zones == 0 ? id : (id - 1) % zones + 1);
    }

    /** Starts spare node {@code id} (beyond the first members) joining the cluster through node {@code via}. */
    void join(int id, int via) throws IOException, InterruptedException {
        if (id <= size) {
            throw new IllegalArgumentException("node " + id + " is a first member");
        }
        startNode(id, List.of("--set", "cluster.members=" + spec(id), "--join", "127.0.0.1:" + httpPorts[via - 1]));
    }

    /** Starts (or restarts) node {@code id} on its data directory and ports. */
    void start(int id) throws IOException, InterruptedException {
        if (id > size) {
            // A node that joined: it keeps what it learned in its data directory; joining again is a no-op.
            join(id, 1);
            return;
        }
        startNode(id, List.of("--set", "cluster.members=" + members));
    }

    private void startNode(int id, List<String> membership) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("--node-id", Integer.toString(id), "--http-port", Integer.toString(httpPorts[id - 1])));
        args.addAll(membership);
        for (String s : settings) {
            args.add("--set");
            args.add(s);
        }
        TestCertificates.provide(dir.resolve("node-" + id).resolve("tls"), id);
        // As certs issue does: every node gets a copy of the cluster's admin credential.
        Path shared = dir.resolve(AdminCredential.FILE);
        if (!Files.exists(shared)) {
            AdminCredential.create(shared);
        }
        AdminCredential.copy(shared, dir.resolve("node-" + id).resolve("tls").resolve(AdminCredential.FILE));
        nodes[id - 1] = NodeProcess.start(dir.resolve("node-" + id), args.toArray(String[]::new));
    }

    /**
     * Waits until node {@code id}'s failure detector considers every member up: a node that has
     * never heard from a peer counts it down and refuses quorums that need it.
     */
    void awaitSeesEveryoneAlive(int id) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        String body = "";
        while (System.nanoTime() < deadline) {
            try {
                body = HTTP.send(request(id, "/admin/cluster").timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                JsonNode members = JSON.readTree(body).path("members");
                boolean all = members.size() > 0;
                for (JsonNode m : members) {
                    all &= m.path("alive").asBoolean();
                }
                if (all) {
                    return;
                }
            } catch (IOException e) {
                body = e.toString();
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("node " + id + " does not see every member alive after 30 s: " + body);
    }

    /** Waits until node {@code id} answers {@code /ready} with 200 (for a node that joined: it heard from its peers). */
    void awaitReady(int id) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        String body = "";
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> r = HTTP.send(request(id, "/ready").timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
                body = r.body();
            } catch (IOException e) {
                body = e.toString();
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("node " + id + " is not ready after 60 s: " + body);
    }

    /** SIGKILL, like a crash: no shutdown hook, unsynced data lost. */
    void kill(int id) throws InterruptedException {
        nodes[id - 1].kill();
    }

    /** A request to node {@code id} carrying the cluster's admin credential. */
    HttpRequest.Builder request(int id, String pathAndQuery) {
        return HttpRequest.newBuilder(URI.create(url(id) + pathAndQuery)).header("Authorization", "Bearer " + token());
    }

    String token() {
        return AdminCredential.readCredential(dir.resolve(AdminCredential.FILE)).text();
    }

    String url(int id) {
        return "http://127.0.0.1:" + httpPorts[id - 1];
    }

    int size() {
        return size;
    }

    String output(int id) throws IOException {
        return nodes[id - 1] == null ? "" : nodes[id - 1].output();
    }


    @Override
    public void close() throws InterruptedException {
        for (NodeProcess n : nodes) {
            if (n != null) {
                n.close();
            }
        }
    }
}
