package io.cairn.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ZipfianGeneratorTest {
  private static final int SAMPLES = 1_000_000;

  @Test
  void rankFrequenciesMatchTheory() {
    ZipfianGenerator zipf = new ZipfianGenerator(1000, 0.99);
    SplittableRandom random = new SplittableRandom(42);
    long[] hits = new long[1000];
    for (int i = 0; i < SAMPLES; i++) {
      hits[(int) zipf.next(random)]++;
    }
    // Ranks 0 and 1 are exact in the Gray et al. method; 1/zeta(1000, 0.99) is about 0.134.
    assertThat(zipf.probability(0))
        .isCloseTo(1.0 / ZipfianGenerator.zeta(1000, 0.99), within(1e-12));
    assertThat((double) hits[0] / SAMPLES).isCloseTo(zipf.probability(0), within(0.003));
    assertThat((double) hits[1] / SAMPLES).isCloseTo(zipf.probability(1), within(0.003));
    assertThat(hits[0]).isGreaterThan(hits[1]);
    assertThat(hits[1]).isGreaterThan(hits[10]);
    assertThat(hits[10]).isGreaterThan(hits[500]);
    // The hottest 10% of ranks draw most of the traffic, as Zipf with theta near 1 predicts.
    long top = 0;
    for (int r = 0; r < 100; r++) {
      top += hits[r];
    }
    double expectedTop = 0;
    for (int r = 0; r < 100; r++) {
      expectedTop += zipf.probability(r);
    }
    assertThat((double) top / SAMPLES).isCloseTo(expectedTop, within(0.03));
  }

  @Test
  void everyValueIsInRange() {
    for (long n : new long[] {1, 2, 3, 10, 1000, 100_000}) {
      ZipfianGenerator zipf = new ZipfianGenerator(n, 0.99);
      SplittableRandom random = new SplittableRandom(n);
      for (int i = 0; i < 100_000; i++) {
        assertThat(zipf.next(random)).isBetween(0L, n - 1);
      }
    }
  }

  @Test
  void lowerThetaIsFlatter() {
    SplittableRandom random = new SplittableRandom(7);
    ZipfianGenerator skewed = new ZipfianGenerator(10_000, 0.99);
    ZipfianGenerator flat = new ZipfianGenerator(10_000, 0.5);
    assertThat(flat.probability(0)).isLessThan(skewed.probability(0));
    long flatZero = 0;
    for (int i = 0; i < SAMPLES; i++) {
      if (flat.next(random) == 0) {
        flatZero++;
      }
    }
    assertThat((double) flatZero / SAMPLES).isCloseTo(flat.probability(0), within(0.002));
  }

  @Test
  void rejectsBadParameters() {
    assertThatThrownBy(() -> new ZipfianGenerator(0, 0.99))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ZipfianGenerator(10, 1.0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ZipfianGenerator(10, 0.0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ZipfianGenerator(ZipfianGenerator.MAX_ITEM_COUNT + 1, 0.5))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
