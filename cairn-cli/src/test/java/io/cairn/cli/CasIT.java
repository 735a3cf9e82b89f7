package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.testkit.linearizability.Budget;
import io.cairn.testkit.linearizability.CheckResult;
import io.cairn.testkit.linearizability.History;
import io.cairn.testkit.linearizability.LinearizabilityChecker;
import io.cairn.testkit.linearizability.RegisterModel;
import io.cairn.testkit.linearizability.Verdict;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compare-and-swap on a real three-node cluster under a nemesis, checked linearizable: 16 clients
 * run conditional writes ({@code If-Match} on the ETag they last saw, {@code If-None-Match: *} when
 * they saw nothing, conditional deletes) and serial reads on a few keys through random nodes, while
 * nodes are {@code kill -9}ed and restarted and one is cut off from the others at the transport.
 * Every operation is recorded with its invocation and answer times; each key's history is then
 * checked with {@link LinearizabilityChecker} as a register.
 *
 * <p>Outcomes: 200/204 is ok, 412 a failed compare, a read's value (404: none) what it returned;
 * {@code 504 outcome_unknown}, a timeout or a connection that broke after the request was sent
 * may have taken effect at any later time (indeterminate); {@code 503} promises nothing changed
 * (left out: if it did change something, the check finds a value nobody wrote).
 */
class CasIT {
    private static final int CLIENTS = 16;
    private static final int KEYS = 4;
    private static final long RUN_MILLIS = 25_000;
    private static final List<String> SETTINGS = List.of(
            "cluster.heartbeatInterval=100ms", "cluster.requestTimeout=1s", "cluster.faultInjection=true",
            "cluster.paxos.timeout=2s", "cluster.paxos.roundTimeout=500ms");

    @TempDir
    Path tmp;

    private ClusterProcesses cluster;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(1)).build();

    @AfterEach
    void stop() throws InterruptedException {
        if (cluster != null) {
            cluster.close();
        }
    }

    private record Seen(String value, String etag) {}

    /** One recorded operation; times in nanoseconds from the start of the run. */
    private record Recorded(int client, String key, RegisterModel.Op<String> input, RegisterModel.Result<String> output,
                            long invoked, long returned, boolean indeterminate) {}

    @Test
    void compareAndSwapStaysLinearizableWhileNodesAreKilledAndCutOff() throws Exception {
        cluster = new ClusterProcesses(tmp, 3, SETTINGS);
        long start = System.nanoTime();
        AtomicBoolean stop = new AtomicBoolean();
        List<Recorded> history = java.util.Collections.synchronizedList(new ArrayList<>());
        AtomicLong written = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
        List<Future<?>> clients = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            int client = c;
            clients.add(pool.submit(() -> {
                run(client, start, stop, history, written);
                return null;
            }));
        }
        nemesis(start);
        stop.set(true);
        for (Future<?> f : clients) {
            f.get(60, TimeUnit.SECONDS);
        }
        pool.shutdownNow();

        assertThat(written.get()).as("conditional writes that succeeded").isGreaterThan(100);
        for (int k = 0; k < KEYS; k++) {
            String key = "cas-" + k;
            History.Builder<RegisterModel.Op<String>, RegisterModel.Result<String>> b = History.builder();
            int ops = 0;
            synchronized (history) {
                for (Recorded r : history) {
                    if (r.key().equals(key)) {
                        ops++;
                        if (r.indeterminate()) {
                            b.addIndeterminate(r.client(), r.input(), r.invoked());
                        } else {
                            b.add(r.client(), r.input(), r.output(), r.invoked(), r.returned());
                        }
                    }
                }
            }
            CheckResult<RegisterModel.Op<String>, RegisterModel.Result<String>> result =
                    LinearizabilityChecker.check(new RegisterModel<>(), b.build(), Budget.DEFAULT);
            System.out.println(key + ": " + ops + " operations, " + result.verdict() + " in " + result.steps() + " steps");
            assertThat(result.verdict()).as("%s: %s", key, result.explanation()).isNotEqualTo(Verdict.NOT_LINEARIZABLE);
        }
    }

    /** kill -9 and restart node 3, then cut node 1 off from the others and heal, then kill node 2. */
    private void nemesis(long start) throws Exception {
        Thread.sleep(4_000);
        cluster.kill(3);
        Thread.sleep(3_000);
        cluster.start(3);
        cluster.awaitReady(3);
        Thread.sleep(2_000);
        faults(1, "2,3");
        Thread.sleep(4_000);
        faults(1, "");
        Thread.sleep(2_000);
        cluster.kill(2);
        Thread.sleep(2_000);
        cluster.start(2);
        cluster.awaitReady(2);
        long left = RUN_MILLIS - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        if (left > 0) {
            Thread.sleep(left);
        }
    }

    private void faults(int node, String block) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(cluster.request(node, "/admin/faults?block=" + block)
                .POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    private void run(int client, long start, AtomicBoolean stop, List<Recorded> history, AtomicLong written) throws InterruptedException {
        SplittableRandom random = new SplittableRandom(client * 7919L);
        Map<String, Seen> seen = new HashMap<>();
        Map<String, Boolean> known = new HashMap<>();
        int sequence = 0;
        while (!stop.get()) {
            String key = "cas-" + random.nextInt(KEYS);
            int node = 1 + random.nextInt(cluster.size());
            boolean knows = known.getOrDefault(key, false);
            Seen s = seen.get(key);
            RegisterModel.Op<String> input;
            HttpRequest.Builder request;
            String value = "c" + client + "-" + sequence++;
            int roll = random.nextInt(100);
            if (!knows || roll < 30) {
                input = new RegisterModel.Read<>();
                request = cluster.request(node, "/kv/" + key + "?consistency=serial").GET();
            } else if (s == null) {
                input = new RegisterModel.Cas<>(null, value);
                request = cluster.request(node, "/kv/" + key).header("If-None-Match", "*").PUT(HttpRequest.BodyPublishers.ofString(value));
            } else if (roll < 90) {
                input = new RegisterModel.Cas<>(s.value(), value);
                request = cluster.request(node, "/kv/" + key).header("If-Match", s.etag()).PUT(HttpRequest.BodyPublishers.ofString(value));
            } else {
                input = new RegisterModel.Cas<>(s.value(), null);
                request = cluster.request(node, "/kv/" + key).header("If-Match", s.etag()).DELETE();
            }
            long invoked = System.nanoTime() - start;
            HttpResponse<String> r;
            try {
                r = http.send(request.timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                // The request may have reached the node before the connection broke.
                if (!(input instanceof RegisterModel.Read<String>)) {
                    history.add(new Recorded(client, key, input, null, invoked, 0, true));
                }
                known.put(key, false);
                Thread.sleep(20);
                continue;
            }
            long returned = System.nanoTime() - start;
            int status = r.statusCode();
            String etag = r.headers().firstValue("ETag").orElse(null);
            switch (input) {
                case RegisterModel.Read<String> read -> {
                    if (status == 200) {
                        history.add(new Recorded(client, key, input, RegisterModel.Result.returned(r.body()), invoked, returned, false));
                        seen.put(key, new Seen(r.body(), etag));
                        known.put(key, true);
                    } else if (status == 404) {
                        history.add(new Recorded(client, key, input, RegisterModel.Result.returned(null), invoked, returned, false));
                        seen.remove(key);
                        known.put(key, true);
                    } else {
                        known.put(key, false);
                    }
                }
                case RegisterModel.Cas<String> cas -> {
                    if (status == 200 || status == 204) {
                        history.add(new Recorded(client, key, input, RegisterModel.Result.ok(), invoked, returned, false));
                        written.incrementAndGet();
                        if (cas.update() == null) {
                            seen.remove(key);
                        } else {
                            seen.put(key, new Seen(cas.update(), etag));
                        }
                        known.put(key, true);
                    } else if (status == 412) {
                        history.add(new Recorded(client, key, input, RegisterModel.Result.failed(), invoked, returned, false));
                        known.put(key, false);
                    } else if (status == 503) {
                        known.put(key, false); // nothing was written
                    } else {
                        history.add(new Recorded(client, key, input, null, invoked, 0, true));
                        known.put(key, false);
                    }
                }
                default -> throw new IllegalStateException();
            }
            if (status == 503) {
                Thread.sleep(10 + random.nextInt(40));
            }
        }
    }
}
