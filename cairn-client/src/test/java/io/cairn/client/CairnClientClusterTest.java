package io.cairn.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client against a three-node cluster in this JVM: writers keep writing through every node,
 * one node is closed mid-run, the client fails over, and every write it acknowledged is then
 * readable with its value; a key written over and over through rotating coordinators ends at the
 * last acknowledged value (the causal token at work), and no write was reported failed when it
 * might have been applied.
 */
class CairnClientClusterTest {
    @TempDir
    Path tmp;

    private final List<LocalNode> nodes = new ArrayList<>();

    @AfterEach
    void stop() {
        nodes.forEach(LocalNode::close);
    }

    @Test
    void acknowledgedWritesSurviveANodeClosedMidRun() throws Exception {
        // Short cluster timeouts keep an idempotency claim left by the closed coordinator short-lived.
        nodes.addAll(LocalNode.startCluster(tmp, 3, "cluster.heartbeatInterval", "100ms", "cluster.requestTimeout", "1s",
                "cluster.paxos.timeout", "2s"));
        String token = nodes.get(0).adminToken;
        List<String> endpoints = nodes.stream().map(LocalNode::url).toList();
        RetryPolicy patient = RetryPolicy.builder().maxAttempts(50).maxElapsed(Duration.ofSeconds(30))
                .initialBackoff(Duration.ofMillis(20)).maxBackoff(Duration.ofMillis(500)).build();
        Map<String, AtomicInteger> attemptsByEndpoint = new ConcurrentHashMap<>();
        RequestListener counting = new RequestListener() {
            @Override
            public void requestStarted(Attempt attempt) {
                attemptsByEndpoint.computeIfAbsent(attempt.endpoint().toString(), e -> new AtomicInteger()).incrementAndGet();
            }
        };
        Map<String, String> acknowledged = new ConcurrentHashMap<>();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        AtomicInteger unknown = new AtomicInteger();
        AtomicInteger afterClose = new AtomicInteger();
        AtomicBoolean closed = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        int[] lastAcked = {-1};
        int[] lastSent = {-1};

        try (CairnClient cairn = CairnClient.builder().endpoints(endpoints).token(token).retryPolicy(patient)
                .endpointDownTime(Duration.ofSeconds(1)).requestTimeout(Duration.ofSeconds(5)).listener(counting).build()) {
            List<Thread> writers = new ArrayList<>();
            for (int w = 0; w < 3; w++) {
                int writer = w;
                writers.add(Thread.ofPlatform().name("writer-" + w).start(() -> {
                    for (int i = 0; !stop.get(); i++) {
                        String key = "w" + writer + "-" + i;
                        String value = "value-" + writer + "-" + i;
                        try {
                            cairn.put(key, value.getBytes(StandardCharsets.UTF_8));
                            acknowledged.put(key, value);
                            if (closed.get()) {
                                afterClose.incrementAndGet();
                            }
                        } catch (OutcomeUnknownException e) {
                            unknown.incrementAndGet();
                        } catch (CairnException e) {
                            failures.add(e);
                        }
                    }
                }));
            }
            // One key written over and over, each write through the next coordinator, each carrying the previous one's ETag.
            writers.add(Thread.ofPlatform().name("overwriter").start(() -> {
                for (int i = 0; !stop.get(); i++) {
                    lastSent[0] = i;
                    try {
                        cairn.put("overwritten", Integer.toString(i).getBytes(StandardCharsets.UTF_8));
                        lastAcked[0] = i;
                    } catch (OutcomeUnknownException e) {
                        unknown.incrementAndGet();
                    } catch (CairnException e) {
                        failures.add(e);
                    }
                }
            }));
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (acknowledged.size() < 30 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            int before = acknowledged.size();
            nodes.get(1).close();
            closed.set(true);
            deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (afterClose.get() < 60 && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            stop.set(true);
            for (Thread t : writers) {
                t.join(Duration.ofSeconds(40));
                assertThat(t.isAlive()).as(t.getName() + " finished").isFalse();
            }
            System.out.printf("acknowledged %d (%d before the close, %d after), outcome unknown %d, attempts per endpoint %s%n",
                    acknowledged.size(), before, afterClose.get(), unknown.get(), attemptsByEndpoint);
            assertThat(failures).as("writes reported failed").isEmpty();
            assertThat(before).as("writes before the close").isGreaterThanOrEqualTo(30);
            assertThat(afterClose.get()).as("writes acknowledged after the close").isGreaterThanOrEqualTo(60);
            assertThat(attemptsByEndpoint.get(nodes.get(1).url()).get()).as("the closed node was tried").isPositive();

            // Every acknowledged write is readable, with its value, through whichever node the client picks.
            for (Map.Entry<String, String> e : acknowledged.entrySet()) {
                Value v = cairn.get(e.getKey()).orElseThrow(() -> new AssertionError("acknowledged write lost: " + e.getKey()));
                assertThat(v.asString()).isEqualTo(e.getValue());
            }
            int last = Integer.parseInt(cairn.get("overwritten", ReadOptions.defaults().r(Quorum.QUORUM)).orElseThrow().asString());
            assertThat(last).as("no earlier write won over a later one").isBetween(lastAcked[0], lastSent[0]);
        }
        assertThat(unknown.get()).as("writes whose outcome stayed unknown").isLessThan(10);
        nodes.forEach(n -> assertThat(n.exits).isEmpty());
    }
}
