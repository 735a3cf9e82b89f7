package io.cairn.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The key layout: byte order must equal the order the replica and the sweeper rely on. */
class KeyspaceTest {

    @Test
    void aDataKeyLiesInsideItsPartitionRangeAndOutsideEveryOther() {
        SplittableRandom random = new SplittableRandom(4);
        for (int i = 0; i < 2_000; i++) {
            int ns = 1 + random.nextInt(1000);
            int partition = random.nextInt(1 << 16);
            byte[] user = new byte[random.nextInt(8)];
            random.nextBytes(user);
            byte[] key = Keyspace.data(ns, partition, user);

            assertThat(Arrays.compareUnsigned(Keyspace.partitionStart(ns, partition), key)).isLessThanOrEqualTo(0);
            assertThat(Arrays.compareUnsigned(key, Keyspace.partitionEnd(ns, partition))).isNegative();
            if (partition > 0) {
                assertThat(Arrays.compareUnsigned(key, Keyspace.partitionEnd(ns, partition - 1))).isGreaterThanOrEqualTo(0);
            }
            assertThat(Keyspace.userKeyOf(key)).isEqualTo(user);
        }
    }

    @Test
    void theLastPartitionEndsWhereTheNextNamespaceBegins() {
        byte[] last = Keyspace.data(7, 0xFFFF, new byte[] {(byte) 0xFF, (byte) 0xFF});
        assertThat(Arrays.compareUnsigned(last, Keyspace.partitionEnd(7, 0xFFFF))).isNegative();
        assertThat(Arrays.compareUnsigned(Keyspace.partitionEnd(7, 0xFFFF), Keyspace.partitionStart(8, 0))).isLessThanOrEqualTo(0);
        assertThat(Arrays.compareUnsigned(Keyspace.partitionStart(8, 0), Keyspace.partitionEnd(7, 0xFFFF))).isGreaterThanOrEqualTo(0);
    }

    @Test
    void partitionsAbove32767SortAfterLowerOnes() {
        byte[] low = Keyspace.data(1, 0x7FFF, new byte[] {1});
        byte[] high = Keyspace.data(1, 0x8000, new byte[] {1});
        assertThat(Arrays.compareUnsigned(low, high)).isNegative();
    }

    @Test
    void expiryEntriesSortByDueTimeAndRoundTrip() {
        byte[] target = Keyspace.data(1, 5, "k".getBytes(StandardCharsets.UTF_8));
        long[] due = {0, 1, 255, 256, 1L << 40, 1_700_000_000_000L, Long.MAX_VALUE - 1};
        for (int i = 0; i < due.length; i++) {
            byte[] entry = Keyspace.expiry(due[i], target);
            assertThat(Keyspace.expiryDueMillis(entry)).isEqualTo(due[i]);
            assertThat(Keyspace.expiryTarget(entry)).isEqualTo(target);
            assertThat(Arrays.compareUnsigned(Keyspace.expiryStart(), entry)).isNegative();
            assertThat(Arrays.compareUnsigned(entry, Keyspace.expiryAfter(due[i]))).as("due %d", due[i]).isNegative();
            if (i > 0) {
                byte[] earlier = Keyspace.expiry(due[i - 1], Keyspace.data(9, 0xFFFF, new byte[] {(byte) 0xFF}));
                assertThat(Arrays.compareUnsigned(earlier, entry)).isNegative();
                assertThat(Arrays.compareUnsigned(entry, Keyspace.expiryAfter(due[i - 1]))).isGreaterThanOrEqualTo(0);
            }
        }
    }

    @Test
    void keyspacesDoNotOverlap() {
        byte[] data = Keyspace.data(Integer.MAX_VALUE, 0xFFFF, new byte[] {(byte) 0xFF});
        byte[] idem = Keyspace.idempotency(1, "k");
        byte[] meta = Keyspace.meta("hlc");
        byte[] expiry = Keyspace.expiry(5, data);

        assertThat(Arrays.compareUnsigned(idem, Keyspace.idempotencyStart())).isGreaterThanOrEqualTo(0);
        assertThat(Arrays.compareUnsigned(idem, Keyspace.idempotencyEnd())).isNegative();
        for (byte[] other : new byte[][] {data, meta, expiry}) {
            boolean inside = Arrays.compareUnsigned(other, Keyspace.idempotencyStart()) >= 0
                    && Arrays.compareUnsigned(other, Keyspace.idempotencyEnd()) < 0;
            assertThat(inside).isFalse();
        }
        assertThat(new byte[] {data[0], idem[0], meta[0], expiry[0]}).doesNotHaveDuplicates();
    }
}
