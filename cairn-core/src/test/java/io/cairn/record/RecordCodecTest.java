package io.cairn.record;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.clock.Version;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Unit tests of the record encoding: round trips, layout and corruption detection. */
class RecordCodecTest {
    private static final byte[] KEY = "user:42".getBytes(StandardCharsets.UTF_8);
    private static final Version V = new Version(Version.pack(1_700_000_000_000L, 3), 9);

    private static List<Record> samples() {
        byte[] large = new byte[1 << 20];
        new SplittableRandom(1).nextBytes(large);
        return List.of(
                Record.value(V, Record.NO_EXPIRY, null, new byte[0]),
                Record.value(V, Record.NO_EXPIRY, "text/plain", "hello".getBytes(StandardCharsets.UTF_8)),
                Record.value(V, 1_700_000_060_000L, "application/json; charset=utf-8", "{}".getBytes(StandardCharsets.UTF_8)),
                Record.value(V, 1, "", new byte[] {0, (byte) 0xFF, 0}),
                Record.value(V, Long.MAX_VALUE, "ünïcødé/τύπος", new byte[] {1}),
                Record.value(V, Record.NO_EXPIRY, null, large),
                Record.tombstone(V),
                Record.tombstone(new Version(0, 0)));
    }

    @Test
    void roundTripsEverySample() {
        for (Record record : samples()) {
            byte[] encoded = RecordCodec.encode(KEY, record);
            assertThat(RecordCodec.decode(KEY, encoded)).as(record.toString()).isEqualTo(record);
        }
    }

    @Test
    void emptyKeyIsAllowed() {
        Record record = Record.value(V, 5, "a/b", new byte[] {7});
        assertThat(RecordCodec.decode(new byte[0], RecordCodec.encode(new byte[0], record))).isEqualTo(record);
    }

    @Test
    void layoutMatchesTheDocumentation() {
        Record record = Record.value(V, 77, "ab", new byte[] {5, 6});
        ByteBuffer buf = ByteBuffer.wrap(RecordCodec.encode(KEY, record));

        assertThat(buf.get()).isEqualTo(RecordCodec.FORMAT);
        assertThat(buf.get()).isEqualTo((byte) (2 | 4));
        assertThat(buf.getLong()).isEqualTo(V.timestamp());
        assertThat(buf.getInt()).isEqualTo(V.nodeId());
        assertThat(buf.getLong()).isEqualTo(77);
        assertThat(buf.getShort()).isEqualTo((short) 2);
        assertThat(buf.get()).isEqualTo((byte) 'a');
        assertThat(buf.get()).isEqualTo((byte) 'b');
        assertThat(buf.getInt()).isEqualTo(2);
        assertThat(buf.get()).isEqualTo((byte) 5);
        assertThat(buf.get()).isEqualTo((byte) 6);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(KEY);
        crc.update(buf.array(), 0, buf.position());
        assertThat(buf.getInt()).isEqualTo((int) crc.getValue());
        assertThat(buf.hasRemaining()).isFalse();
    }

    @Test
    void tombstoneEncodingCarriesOnlyTheTombstoneFlag() {
        byte[] encoded = RecordCodec.encode(KEY, Record.tombstone(V));
        assertThat(encoded[1]).isEqualTo((byte) 1);
        assertThat(encoded).hasSize(1 + 1 + 8 + 4 + 4 + 4);
    }

    @Test
    void everySingleBitFlipIsDetected() {
        for (Record record : samples()) {
            if (record.value().length > 1024) {
                continue; // the large sample is covered by the property test on sampled bits
            }
            byte[] encoded = RecordCodec.encode(KEY, record);
            for (int bit = 0; bit < encoded.length * 8; bit++) {
                byte[] flipped = encoded.clone();
                flipped[bit / 8] ^= (byte) (1 << (bit % 8));
                int at = bit;
                assertThatThrownBy(() -> RecordCodec.decode(KEY, flipped))
                        .as("bit %d of %s", at, record)
                        .isInstanceOf(CorruptRecordException.class);
            }
        }
    }

    @Test
    void bitFlipsInTheLargeValueAreDetected() {
        Record large = samples().get(5);
        byte[] encoded = RecordCodec.encode(KEY, large);
        SplittableRandom random = new SplittableRandom(5);
        for (int i = 0; i < 64; i++) {
            byte[] flipped = encoded.clone();
            int bit = random.nextInt(encoded.length * 8);
            flipped[bit / 8] ^= (byte) (1 << (bit % 8));
            assertThatThrownBy(() -> RecordCodec.decode(KEY, flipped)).isInstanceOf(CorruptRecordException.class);
        }
    }

    @Test
    void everyTruncationIsDetected() {
        for (Record record : samples()) {
            if (record.value().length > 1024) {
                continue;
            }
            byte[] encoded = RecordCodec.encode(KEY, record);
            for (int length = 0; length < encoded.length; length++) {
                byte[] truncated = Arrays.copyOf(encoded, length);
                int at = length;
                assertThatThrownBy(() -> RecordCodec.decode(KEY, truncated))
                        .as("truncated to %d of %s", at, record)
                        .isInstanceOf(CorruptRecordException.class);
            }
        }
    }

    @Test
    void trailingGarbageIsDetected() {
        byte[] encoded = RecordCodec.encode(KEY, samples().get(1));
        byte[] longer = Arrays.copyOf(encoded, encoded.length + 1);
        assertThatThrownBy(() -> RecordCodec.decode(KEY, longer)).isInstanceOf(CorruptRecordException.class);
    }

    @Test
    void decodingUnderAnotherKeyIsDetected() {
        for (Record record : samples()) {
            byte[] encoded = RecordCodec.encode(KEY, record);
            for (byte[] other : List.of("user:43".getBytes(StandardCharsets.UTF_8), new byte[0],
                    Arrays.copyOf(KEY, KEY.length + 1), Arrays.copyOf(KEY, KEY.length - 1))) {
                assertThatThrownBy(() -> RecordCodec.decode(other, encoded))
                        .as("%s under %s", record, new String(other, StandardCharsets.UTF_8))
                        .isInstanceOf(CorruptRecordException.class);
            }
        }
    }

    @Test
    void validChecksumOverInconsistentContentIsStillCorrupt() {
        // A writer bug rather than bit rot: the checksum matches, but a tombstone carries a value.
        byte[] body = ByteBuffer.allocate(1 + 1 + 8 + 4 + 4 + 1)
                .put(RecordCodec.FORMAT).put((byte) 1).putLong(V.timestamp()).putInt(V.nodeId()).putInt(1).put((byte) 9)
                .array();
        assertThatThrownBy(() -> RecordCodec.decode(KEY, withChecksum(KEY, body))).isInstanceOf(CorruptRecordException.class);

        byte[] shortLength = ByteBuffer.allocate(1 + 1 + 8 + 4 + 4 + 2)
                .put(RecordCodec.FORMAT).put((byte) 0).putLong(V.timestamp()).putInt(V.nodeId()).putInt(1).put((byte) 7).put((byte) 8)
                .array();
        assertThatThrownBy(() -> RecordCodec.decode(KEY, withChecksum(KEY, shortLength))).as("bytes beyond the value length")
                .isInstanceOf(CorruptRecordException.class);

        byte[] unknownFormat = RecordCodec.encode(KEY, samples().get(1));
        unknownFormat[0] = 2;
        assertThatThrownBy(() -> RecordCodec.decode(KEY, withChecksum(KEY, Arrays.copyOf(unknownFormat, unknownFormat.length - 4))))
                .isInstanceOf(CorruptRecordException.class);

        byte[] negativeVersion = ByteBuffer.allocate(1 + 1 + 8 + 4 + 4)
                .put(RecordCodec.FORMAT).put((byte) 0).putLong(-1).putInt(0).putInt(0).array();
        assertThatThrownBy(() -> RecordCodec.decode(KEY, withChecksum(KEY, negativeVersion))).isInstanceOf(CorruptRecordException.class);
    }

    @Test
    void everyFieldIsValidatedUnderAValidChecksum() {
        byte[] unknownFlag = ByteBuffer.allocate(1 + 1 + 8 + 4 + 4)
                .put(RecordCodec.FORMAT).put((byte) 8).putLong(V.timestamp()).putInt(V.nodeId()).putInt(0).array();
        assertThatThrownBy(() -> RecordCodec.decode(KEY, withChecksum(KEY, unknownFlag))).isInstanceOf(CorruptRecordException.class)
                .hasMessageContaining("flags");

        byte[] negativeNode = ByteBuffer.allocate(1 + 1 + 8 + 4 + 4)
                .put(RecordCodec.FORMAT).put((byte) 0).putLong(V.timestamp()).putInt(-1).putInt(0).array();
        assertThatThrownBy(() -> RecordCodec.decode(KEY, withChecksum(KEY, negativeNode))).isInstanceOf(CorruptRecordException.class);

        byte[] negativeExpiry = ByteBuffer.allocate(1 + 1 + 8 + 4 + 8 + 4)
                .put(RecordCodec.FORMAT).put((byte) 2).putLong(V.timestamp()).putInt(V.nodeId()).putLong(-5).putInt(0).array();
        assertThatThrownBy(() -> RecordCodec.decode(KEY, withChecksum(KEY, negativeExpiry))).isInstanceOf(CorruptRecordException.class)
                .hasMessageContaining("expiry");

        byte[] contentTypeBeyondTheEnd = ByteBuffer.allocate(1 + 1 + 8 + 4 + 2 + 4)
                .put(RecordCodec.FORMAT).put((byte) 4).putLong(V.timestamp()).putInt(V.nodeId()).putShort((short) 0xFFFF).putInt(0).array();
        assertThatThrownBy(() -> RecordCodec.decode(KEY, withChecksum(KEY, contentTypeBeyondTheEnd)))
                .isInstanceOf(CorruptRecordException.class);

        byte[] tombstoneWithContentType = ByteBuffer.allocate(1 + 1 + 8 + 4 + 2 + 1 + 4)
                .put(RecordCodec.FORMAT).put((byte) (1 | 4)).putLong(V.timestamp()).putInt(V.nodeId()).putShort((short) 1).put((byte) 'x')
                .putInt(0).array();
        assertThatThrownBy(() -> RecordCodec.decode(KEY, withChecksum(KEY, tombstoneWithContentType)))
                .isInstanceOf(CorruptRecordException.class).hasMessageContaining("tombstone");
    }

    @Test
    void contentTypeLongerThanTheFieldIsRefusedAtEncode() {
        Record record = Record.value(V, 0, "x".repeat(0x10000), new byte[0]);
        assertThatThrownBy(() -> RecordCodec.encode(KEY, record)).isInstanceOf(IllegalArgumentException.class);
        Record longest = Record.value(V, 0, "x".repeat(0xFFFF), new byte[0]);
        assertThat(RecordCodec.decode(KEY, RecordCodec.encode(KEY, longest))).isEqualTo(longest);
    }

    private static byte[] withChecksum(byte[] key, byte[] body) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(key);
        crc.update(body);
        return ByteBuffer.allocate(body.length + 4).put(body).putInt((int) crc.getValue()).array();
    }
}
