package io.cairn.bench;

import java.util.random.RandomGenerator;

/** Picks the index of the key the next operation touches, in {@code [0, keyCount)}. */
interface KeyChooser {
  long next(RandomGenerator random);

  static KeyChooser of(Distribution distribution, long keyCount, double zipfTheta) {
    return switch (distribution) {
      case UNIFORM -> random -> random.nextLong(keyCount);
      case ZIPFIAN -> {
        ZipfianGenerator ranks = new ZipfianGenerator(keyCount, zipfTheta);
        KeyPermutation scatter = new KeyPermutation(keyCount);
        yield random -> scatter.apply(ranks.next(random));
      }
    };
  }
}
