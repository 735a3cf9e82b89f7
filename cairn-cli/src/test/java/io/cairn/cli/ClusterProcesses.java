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
 * {@code i} (1-based) lives in zone {@code zone-i}. Nodes can be killed and restarted on the same
 * data directory and ports.
 */
final class ClusterProcesses implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path dir;
    private final String members;
    private final int[] httpPorts;
    private final List<String> settings;
    private final NodeProcess[] nodes;

    /** @param settings extra {@code key=value} settings every node gets */
    ClusterProcesses(Path dir, int size, List<String> settings) throws IOException, InterruptedException {
        this.dir = dir;
        this.settings = List.copyOf(settings);
        this.httpPorts = new int[size];
        this.nodes = new NodeProcess[size];
        int[] internode = new int[size];
        List<String> specs = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            httpPorts[i] = TestPorts.free();
            internode[i] = TestPorts.free();
            specs.add((i + 1) + "/zone-" + (i + 1) + "/127.0.0.1:" + httpPorts[i] + "/127.0.0.1:" + internode[i]);
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

    /** Starts (or restarts) node {@code id} on its data directory and ports. */
    void start(int id) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("--node-id", Integer.toString(id), "--http-port", Integer.toString(httpPorts[id - 1]),
                "--set", "cluster.members=" + members));
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
                boolean all = members.size() == nodes.length;
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
        return nodes.length;
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
