package io.cairn.server.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.membership.Member;
import io.cairn.metadata.ClusterMetadata;
import io.cairn.metadata.ClusterState;
import io.cairn.metadata.MetadataCommand;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

class StatePublisherTest {
    private static final Duration WAIT = Duration.ofSeconds(5);

    /** Epochs 1..count: a bootstrap state, then a pause and resume of a join's plan, alternately. */
    private static List<ClusterState> states(int count) {
        List<Member> members = List.of(new Member(1, "a", "h:1", "h:2"), new Member(2, "b", "h:3", "h:4"), new Member(3, "c", "h:5", "h:6"));
        List<ClusterState> out = new ArrayList<>();
        ClusterState s = ClusterState.bootstrap(members, 4, 3);
        out.add(s);
        s = ClusterMetadata.apply(s, new MetadataCommand.Join(new Member(4, "a", "h:7", "h:8"))).state();
        out.add(s);
        while (out.size() < count) {
            s = ClusterMetadata.apply(s, new MetadataCommand.Pause(out.size() % 2 == 0)).state();
            out.add(s);
        }
        return out;
    }

    private static StatePublisher started(ClusterState first) {
        StatePublisher publisher = new StatePublisher("test-publisher");
        publisher.publish(first);
        return publisher;
    }

    @Test
    void aSubscriberBeforeTheFirstStateIsHandedNothingUntilIt() {
        List<ClusterState> states = states(3);
        try (StatePublisher publisher = new StatePublisher("test-publisher")) {
            List<Long> seen = new CopyOnWriteArrayList<>();
            publisher.subscribe(s -> seen.add(s.epoch()));
            assertThat(publisher.delivered()).isNull();
            publisher.publish(states.get(1)); // A restarted node's first state need not be epoch 1.
            publisher.publish(states.get(2));
            publisher.awaitEpoch(3, WAIT).join();
            assertThat(seen).containsExactly(2L, 3L);
        }
    }

    @Test
    void subscribersSeeTheCurrentStateThenEveryNewerEpochInOrder() {
        List<ClusterState> states = states(6);
        try (StatePublisher publisher = started(states.getFirst())) {
            List<Long> early = new CopyOnWriteArrayList<>();
            publisher.subscribe(s -> early.add(s.epoch()));
            publisher.publish(states.get(1));
            publisher.publish(states.get(2));
            publisher.publish(states.get(1)); // An older epoch again: dropped.
            List<Long> late = new CopyOnWriteArrayList<>();
            publisher.subscribe(s -> late.add(s.epoch()));
            for (ClusterState s : states.subList(3, 6)) {
                publisher.publish(s);
            }
            assertThat(publisher.awaitEpoch(6, WAIT).join()).isEqualTo(states.get(5));
            assertThat(early).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
            assertThat(late).containsExactly(3L, 4L, 5L, 6L);
        }
    }

    @Test
    void aThrowingSubscriberKeepsItsSubscriptionAndTheOthersTheirs() {
        List<ClusterState> states = states(3);
        try (StatePublisher publisher = started(states.getFirst())) {
            List<Long> thrower = new CopyOnWriteArrayList<>();
            List<Long> other = new CopyOnWriteArrayList<>();
            publisher.subscribe(s -> {
                thrower.add(s.epoch());
                throw new IllegalStateException("subscriber bug");
            });
            publisher.subscribe(s -> other.add(s.epoch()));
            publisher.publish(states.get(1));
            publisher.publish(states.get(2));
            publisher.awaitEpoch(3, WAIT).join();
            assertThat(thrower).containsExactly(1L, 2L, 3L);
            assertThat(other).containsExactly(1L, 2L, 3L);
        }
    }

    @Test
    void aSlowSubscriberHoldsThePublisherNotTheProducer() throws Exception {
        List<ClusterState> states = states(4);
        CountDownLatch release = new CountDownLatch(1);
        try (StatePublisher publisher = started(states.getFirst())) {
            publisher.awaitEpoch(1, WAIT).join();
            publisher.subscribe(s -> {
                try {
                    release.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            long started = System.nanoTime();
            for (ClusterState s : states.subList(1, 4)) {
                publisher.publish(s);
            }
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(1));
            assertThat(publisher.delivered().epoch()).isEqualTo(1);
            release.countDown();
            assertThat(publisher.awaitEpoch(4, WAIT).join().epoch()).isEqualTo(4);
        }
    }

    @Test
    void awaitingAnEpochTimesOutAndClosingFailsTheWaiters() {
        List<ClusterState> states = states(2);
        StatePublisher publisher = started(states.getFirst());
        assertThat(publisher.awaitEpoch(1, WAIT).join()).isEqualTo(states.getFirst());
        assertThatThrownBy(() -> publisher.awaitEpoch(2, Duration.ofMillis(50)).join()).cause().isInstanceOf(TimeoutException.class);
        var pending = publisher.awaitEpoch(5, WAIT);
        publisher.close();
        assertThatThrownBy(pending::join).isInstanceOf(CompletionException.class).cause().isInstanceOf(MetadataUnavailableException.class);
        assertThatThrownBy(() -> publisher.awaitEpoch(5, WAIT).join()).cause().isInstanceOf(MetadataUnavailableException.class);
    }
}
