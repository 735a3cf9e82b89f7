package io.cairn.bench;

/**
 * A fixed pseudo-random bijection of {@code [0, size)}, used to scatter Zipfian ranks over the key
 * space so that hot keys are not neighbours.
 *
 * <p>A four-round Feistel network permutes the smallest even-bit power of two that covers
 * {@code size} (at most {@code 4 * size}); values that land outside {@code [0, size)} are
 * encrypted again ("cycle walking"), which stays a bijection because the cycle through any
 * in-range value returns to the range. Unlike YCSB's hash-and-modulo scrambling this keeps every
 * rank's probability intact: no two ranks collide on one key. The round keys are constants, so
 * the same keys are hot in every run and on every client.
 */
final class KeyPermutation {
  private static final long[] ROUND_KEYS = {
    0x9E3779B97F4A7C15L, 0xBF58476D1CE4E5B9L, 0x94D049BB133111EBL, 0xD6E8FEB86659FD93L
  };

  private final long size;
  private final int halfBits;
  private final long halfMask;
  // Invariant: domain is a power of two, size <= domain <= 4 * max(size, 1).
  private final long domain;

  KeyPermutation(long size) {
    if (size < 1 || size > (1L << 62)) {
      throw new IllegalArgumentException("size must be in [1, 2^62], got " + size);
    }
    int bits = 64 - Long.numberOfLeadingZeros(size - 1);
    bits = Math.max(2, bits + (bits & 1));
    this.size = size;
    this.halfBits = bits / 2;
    this.halfMask = (1L << halfBits) - 1;
    this.domain = 1L << bits;
  }

  long apply(long index) {
    if (index < 0 || index >= size) {
      throw new IllegalArgumentException("index " + index + " outside [0, " + size + ")");
    }
    long x = index;
    // Bound: a cycle of the permutation is at most `domain` long; expected iterations are < 4.
    for (long step = 0; step < domain; step++) {
      x = encrypt(x);
      if (x < size) {
        return x;
      }
    }
    throw new IllegalStateException("cycle walk did not return to range for " + index);
  }

  private long encrypt(long x) {
    long left = x >>> halfBits;
    long right = x & halfMask;
    for (long key : ROUND_KEYS) {
      long next = left ^ (mix(right ^ key) & halfMask);
      left = right;
      right = next;
    }
    return (left << halfBits) | right;
  }

  /** The SplitMix64 finalizer: a cheap function whose output bits all depend on every input bit. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
