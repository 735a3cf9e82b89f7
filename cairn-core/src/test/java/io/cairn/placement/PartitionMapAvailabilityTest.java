package io.cairn.placement;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What losing nodes does to majority quorums: the what-if view's and readiness's one rule. */
class PartitionMapAvailabilityTest {
    private static PartitionMap.Slot stable(int... owners) {
        return new PartitionMap.Slot(owners, null, false, new int[0], 1, 1, owners);
    }

    private static PartitionMap map() {
        return new PartitionMap(9, 3, List.of(
                stable(1, 2, 3),
                stable(2, 3, 4),
                // Moving from {1,2,3} to {1,2,4}: a write needs a majority of each set.
                new PartitionMap.Slot(new int[] {1, 2, 3}, new int[] {1, 2, 4}, false, new int[0], 9, 1, new int[] {1, 2, 3, 4}),
                // Refilling after a removal: two owners left, reads served by them.
                new PartitionMap.Slot(new int[] {3, 4}, new int[] {3, 4, 1}, false, new int[0], 9, 1, new int[] {3, 4, 1})));
    }

    @Test
    void nothingLostLeavesEveryPartitionServableButTheRefillingOneUnderReplicated() {
        PartitionMap.Availability a = map().availabilityWithout(id -> false);
        assertThat(a.noQuorumReads()).isEmpty();
        assertThat(a.noQuorumWrites()).isEmpty();
        assertThat(a.underReplicated()).containsExactly(3);
        assertThat(a.noReplicaLeft()).isEmpty();
    }

    @Test
    void oneLostNodeBreaksOnlyTheQuorumsItWasHalfOf() {
        PartitionMap.Availability a = map().availabilityWithout(id -> id == 4);
        assertThat(a.noQuorumReads()).as("{3,4} without 4 is 1 of 2").containsExactly(3);
        assertThat(a.noQuorumWrites()).as("moving set {1,2,4} keeps 2 of 3").containsExactly(3);
        assertThat(a.underReplicated()).as("partition 2 still reads from {1,2,3}").containsExactly(1, 3);
    }

    @Test
    void aNodeThatHearsNoPeerHasNoQuorumAnywhere() {
        Set<Integer> down = Set.of(2, 3, 4);
        PartitionMap.Availability a = map().availabilityWithout(down::contains);
        assertThat(a.noQuorumReads()).containsExactly(0, 1, 2, 3);
        assertThat(a.noQuorumWrites()).containsExactly(0, 1, 2, 3);
        assertThat(a.noReplicaLeft()).containsExactly(1, 3);
    }

    @Test
    void otherQuorumsCountAgainstN() {
        PartitionMap.Availability one = map().availabilityWithout(id -> id == 3 || id == 4, Quorum.ONE, Quorum.ALL);
        assertThat(one.noQuorumReads()).as("any replica left serves a read at one").containsExactly(3);
        assertThat(one.noQuorumWrites()).as("all needs every replica").containsExactly(0, 1, 2, 3);
        PartitionMap.Availability none = map().availabilityWithout(id -> false, Quorum.ALL, Quorum.ALL);
        assertThat(none.noQuorumReads()).as("a refilling partition's two owners are all it has").isEmpty();
    }
}
