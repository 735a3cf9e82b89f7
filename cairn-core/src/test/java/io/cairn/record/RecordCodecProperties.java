package io.cairn.record;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.property.Gen;
import io.cairn.property.Trials;
import io.cairn.clock.Version;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/** Properties of the record encoding over arbitrary records and keys. */
class RecordCodecProperties {
    private static final String[] CONTENT_TYPES = {"", "text/plain", "application/octet-stream", "application/json; charset=utf-8"};

    @Test
    void decodeInvertsEncode() {
        Trials.run(1234, 500, 100, gen -> {
            byte[] key = gen.bytes(40);
            Record record = record(gen);
            assertThat(RecordCodec.decode(key, RecordCodec.encode(key, record))).isEqualTo(record);
        });
    }

    @Test
    void anySingleBitFlipIsCorrupt() {
        Trials.run(1235, 1000, 100, gen -> {
            byte[] key = gen.bytes(40);
            byte[] encoded = RecordCodec.encode(key, record(gen));
            int bit = gen.between(0, encoded.length * 8 - 1);
            encoded[bit / 8] ^= (byte) (1 << (bit % 8));
            assertThatThrownBy(() -> RecordCodec.decode(key, encoded)).as("bit %d", bit).isInstanceOf(CorruptRecordException.class);
        });
    }

    @Test
    void anyTruncationIsCorrupt() {
        Trials.run(1236, 500, 100, gen -> {
            byte[] key = gen.bytes(40);
            byte[] encoded = RecordCodec.encode(key, record(gen));
            byte[] truncated = Arrays.copyOf(encoded, gen.between(0, encoded.length - 1));
            assertThatThrownBy(() -> RecordCodec.decode(key, truncated)).isInstanceOf(CorruptRecordException.class);
        });
    }

    @Test
    void anotherKeyIsCorrupt() {
        Trials.run(1237, 500, 100, gen -> {
            byte[] key = gen.bytes(40);
            byte[] other = gen.chance(0.5) ? gen.bytes(40) : mutateOneByte(gen, key);
            if (Arrays.equals(key, other)) {
                return;
            }
            byte[] encoded = RecordCodec.encode(key, record(gen));
            assertThatThrownBy(() -> RecordCodec.decode(other, encoded)).isInstanceOf(CorruptRecordException.class);
        });
    }

    @Test
    void bodiesWithAValidChecksumDecodeOrFailOnlyAsCorrupt() {
        // A writer bug rather than bit rot: the checksum is right but the content is anything.
        // Decode must report it as corrupt, never throw anything else or return a broken record.
        Trials.run(1238, 2000, 48, gen -> {
            byte[] key = gen.bytes(16);
            byte[] body = gen.bytes(gen.size());
            if (gen.chance(0.7) && body.length >= 2) {
                body[0] = RecordCodec.FORMAT;
                body[1] &= 7;
            }
            CRC32C crc = new CRC32C();
            crc.update(key);
            crc.update(body);
            byte[] bytes = ByteBuffer.allocate(body.length + 4).put(body).putInt((int) crc.getValue()).array();
            Record decoded;
            try {
                decoded = RecordCodec.decode(key, bytes);
            } catch (CorruptRecordException expected) {
                return;
            }
            assertThat(RecordCodec.decode(key, RecordCodec.encode(key, decoded))).isEqualTo(decoded);
        });
    }

    private static byte[] mutateOneByte(Gen gen, byte[] key) {
        if (key.length == 0) {
            return new byte[] {0};
        }
        byte[] copy = key.clone();
        copy[gen.between(0, copy.length - 1)] += (byte) gen.between(1, 255);
        return copy;
    }

    static Record record(Gen gen) {
        Version version = new Version(gen.between(0L, Long.MAX_VALUE), gen.between(0, Integer.MAX_VALUE));
        if (gen.chance(0.2)) {
            return Record.tombstone(version);
        }
        long expiry = switch (gen.between(0, 2)) {
            case 0 -> Record.NO_EXPIRY;
            case 1 -> gen.between(1L, Long.MAX_VALUE);
            default -> gen.between(1_600_000_000_000L, 1_900_000_000_000L);
        };
        String contentType = switch (gen.between(0, 2)) {
            case 0 -> null;
            case 1 -> gen.pick(CONTENT_TYPES);
            default -> randomText(gen, 80);
        };
        byte[] value = gen.chance(0.9) ? gen.bytes(64) : gen.bytes(1_000, 20_000);
        return Record.value(version, expiry, contentType, value);
    }

    private static String randomText(Gen gen, int maxLength) {
        StringBuilder s = new StringBuilder();
        int n = gen.between(0, maxLength);
        for (int i = 0; i < n; i++) {
            // Any BMP character outside the surrogate range: a content type is valid Unicode text.
            s.append((char) gen.between(0x20, 0xD7FF));
        }
        return s.toString();
    }
}
