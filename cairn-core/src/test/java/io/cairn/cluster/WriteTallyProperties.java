package io.cairn.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.property.Gen;
import io.cairn.property.Trials;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link WriteTally} against a naive oracle over random reply sequences, with duplicates,
 * contradictions and replies from nodes outside the replica set (the network may deliver all of
 * them): a replica's first answer counts, and the decision follows from the counts alone.
 */
class WriteTallyProperties {
    @Test
    void agreesWithTheOracleAfterEveryReply() {
        Trials.run(0x3717_7A11L, 400, 40, gen -> {
            Set<Integer> replicas = replicaSet(gen);
            int required = gen.between(1, replicas.size());
            WriteTally tally = new WriteTally(replicas, required);
            Map<Integer, Boolean> firstAnswer = new LinkedHashMap<>();
            List<String> log = new ArrayList<>();
            WriteTally.Decision settled = null;
            for (int i = 0; i < gen.size(); i++) {
                int node = gen.between(0, 9);
                boolean ack = gen.chance(0.6);
                log.add((ack ? "ack " : "refuse ") + node);
                WriteTally.Decision d = ack ? tally.ack(node) : tally.refuse(node);
                if (replicas.contains(node)) {
                    firstAnswer.putIfAbsent(node, ack);
                }
                long acks = firstAnswer.values().stream().filter(a -> a).count();
                long refusals = firstAnswer.size() - acks;
                WriteTally.Decision expected = acks >= required ? WriteTally.Decision.ACKNOWLEDGED
                        : replicas.size() - refusals < required ? WriteTally.Decision.FAILED
                        : WriteTally.Decision.PENDING;
                String why = "replicas " + replicas + " W=" + required + " after " + log;
                assertThat(d).as(why).isEqualTo(expected);
                assertThat(tally.decision()).as(why).isEqualTo(expected);
                assertThat(tally.acks()).as(why).isEqualTo((int) acks);
                Set<Integer> acked = new LinkedHashSet<>();
                firstAnswer.forEach((n, a) -> {
                    if (a) {
                        acked.add(n);
                    }
                });
                assertThat(tally.acked()).as(why).isEqualTo(acked);
                Set<Integer> unanswered = new LinkedHashSet<>(replicas);
                unanswered.removeAll(firstAnswer.keySet());
                assertThat(tally.unanswered()).as(why).isEqualTo(unanswered);
                // Once settled, a write stays settled the same way: a late reply never flips it.
                if (settled != null) {
                    assertThat(d).as(why).isEqualTo(settled);
                } else if (d != WriteTally.Decision.PENDING) {
                    settled = d;
                }
            }
        });
    }

    @Test
    void rejectsImpossibleQuorums() {
        Trials.run(0x3717_0001L, 50, 10, gen -> {
            Set<Integer> replicas = replicaSet(gen);
            int required = gen.chance(0.5) ? 0 : replicas.size() + gen.between(1, 3);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> new WriteTally(replicas, required))
                    .isInstanceOf(IllegalArgumentException.class);
        });
    }

    static Set<Integer> replicaSet(Gen gen) {
        Set<Integer> replicas = new LinkedHashSet<>();
        int n = gen.between(1, 7);
        while (replicas.size() < n) {
            replicas.add(gen.between(0, 9));
        }
        return replicas;
    }

    @Test
    void aShortfallNamesEachReplicaSetOfAMovingPartition() {
        WriteTally one = new WriteTally(Set.of(1, 2, 3), 2);
        one.ack(1);
        assertThat(one.shortfall()).isEqualTo("1 of the required 2");
        WriteTally joint = new WriteTally(List.of(Set.of(1, 2, 3), Set.of(2, 3, 4)), 2);
        joint.ack(1);
        joint.ack(2);
        assertThat(joint.decision()).isEqualTo(WriteTally.Decision.PENDING);
        assertThat(joint.shortfall()).isEqualTo("the owners [1, 2, 3]: 2 of the required 2, the incoming set [2, 3, 4]: 1 of the required 2");
    }
}
