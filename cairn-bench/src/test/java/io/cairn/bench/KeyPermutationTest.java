package io.cairn.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.BitSet;
import org.junit.jupiter.api.Test;

class KeyPermutationTest {
  @Test
  void isABijectionOfTheRange() {
    for (int size : new int[] {1, 2, 3, 4, 5, 17, 1000, 4097, 100_000}) {
      KeyPermutation permutation = new KeyPermutation(size);
      BitSet seen = new BitSet(size);
      for (int i = 0; i < size; i++) {
        long image = permutation.apply(i);
        assertThat(image).isBetween(0L, size - 1L);
        assertThat(seen.get((int) image)).as("collision at %d for size %d", i, size).isFalse();
        seen.set((int) image);
      }
      assertThat(seen.cardinality()).isEqualTo(size);
    }
  }

  @Test
  void scattersNeighbouringRanks() {
    KeyPermutation permutation = new KeyPermutation(100_000);
    int adjacent = 0;
    for (int rank = 0; rank < 100; rank++) {
      if (Math.abs(permutation.apply(rank) - permutation.apply(rank + 1)) <= 1) {
        adjacent++;
      }
    }
    assertThat(adjacent).isLessThan(3);
  }

  @Test
  void isTheSameInEveryInstance() {
    assertThat(new KeyPermutation(1000).apply(0)).isEqualTo(new KeyPermutation(1000).apply(0));
  }

  @Test
  void rejectsOutOfRangeIndex() {
    assertThatThrownBy(() -> new KeyPermutation(10).apply(10))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new KeyPermutation(0)).isInstanceOf(IllegalArgumentException.class);
  }
}
