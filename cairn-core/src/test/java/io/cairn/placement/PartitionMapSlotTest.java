package io.cairn.placement;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A slot's write targets: every replica a write must reach, each once, owners first. */
class PartitionMapSlotTest {
    @Test
    void aStablePartitionWritesToItsOwnersAndAMovingOneToTheNewcomersToo() {
        PartitionMap.Slot stable = new PartitionMap.Slot(new int[] {3, 1, 2}, null, false, new int[0], 1, 1, new int[] {3, 1, 2});
        assertThat(stable.writeTargets()).containsExactly(3, 1, 2);

        PartitionMap.Slot moving = new PartitionMap.Slot(new int[] {1, 2, 3}, new int[] {4, 2, 3}, false, new int[0], 5, 1,
                new int[] {1, 2, 3, 4});
        assertThat(moving.writeTargets()).containsExactly(1, 2, 3, 4);

        PartitionMap.Slot refilled = new PartitionMap.Slot(new int[] {1, 2}, new int[] {1, 2, 5}, true, new int[] {5}, 7, 5,
                new int[] {1, 2, 5});
        assertThat(refilled.writeTargets()).containsExactly(1, 2, 5);
        // A fresh array each time: a caller may keep or change its copy.
        int[] first = moving.writeTargets();
        first[0] = 99;
        assertThat(moving.writeTargets()).containsExactly(1, 2, 3, 4);
    }
}
