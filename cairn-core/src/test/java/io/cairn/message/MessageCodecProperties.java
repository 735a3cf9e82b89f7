package io.cairn.message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.property.Gen;
import io.cairn.property.Trials;
import io.cairn.record.CorruptRecordException;
import io.cairn.record.Record;
import io.cairn.record.RecordCodec;
import io.cairn.version.Version;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Properties of the internode message encoding over arbitrary messages of every type. */
class MessageCodecProperties {
    @Test
    void decodeInvertsEncodeForEveryMessageType() {
        Trials.run(4321, 500, 100, gen -> {
            Message m = message(gen);
            assertThat(MessageCodec.decode(MessageCodec.encode(m))).usingRecursiveComparison().isEqualTo(m);
        });
    }

    @Test
    void anyTruncationIsCorrupt() {
        Trials.run(4322, 500, 100, gen -> {
            byte[] encoded = MessageCodec.encode(message(gen));
            byte[] truncated = Arrays.copyOf(encoded, gen.between(0, encoded.length - 1));
            assertThatThrownBy(() -> MessageCodec.decode(truncated)).isInstanceOf(CorruptRecordException.class);
        });
    }

    @Test
    void trailingBytesAreCorrupt() {
        Trials.run(4323, 200, 50, gen -> {
            byte[] encoded = MessageCodec.encode(message(gen));
            byte[] longer = Arrays.copyOf(encoded, encoded.length + gen.between(1, 8));
            assertThatThrownBy(() -> MessageCodec.decode(longer)).isInstanceOf(CorruptRecordException.class);
        });
    }

    @Test
    void aHintedWriteIsItsFieldsBackToBackWithATwoByteTarget() {
        byte[] key = {'k', '1'};
        Record record = Record.value(new Version(1_700_000_000_000L << 16, 3), Record.NO_EXPIRY, "text/plain", new byte[] {1, 2, 3});
        byte[] encoded = MessageCodec.encode(new Message.HintedWrite(0x0102030405060708L, 65_535, 9, key, record));
        byte[] recordBytes = RecordCodec.encode(key, record);

        ByteBuffer in = ByteBuffer.wrap(encoded);
        assertThat(encoded).hasSize(1 + 8 + 2 + 4 + 4 + key.length + 4 + recordBytes.length);
        assertThat(in.get()).isEqualTo((byte) 7);
        assertThat(in.getLong()).isEqualTo(0x0102030405060708L);
        assertThat(Short.toUnsignedInt(in.getShort())).isEqualTo(65_535);
        assertThat(in.getInt()).isEqualTo(9);
        assertThat(in.getInt()).isEqualTo(key.length);
    }

    @Test
    void aHintedWriteForNodeZeroIsRefusedBothWays() {
        Record record = Record.tombstone(new Version(1L << 16, 1));
        assertThatThrownBy(() -> MessageCodec.encode(new Message.HintedWrite(1, 0, 1, new byte[] {1}, record)))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> MessageCodec.encode(new Message.HintedWrite(1, 65_536, 1, new byte[] {1}, record)))
                .isInstanceOf(IllegalStateException.class);

        byte[] encoded = MessageCodec.encode(new Message.HintedWrite(1, 5, 1, new byte[] {1}, record));
        encoded[1 + 8] = 0;
        encoded[1 + 8 + 1] = 0;
        assertThatThrownBy(() -> MessageCodec.decode(encoded)).isInstanceOf(CorruptRecordException.class);
    }

    @Test
    void aHintedWritesRecordIsCheckedAgainstItsKey() {
        Record record = Record.value(new Version(1L << 16, 1), Record.NO_EXPIRY, null, new byte[] {42});
        byte[] encoded = MessageCodec.encode(new Message.HintedWrite(1, 2, 1, new byte[] {'a'}, record));
        encoded[1 + 8 + 2 + 4 + 4] = 'b';
        assertThatThrownBy(() -> MessageCodec.decode(encoded)).isInstanceOf(CorruptRecordException.class);
    }

    @Test
    void anUnknownTypeIsCorrupt() {
        assertThatThrownBy(() -> MessageCodec.decode(new byte[] {99, 0, 0, 0, 0, 0, 0, 0, 1}))
                .isInstanceOf(CorruptRecordException.class).hasMessageContaining("unknown message type 99");
    }

    private static Message message(Gen gen) {
        long id = gen.anyLong();
        byte[] key = gen.bytes(1, 40);
        return switch (gen.between(0, 6)) {
            case 0 -> new Message.WriteRequest(id, gen.between(1, Integer.MAX_VALUE), key, record(gen));
            case 1 -> new Message.HintedWrite(id, gen.between(1, 65_535), gen.between(1, Integer.MAX_VALUE), key, record(gen));
            case 2 -> new Message.WriteResponse(id, gen.chance(0.5), gen.chance(0.5) ? null : text(gen));
            case 3 -> new Message.ReadRequest(id, gen.between(1, Integer.MAX_VALUE), key);
            case 4 -> new Message.ReadResponse(id, gen.chance(0.3) ? null : record(gen), gen.chance(0.8) ? null : text(gen));
            case 5 -> new Message.Ping(id);
            default -> new Message.Pong(id);
        };
    }

    private static Record record(Gen gen) {
        Version version = new Version(gen.between(0L, Long.MAX_VALUE), gen.between(1, 65_535));
        if (gen.chance(0.2)) {
            return Record.tombstone(version);
        }
        long expiry = gen.chance(0.5) ? Record.NO_EXPIRY : gen.between(1_600_000_000_000L, 1_900_000_000_000L);
        return Record.value(version, expiry, gen.chance(0.5) ? null : "text/plain", gen.bytes(200));
    }

    private static String text(Gen gen) {
        StringBuilder s = new StringBuilder();
        int n = gen.between(0, 40);
        for (int i = 0; i < n; i++) {
            s.append((char) gen.between(0x20, 0xD7FF));
        }
        return s.toString();
    }
}
