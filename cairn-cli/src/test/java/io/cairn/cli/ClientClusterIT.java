package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.client.CairnClient;
import io.cairn.client.OutcomeUnknownException;
import io.cairn.client.RetryPolicy;
import io.cairn.client.Value;
import io.cairn.client.WriteResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The Java client against three node processes, one of which is {@code kill -9}ed mid-run: the
 * writers (each write through the client's failover, retries and idempotency keys) never see a
 * write reported failed, keep being acknowledged after the kill, and every acknowledged write
 * then reads back with its value through the survivors.
 */
class ClientClusterIT extends WithClusterProcesses {
    @Test
    void everyAcknowledgedWriteSurvivesANodeKilledMidRun() throws Exception {
        cluster = new ClusterProcesses(tmp, 3, List.of("cluster.heartbeatInterval=100ms", "cluster.requestTimeout=1s", "cluster.paxos.timeout=2s"));
        RetryPolicy patient = RetryPolicy.builder().maxAttempts(60).maxElapsed(Duration.ofSeconds(40))
                .initialBackoff(Duration.ofMillis(20)).maxBackoff(Duration.ofMillis(500)).build();
        Map<String, String> acknowledged = new ConcurrentHashMap<>();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        AtomicInteger unknown = new AtomicInteger();
        AtomicInteger afterKill = new AtomicInteger();
        AtomicBoolean killed = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        try (CairnClient client = CairnClient.builder().endpoints(cluster.url(1), cluster.url(2), cluster.url(3)).token(cluster.token())
                .retryPolicy(patient).requestTimeout(Duration.ofSeconds(5)).endpointDownTime(Duration.ofSeconds(2)).build()) {
            List<Thread> writers = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                int writer = w;
                Thread t = new Thread(() -> {
                    for (int i = 0; !stop.get(); i++) {
                        String key = "w" + writer + "-" + i;
                        String value = "value-" + writer + "-" + i;
                        try {
                            WriteResult r = client.put(key, value);
                            assertThat(r.etag()).isNotBlank();
                            acknowledged.put(key, value);
                            if (killed.get()) {
                                afterKill.incrementAndGet();
                            }
                        } catch (OutcomeUnknownException e) {
                            unknown.incrementAndGet(); // may or may not be stored: held to nothing, never "failed"
                        } catch (RuntimeException | AssertionError e) {
                            failures.add(e);
                        }
                    }
                }, "client-writer-" + w);
                t.start();
                writers.add(t);
            }
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (acknowledged.size() < 40 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            cluster.kill(2);
            killed.set(true);
            while (afterKill.get() < 60 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            stop.set(true);
            for (Thread t : writers) {
                t.join(60_000);
            }
            assertThat(failures).as("writes reported failed").isEmpty();
            assertThat(afterKill.get()).as("writes acknowledged after the kill").isGreaterThanOrEqualTo(60);
            for (Map.Entry<String, String> e : acknowledged.entrySet()) {
                Optional<Value> read = client.get(e.getKey());
                assertThat(read).as("acknowledged write %s", e.getKey()).isPresent();
                assertThat(read.get().asString()).isEqualTo(e.getValue());
            }
        }
    }
}
