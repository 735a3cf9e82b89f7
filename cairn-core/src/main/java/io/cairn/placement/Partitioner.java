package io.cairn.placement;

/**
 * Maps a key to its partition: {@code xxh64(key) mod P}, with P a power of two.
 *
 * <p>P is fixed for the life of a namespace, so a key's partition never changes; what moves
 * between nodes is whole partitions.
 */
public final class Partitioner {
    public static final int MAX_PARTITIONS = 1 << 16;
    private final int partitions;
    private final int mask;

    public Partitioner(int partitions) {
        if (partitions < 1 || partitions > MAX_PARTITIONS || Integer.bitCount(partitions) != 1) {
            throw new IllegalArgumentException("partition count must be a power of two between 1 and " + MAX_PARTITIONS + ", got " + partitions);
        }
        this.partitions = partitions;
        this.mask = partitions - 1;
    }

    public int partitions() {
        return partitions;
    }

    public int partitionOf(byte[] key) {
        return (int) (KeyHash.xxh64(key) & mask);
    }
}
