package io.cairn.bench;

import java.util.random.RandomGenerator;

/**
 * A generator of Zipf-distributed ranks in {@code [0, itemCount)}, rank 0 the most popular.
 *
 * <p>The method is that of Gray et al., "Quickly Generating Billion-Record Synthetic Databases"
 * (SIGMOD 1994), as YCSB uses it: after an O(n) setup that computes zeta(n, theta), each sample
 * costs one uniform draw and at most two {@code pow} calls. Ranks 0 and 1 get exactly their
 * Zipfian probabilities, {@code 1 / zeta(n, theta)} and {@code 2^-theta / zeta(n, theta)}; the
 * tail is a continuous approximation. The method needs {@code 0 < theta < 1}.
 *
 * <p>Instances are immutable and may be shared across threads; each caller brings its own random
 * source, so sampling needs no synchronization and allocates nothing.
 */
final class ZipfianGenerator {
  /** Bounds the O(n) setup to about a second; the key space of a bench run is far smaller. */
  static final long MAX_ITEM_COUNT = 100_000_000L;

  private final long itemCount;
  private final double theta;
  private final double zetaN;
  private final double alpha;
  private final double eta;
  // Invariant: rankOneBound == zeta(2, theta), the cumulative weight of ranks 0 and 1.
  private final double rankOneBound;

  ZipfianGenerator(long itemCount, double theta) {
    if (itemCount < 1 || itemCount > MAX_ITEM_COUNT) {
      throw new IllegalArgumentException(
          "item count must be in [1, " + MAX_ITEM_COUNT + "], got " + itemCount);
    }
    if (!(theta > 0.0 && theta < 1.0)) {
      throw new IllegalArgumentException("zipf theta must be in (0, 1), got " + theta);
    }
    this.itemCount = itemCount;
    this.theta = theta;
    this.zetaN = zeta(itemCount, theta);
    this.alpha = 1.0 / (1.0 - theta);
    this.rankOneBound = 1.0 + Math.pow(0.5, theta);
    this.eta = (1.0 - Math.pow(2.0 / itemCount, 1.0 - theta)) / (1.0 - zeta(2, theta) / zetaN);
  }

  long itemCount() {
    return itemCount;
  }

  /** Returns the exact Zipfian probability of {@code rank}, for tests and reports. */
  double probability(long rank) {
    return 1.0 / Math.pow(rank + 1.0, theta) / zetaN;
  }

  long next(RandomGenerator random) {
    double u = random.nextDouble();
    double uz = u * zetaN;
    if (uz < 1.0) {
      return 0;
    }
    if (uz < rankOneBound) {
      return Math.min(1, itemCount - 1);
    }
    long rank = (long) (itemCount * Math.pow(eta * u - eta + 1.0, alpha));
    return Math.min(rank, itemCount - 1);
  }

  /** Sums 1/i^theta for i in [1, n], smallest terms first to limit rounding error. */
  static double zeta(long n, double theta) {
    double sum = 0.0;
    for (long i = n; i >= 1; i--) {
      sum += 1.0 / Math.pow(i, theta);
    }
    return sum;
  }
}
