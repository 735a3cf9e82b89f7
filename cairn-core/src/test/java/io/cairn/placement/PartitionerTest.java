package io.cairn.placement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Unit tests of the key to partition mapping. */
class PartitionerTest {

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4, 256, 1024, Partitioner.MAX_PARTITIONS})
    void acceptsPowersOfTwoUpToTheMaximum(int partitions) {
        assertThat(new Partitioner(partitions).partitions()).isEqualTo(partitions);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, -256, 3, 6, 100, 255, 257, Partitioner.MAX_PARTITIONS + 1, Partitioner.MAX_PARTITIONS * 2, Integer.MIN_VALUE, Integer.MAX_VALUE})
    void rejectsAnythingElse(int partitions) {
        assertThatThrownBy(() -> new Partitioner(partitions)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void partitionIsInRangeAndIsTheLowBitsOfTheHash() {
        SplittableRandom random = new SplittableRandom(17);
        for (int partitions : new int[] {1, 2, 256, Partitioner.MAX_PARTITIONS}) {
            Partitioner partitioner = new Partitioner(partitions);
            for (int i = 0; i < 2_000; i++) {
                byte[] key = new byte[random.nextInt(64)];
                random.nextBytes(key);
                int p = partitioner.partitionOf(key);
                assertThat(p).isBetween(0, partitions - 1);
                assertThat(p).isEqualTo((int) Long.remainderUnsigned(KeyHash.xxh64(key), partitions));
            }
        }
    }

    @Test
    void aKeysPartitionIsFixed() {
        // The on-disk layout depends on these; they must never change.
        Partitioner partitioner = new Partitioner(256);
        assertThat(partitioner.partitionOf(new byte[0])).isEqualTo(0x99);
        assertThat(partitioner.partitionOf("abc".getBytes(StandardCharsets.US_ASCII))).isEqualTo(0x99);
        assertThat(partitioner.partitionOf("a".getBytes(StandardCharsets.US_ASCII))).isEqualTo(0x5b);
        assertThat(new Partitioner(1).partitionOf("anything".getBytes(StandardCharsets.US_ASCII))).isZero();
    }

    @Test
    void sequentialKeysSpreadRoughlyUniformlyOver256Partitions() {
        int partitions = 256;
        int keys = 100_000;
        int[] counts = new int[partitions];
        Partitioner partitioner = new Partitioner(partitions);
        for (int i = 0; i < keys; i++) {
            counts[partitioner.partitionOf(("user:" + i).getBytes(StandardCharsets.UTF_8))]++;
        }
        double expected = (double) keys / partitions;
        double chiSquare = 0;
        int min = Integer.MAX_VALUE;
        int max = 0;
        for (int c : counts) {
            chiSquare += (c - expected) * (c - expected) / expected;
            min = Math.min(min, c);
            max = Math.max(max, c);
        }
        // 255 degrees of freedom: the 99.9th percentile of chi-square is about 330.
        assertThat(chiSquare).isLessThan(330);
        assertThat(min).isGreaterThan((int) (expected * 0.8));
        assertThat(max).isLessThan((int) (expected * 1.2));
    }

    @Test
    void randomKeysSpreadRoughlyUniformlyToo() {
        int partitions = 256;
        int[] counts = new int[partitions];
        Partitioner partitioner = new Partitioner(partitions);
        SplittableRandom random = new SplittableRandom(99);
        for (int i = 0; i < 100_000; i++) {
            byte[] key = new byte[4 + random.nextInt(29)]; // from 4 bytes: shorter keys repeat too often to count as independent
            random.nextBytes(key);
            counts[partitioner.partitionOf(key)]++;
        }
        double expected = 100_000.0 / partitions;
        double chiSquare = 0;
        for (int c : counts) {
            chiSquare += (c - expected) * (c - expected) / expected;
        }
        assertThat(chiSquare).isLessThan(330);
    }
}
