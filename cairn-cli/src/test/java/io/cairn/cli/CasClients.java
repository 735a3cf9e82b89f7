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
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
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
import java.util.function.Supplier;

/**
 * Clients of the real-process tests that do compare-and-swap on a few keys and record a history to
 * check linearizable: each runs conditional writes ({@code If-Match} on the ETag it last saw,
 * {@code If-None-Match: *} when it saw nothing, conditional deletes) and serial reads, and on keys
 * of a {@code serial} namespace blind writes too, through a node picked at random from the ones it
 * is given. Every operation is recorded with its invocation and answer times; each key's history is
 * then checked with {@link LinearizabilityChecker} as a register.
 *
 * <p>Outcomes: 200/204 is ok, 412 a failed compare, a read's value (404: none) what it returned;
 * {@code 504 outcome_unknown}, a timeout or a connection that broke after the request was sent
 * may have taken effect at any later time (indeterminate); {@code 503} promises nothing changed
 * (left out: if it did change something, the check finds a value nobody wrote).
 */
final class CasClients implements AutoCloseable {
    /** A key the clients use: its path under a node's URL ({@code /kv/k}, {@code /ns/n/kv/k}); blind writes only where every write is linearizable. */
    record Key(String path, boolean blindWrites) {}

    private record Seen(String value, String etag) {}

    /** One recorded operation; times in nanoseconds from the start of the run. */
    private record Recorded(int client, Key key, RegisterModel.Op<String> input, RegisterModel.Result<String> output,
                            long invoked, long returned, boolean indeterminate) {}

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(1)).build();
    private final ClusterProcesses cluster;
    private final List<Key> keys;
    private final Supplier<List<Integer>> nodes;
    private final long start = System.nanoTime();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Recorded> history = Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong written = new AtomicLong();
    private final ExecutorService pool;
    private final List<Future<?>> running = new ArrayList<>();

    /** Starts {@code clients} clients on {@code keys}, each request through one of {@code nodes} (asked anew each time). */
    CasClients(ClusterProcesses cluster, int clients, List<Key> keys, Supplier<List<Integer>> nodes) {
        this.cluster = cluster;
        this.keys = List.copyOf(keys);
        this.nodes = nodes;
        this.pool = Executors.newFixedThreadPool(clients, Thread.ofPlatform().name("cas-client-", 0).daemon().factory());
        for (int c = 0; c < clients; c++) {
            int client = c;
            running.add(pool.submit(() -> {
                run(client);
                return null;
            }));
        }
    }

    /** Conditional and blind writes that succeeded so far. */
    long written() {
        return written.get();
    }

    /** Stops the clients (a test that failed before it checked must not leave them running). */
    @Override
    public void close() {
        stop.set(true);
        pool.shutdown();
    }

    /** Stops the clients and checks every key's history; at least {@code atLeast} writes must have succeeded. */
    void stopAndCheck(long atLeast) throws Exception {
        close();
        for (Future<?> f : running) {
            f.get(60, TimeUnit.SECONDS);
        }
        assertThat(written.get()).as("writes that succeeded").isGreaterThan(atLeast);
        for (Key key : keys) {
            History.Builder<RegisterModel.Op<String>, RegisterModel.Result<String>> b = History.builder();
            int ops = 0;
            int reads = 0;
            int swaps = 0;
            synchronized (history) {
                for (Recorded r : history) {
                    if (r.key().equals(key)) {
                        ops++;
                        if (r.indeterminate()) {
                            b.addIndeterminate(r.client(), r.input(), r.invoked());
                        } else {
                            b.add(r.client(), r.input(), r.output(), r.invoked(), r.returned());
                            reads += r.input() instanceof RegisterModel.Read<String> ? 1 : 0;
                            swaps += r.input() instanceof RegisterModel.Cas<String> && r.output().succeeded() ? 1 : 0;
                        }
                    }
                }
            }
            // A history of blind writes alone, or of nothing, would pass whatever the cluster did.
            assertThat(reads).as("%s: serial reads answered", key.path()).isPositive();
            assertThat(swaps).as("%s: conditional writes that took effect", key.path()).isPositive();
            CheckResult<RegisterModel.Op<String>, RegisterModel.Result<String>> result =
                    LinearizabilityChecker.check(new RegisterModel<>(), b.build(), Budget.DEFAULT);
            System.out.println(key.path() + ": " + ops + " operations, " + result.verdict() + " in " + result.steps() + " steps");
            assertThat(result.verdict()).as("%s: %s", key.path(), result.explanation()).isNotEqualTo(Verdict.NOT_LINEARIZABLE);
        }
    }

    private void run(int client) throws InterruptedException {
        SplittableRandom random = new SplittableRandom(client * 7919L);
        Map<Key, Seen> seen = new HashMap<>();
        Map<Key, Boolean> known = new HashMap<>();
        int sequence = 0;
        while (!stop.get()) {
            Key key = keys.get(random.nextInt(keys.size()));
            List<Integer> through = nodes.get();
            int node = through.get(random.nextInt(through.size()));
            boolean knows = known.getOrDefault(key, false);
            Seen s = seen.get(key);
            RegisterModel.Op<String> input;
            HttpRequest.Builder request;
            String value = "c" + client + "-" + sequence++;
            int roll = random.nextInt(100);
            if (key.blindWrites() && roll >= 85) {
                input = new RegisterModel.Write<>(value);
                request = cluster.request(node, key.path()).PUT(HttpRequest.BodyPublishers.ofString(value));
            } else if (!knows || roll < 30) {
                input = new RegisterModel.Read<>();
                request = cluster.request(node, key.path() + "?consistency=serial").GET();
            } else if (s == null) {
                input = new RegisterModel.Cas<>(null, value);
                request = cluster.request(node, key.path()).header("If-None-Match", "*").PUT(HttpRequest.BodyPublishers.ofString(value));
            } else if (roll < (key.blindWrites() ? 75 : 90)) {
                input = new RegisterModel.Cas<>(s.value(), value);
                request = cluster.request(node, key.path()).header("If-Match", s.etag()).PUT(HttpRequest.BodyPublishers.ofString(value));
            } else {
                input = new RegisterModel.Cas<>(s.value(), null);
                request = cluster.request(node, key.path()).header("If-Match", s.etag()).DELETE();
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
                case RegisterModel.Write<String> write -> {
                    if (status == 200) {
                        history.add(new Recorded(client, key, input, RegisterModel.Result.ok(), invoked, returned, false));
                        written.incrementAndGet();
                        seen.put(key, new Seen(write.value(), etag));
                        known.put(key, true);
                    } else {
                        if (status != 503) { // 503: nothing was written
                            history.add(new Recorded(client, key, input, null, invoked, 0, true));
                        }
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
