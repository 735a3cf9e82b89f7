package io.cairn.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.clock.HybridClock;
import io.cairn.clock.ManualClock;
import io.cairn.coordinator.ClientResult;
import io.cairn.membership.Member;
import io.cairn.message.Message;
import io.cairn.namespace.Namespace;
import io.cairn.quorum.Quorum;
import io.cairn.record.Record;
import io.cairn.replica.LocalReplica;
import io.cairn.replica.LocalStore;
import io.cairn.request.Limits;
import io.cairn.request.Op;
import io.cairn.request.OpResult;
import io.cairn.schedule.Scheduler;
import io.cairn.storage.Durability;
import io.cairn.storage.MemoryEngine;
import io.cairn.storage.StorageException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class ClusterNodeTest {
    private static final long T = 1_700_000_000_000L;
    private final ManualClock wall = new ManualClock(T);
    private final List<Task> tasks = new ArrayList<>();
    private final List<Message> sent = new ArrayList<>();

    private record Task(long at, long seq, Runnable run) {}

    /** Found by the simulator: a write this node's own store refused was hinted to itself, and never handed off. */
    @Test
    void aHintForTheNodeItselfIsHandedToItsOwnReplica() {
        MemoryEngine engine = new MemoryEngine();
        HybridClock clock = new HybridClock(wall, 1);
        LocalReplica replica = new LocalReplica(engine, clock, Durability.SYNC, 0, Limits.DEFAULTS);
        LocalStore direct = LocalStore.direct(replica);
        boolean[] refuse = {true};
        LocalStore store = new LocalStore() {
            @Override
            public CompletableFuture<List<OpResult>> apply(Namespace ns, List<Op> ops) {
                return refuse[0] ? CompletableFuture.failedFuture(new StorageException("refused")) : direct.apply(ns, ops);
            }

            @Override
            public Record readStored(Namespace ns, byte[] key) {
                return direct.readStored(ns, key);
            }
        };
        Namespace ns = Namespace.defaults(0);
        List<Member> members = List.of(new Member(1, "a", "h1:80", "h1:7000"));
        Scheduler scheduler = (delay, task) -> {
            Task t = new Task(wall.nowMillis() + delay, tasks.size(), task);
            tasks.add(t);
            return () -> tasks.remove(t);
        };
        ClusterNode node = new ClusterNode(1, members, ns, new ClusterSettings(1, 500, 8.0, 3_600_000, 1_000, 16,
                io.cairn.coordinator.CoordinatorSettings.DEFAULTS), clock, (to, m) -> sent.add(m), scheduler, store, engine);
        node.start();
        byte[] key = "k".getBytes(StandardCharsets.UTF_8);
        List<ClientResult> results = new ArrayList<>();

        node.put(ns, key, "v".getBytes(StandardCharsets.UTF_8), null, Op.NO_TTL, Quorum.ONE, results::add);
        assertThat(node.hints().backlog()).containsOnlyKeys(1);

        refuse[0] = false;
        runFor(3_000);

        assertThat(node.hints().pendingCount()).isZero();
        assertThat(replica.readStored(ns, key)).isNotNull();
        assertThat(sent).noneMatch(m -> m instanceof Message.WriteRequest);
    }

    private void runFor(long millis) {
        long end = wall.nowMillis() + millis;
        while (true) {
            Task next = tasks.stream().min(Comparator.comparingLong(Task::at).thenComparingLong(Task::seq)).orElse(null);
            if (next == null || next.at() > end) {
                break;
            }
            tasks.remove(next);
            wall.set(Math.max(wall.nowMillis(), next.at()));
            next.run().run();
        }
        wall.set(end);
    }
}
