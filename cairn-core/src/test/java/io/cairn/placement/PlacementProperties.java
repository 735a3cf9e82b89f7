package io.cairn.placement;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.membership.Member;
import io.cairn.property.Gen;
import io.cairn.property.Trials;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The placement function's promises over random clusters: zones, balance, determinism, stability. */
class PlacementProperties {
    @Test
    void everyPreferenceListHoldsEveryMemberOnceWithDistinctHomeZonesWhereThereAreEnoughZones() {
        Trials.run(0x9_1ACEL, 150, 12, gen -> {
            List<Member> members = cluster(gen, gen.between(1, 5), gen.between(1, 12));
            int n = gen.between(1, 5);
            int partitions = 1 << gen.between(0, 8);
            PartitionMap map = Placement.compute(1, members, partitions, n);
            int zones = (int) members.stream().map(Member::zone).distinct().count();
            int expectedN = Math.min(n, members.size());
            assertThat(map.replicationFactor()).isEqualTo(expectedN);
            for (int p = 0; p < partitions; p++) {
                int[] prefs = map.preferenceList(p);
                assertThat(Arrays.stream(prefs).boxed().toList())
                        .containsExactlyInAnyOrderElementsOf(members.stream().map(Member::id).toList());
                Set<String> homeZones = new HashSet<>();
                for (int id : map.replicas(p)) {
                    homeZones.add(zoneOf(members, id));
                    assertThat(map.isReplica(p, id)).isTrue();
                }
                assertThat(homeZones).as("partition %d of %s, N=%d", p, members, n).hasSize(Math.min(expectedN, zones));
            }
        });
    }

    @Test
    void replicasAreSpreadEvenlyWhenZonesAreEqual() {
        Trials.run(0xBA1A_4CEL, 100, 12, gen -> {
            int zones = gen.between(1, 4);
            List<Member> members = cluster(gen, zones, zones * gen.between(1, 3));
            int n = gen.between(1, Math.min(3, members.size()));
            int partitions = 1 << gen.between(4, 9);
            int[] counts = Placement.compute(1, members, partitions, n).replicaCounts(members.stream().map(Member::id).toList());
            int max = Arrays.stream(counts).max().orElseThrow();
            int min = Arrays.stream(counts).min().orElseThrow();
            assertThat(max - min).as("replica counts %s of %s, N=%d", Arrays.toString(counts), members, n).isLessThanOrEqualTo(1);
        });
    }

    @Test
    void theMapDependsOnTheMembersNotOnTheirOrder() {
        Trials.run(0x04DE_2L, 100, 10, gen -> {
            List<Member> members = cluster(gen, gen.between(1, 4), gen.between(1, 10));
            List<Member> shuffled = new ArrayList<>(members);
            for (int i = shuffled.size() - 1; i > 0; i--) {
                int j = gen.between(0, i);
                Member t = shuffled.get(i);
                shuffled.set(i, shuffled.get(j));
                shuffled.set(j, t);
            }
            int n = gen.between(1, 4);
            int partitions = 1 << gen.between(0, 7);
            PartitionMap a = Placement.compute(7, members, partitions, n);
            PartitionMap b = Placement.compute(7, shuffled, partitions, n);
            for (int p = 0; p < partitions; p++) {
                assertThat(b.preferenceList(p)).as("partition %d", p).containsExactly(a.preferenceList(p));
            }
        });
    }

    /**
     * Adding a node moves about the new node's share of replicas (N·P/(nodes+1)); the balancing
     * pass adds some churn, bounded here at 2.5 times that share for realistic partition counts.
     */
    @Test
    void addingANodeMovesFewReplicas() {
        Trials.run(0xADD_40DEL, 100, 12, gen -> {
            int zones = gen.between(1, 4);
            List<Member> members = cluster(gen, zones, gen.between(Math.max(3, zones), 12));
            int partitions = 1 << gen.between(6, 10);
            int n = 3;
            PartitionMap before = Placement.compute(1, members, partitions, n);
            List<Member> grown = new ArrayList<>(members);
            int newId = 1000;
            grown.add(new Member(newId, "z" + gen.between(0, zones - 1), "new:80", "new:7000"));
            PartitionMap after = Placement.compute(2, grown, partitions, n);
            int moved = 0;
            int toNewNode = 0;
            for (int p = 0; p < partitions; p++) {
                Set<Integer> old = new HashSet<>();
                for (int id : before.replicas(p)) {
                    old.add(id);
                }
                for (int id : after.replicas(p)) {
                    if (!old.contains(id)) {
                        moved++;
                        toNewNode += id == newId ? 1 : 0;
                    }
                }
            }
            double share = (double) partitions * n / grown.size();
            String why = members.size() + " nodes in " + zones + " zones, P=" + partitions + ": moved " + moved + ", share " + share;
            assertThat((double) moved).as(why).isLessThanOrEqualTo(2.5 * share);
            assertThat((double) toNewNode).as(why).isBetween(0.5 * share, 1.5 * share);
        });
    }

    /** Members with ids scattered over 1..65535, spread round-robin over {@code zones} zones. */
    private static List<Member> cluster(Gen gen, int zones, int size) {
        Set<Integer> ids = new HashSet<>();
        List<Member> members = new ArrayList<>();
        while (members.size() < size) {
            int id = gen.between(1, 999);
            if (ids.add(id)) {
                members.add(new Member(id, "z" + (members.size() % zones), "h" + id + ":80", "h" + id + ":7000"));
            }
        }
        return members;
    }

    private static String zoneOf(List<Member> members, int id) {
        return members.stream().filter(m -> m.id() == id).findFirst().orElseThrow().zone();
    }
}
