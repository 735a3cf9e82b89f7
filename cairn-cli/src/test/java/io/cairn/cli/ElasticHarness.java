package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the elastic-cluster tests share: a writer at W=quorum through the live members that records
 * every acknowledged write and every failure through a live member, waiting for a membership change
 * to finish, and the final check that every acknowledged write is on every replica of its
 * partition as each replica stores it ({@code /admin/keys}, no read repair).
 */
final class ElasticHarness implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    private final ClusterProcesses cluster;
    /** The members writes go through; a node is taken out before it is killed and put back once ready. */
    final Set<Integer> live = new CopyOnWriteArraySet<>();
    final Map<String, String> acknowledged = new ConcurrentHashMap<>();
    final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean writing = new AtomicBoolean(true);
    private final AtomicInteger counter = new AtomicInteger();
    // Writes answered 504 outcome_unknown and sent again.
    final AtomicInteger settledByRetry = new AtomicInteger();
    private final Thread writer;
    // A pause between writes, to keep the number of keys the final check reads bounded.
    private volatile long pauseMillis;
    // The cluster's metadata.voters: a settled change has this many voters, or one per member when fewer.
    volatile int maxVoters = 3;

    ElasticHarness(ClusterProcesses cluster, Set<Integer> live, int valueBytes) {
        this.cluster = cluster;
        this.live.addAll(live);
        String padding = "x".repeat(Math.max(0, valueBytes));
        this.writer = new Thread(() -> {
            while (writing.get()) {
                List<Integer> nodes = new ArrayList<>(this.live);
                int node = nodes.get(counter.get() % nodes.size());
                String key = "k" + counter.getAndIncrement();
                try {
                    HttpRequest put = cluster.request(node, "/kv/" + key + "?w=quorum")
                            .PUT(HttpRequest.BodyPublishers.ofString("v-" + key + padding)).build();
                    long began = System.nanoTime();
                    HttpResponse<String> r = send(put);
                    if (r.statusCode() == 504) {
                        // Outcome unknown (a replica set slow past the deadline on two shared cores):
                        // settled as a client must, by the same request again (a blind write of one
                        // value, so sending it twice is as once).
                        settledByRetry.incrementAndGet();
                        HttpResponse<String> first = r;
                        long firstMillis = (System.nanoTime() - began) / 1_000_000;
                        began = System.nanoTime();
                        r = send(put);
                        if (r.statusCode() != 200 && this.live.contains(node)) {
                            failures.add(key + " via " + node + ": " + first.statusCode() + " " + first.body() + " after " + firstMillis
                                    + " ms, then " + r.statusCode() + " " + r.body() + " after " + (System.nanoTime() - began) / 1_000_000 + " ms");
                            continue;
                        }
                    }
                    if (r.statusCode() == 200) {
                        acknowledged.put(key, r.headers().firstValue("etag").orElseThrow());
                    } else if (this.live.contains(node)) {
                        failures.add(key + " via " + node + ": " + r.statusCode() + " " + r.body());
                    }
                } catch (IOException e) {
                    if (this.live.contains(node)) {
                        failures.add(key + " via " + node + ": " + e);
                    }
                } catch (InterruptedException e) {
                    return;
                }
                if (pauseMillis > 0) {
                    try {
                        Thread.sleep(pauseMillis);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
        }, "writer");
        writer.start();
    }

    /** From now on the writer pauses this long between writes. */
    void pause(long millis) {
        pauseMillis = millis;
    }

    /** Stops the writer. */
    @Override
    public void close() throws InterruptedException {
        writing.set(false);
        writer.join(10_000);
    }

    /** Waits until {@code condition} holds (checked every 250 ms), at most 30 s. */
    void awaitTrue(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(250);
        }
    }

    /**
     * Waits until node {@code via}'s failure detector counts node {@code id} down (its membership
     * view says {@code "up": false}): remove and replace refuse a node still heard.
     */
    void awaitDown(int via, int id) throws InterruptedException {
        awaitTrue("node " + via + " counts node " + id + " down", () -> {
            try {
                for (JsonNode m : get(via, "/admin/membership").path("members")) {
                    if (m.path("id").asInt() == id) {
                        return m.path("up").isBoolean() && !m.path("up").asBoolean();
                    }
                }
                return false;
            } catch (Exception e) {
                return false;
            }
        });
    }

    /** Waits until node {@code via} sees no change running, exactly {@code members} active and all normal, and the metadata group settled on them. */
    void awaitChangeDone(int via, Set<Integer> members, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode view = null;
        while (System.nanoTime() < deadline) {
            try {
                view = JSON.readTree(send(cluster.request(via, "/admin/membership").GET().build()).body());
                Set<Integer> active = new TreeSet<>();
                boolean allNormal = true;
                for (JsonNode m : view.path("members")) {
                    if (!m.path("state").asText().equals("removed")) {
                        active.add(m.path("id").asInt());
                        allNormal &= m.path("state").asText().equals("normal");
                    }
                }
                // The metadata log's voters moved to the members too (a dead voter left in place
                // would cost the log its majority at the next failure).
                Set<Integer> voters = new TreeSet<>();
                view.path("metadataGroup").path("voters").forEach(v -> voters.add(v.asInt()));
                boolean groupSettled = !view.path("metadataGroup").path("changing").asBoolean(true)
                        && voters.size() == Math.min(maxVoters, members.size()) && members.containsAll(voters);
                if (view.path("change").isNull() && allNormal && active.equals(members) && groupSettled) {
                    return;
                }
            } catch (IOException e) {
                // The node is busy starting; ask again.
            }
            Thread.sleep(250);
        }
        JsonNode rebalance = JSON.readTree(send(cluster.request(via, "/admin/rebalance").GET().build()).body());
        throw new AssertionError("the membership change did not finish within " + timeout + ": " + view + "; rebalance " + rebalance
                + "\n" + eachMember(members));
    }

    /** Every member's epoch as it reports it, and what its log says went wrong: the view one node gives hides a lagging peer. */
    private String eachMember(Set<Integer> members) {
        StringBuilder out = new StringBuilder();
        for (int id : members) {
            out.append("node ").append(id).append(": ");
            try {
                JsonNode m = JSON.readTree(send(cluster.request(id, "/admin/membership").GET().build()).body());
                out.append("epoch ").append(m.path("epoch").asText()).append('\n');
            } catch (Exception e) {
                out.append("unreachable (").append(e).append(")\n");
            }
            try {
                cluster.output(id).lines().filter(l -> l.contains("ERROR") || l.contains("WARN") || l.contains("Invariant") || l.contains("Exception"))
                        .limit(40).forEach(l -> out.append("  | ").append(l.length() > 400 ? l.substring(0, 400) : l).append('\n'));
            } catch (IOException e) {
                out.append("  (log unreadable: ").append(e).append(")\n");
            }
        }
        return out.toString();
    }

    /** POSTs a change (or anything) to node {@code via} and checks the status. */
    JsonNode change(int via, String pathAndQuery, int expected) throws Exception {
        HttpResponse<String> r = send(cluster.request(via, pathAndQuery).POST(HttpRequest.BodyPublishers.noBody()).build());
        assertThat(r.statusCode()).as("%s: %s", pathAndQuery, r.body()).isEqualTo(expected);
        return JSON.readTree(r.body());
    }

    JsonNode get(int via, String pathAndQuery) throws Exception {
        return JSON.readTree(send(cluster.request(via, pathAndQuery).GET().build()).body());
    }

    /**
     * Checks that no write through a live member failed, enough were acknowledged, and (waiting up
     * to a minute for writes still in flight to land) every acknowledged one is on every one of its
     * {@code replicas} final replicas, read through node {@code via}.
     */
    void assertEveryAcknowledgedWriteOnEveryReplica(int via, int replicas, int atLeast) throws Exception {
        System.out.println("writes answered 504 outcome_unknown and settled by sending them again: " + settledByRetry);
        for (int node : live) {
            // Replica requests from a newer epoch the node held until it caught up (cluster.behindHoldBytes), for the record.
            JsonNode stats = get(node, "/admin/cluster").path("stats");
            System.out.println("node " + node + " held " + stats.path("heldWhileBehind") + " replica requests while behind, "
                    + stats.path("heldPastDeadline") + " of them past their deadline");
        }
        assertThat(failures).as("writes through a live member that failed").isEmpty();
        assertThat(acknowledged).hasSizeGreaterThan(atLeast);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        List<String> missing = missing(via, replicas);
        while (!missing.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(1_000);
            missing = missing(via, replicas);
        }
        assertThat(missing).as("acknowledged writes not on every final replica (of %d)", acknowledged.size()).isEmpty();
    }

    private List<String> missing(int via, int replicas) throws Exception {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, String> e : acknowledged.entrySet()) {
            JsonNode view = get(via, "/admin/keys/" + e.getKey()).path("replicas");
            boolean ok = view.size() == replicas;
            for (JsonNode r : view) {
                ok &= e.getValue().equals(r.path("etag").asText());
            }
            if (!ok) {
                out.add(e.getKey() + " " + view);
            }
        }
        return out;
    }

    HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }
}
