package io.cairn.request;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.error.ErrorCode;
import io.cairn.record.CorruptRecordException;
import io.cairn.record.Record;
import io.cairn.clock.Version;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/**
 * Stored outcomes round-trip, and every malformed one — even under a valid checksum, as a bug in
 * an older writer would leave it — decodes to {@link CorruptRecordException} and nothing else.
 */
class StoredOutcomeTest {
    private static final byte[] KEY = "i-key".getBytes(StandardCharsets.UTF_8);
    private static final Version V = new Version(Version.pack(1_700_000_000_000L, 3), 2);

    @Test
    void everyKindOfResultRoundTrips() {
        StoredOutcome outcome = new StoredOutcome(new byte[] {1, 2, 3}, 1_700_000_060_000L, List.of(
                new OpResult.Written(V, 0), new OpResult.Deleted(V), new OpResult.PreconditionFailed(null),
                new OpResult.PreconditionFailed(V), new OpResult.Found(Record.value(V, 0, "text/plain", new byte[] {9})),
                new OpResult.NotFound(), new OpResult.Superseded(V), new OpResult.Failed(ErrorCode.OVERLOADED, "busy")));

        StoredOutcome decoded = StoredOutcome.decode(KEY, outcome.encode(KEY));

        assertThat(decoded.fingerprint()).containsExactly(1, 2, 3);
        assertThat(decoded.expiresAtMillis()).isEqualTo(outcome.expiresAtMillis());
        assertThat(decoded.results()).isEqualTo(outcome.results());
    }

    @Test
    void aClaimKeepsTheVersionsItsWritesWereStampedWith() {
        Version w = new Version(Version.pack(1_700_000_000_000L, 4), 2);
        StoredOutcome claim = StoredOutcome.claim(new byte[] {7}, 1_700_000_001_000L, List.of(V, w));
        StoredOutcome decoded = StoredOutcome.decode(KEY, claim.encode(KEY));
        assertThat(decoded.isClaim()).isTrue();
        assertThat(decoded.versions()).containsExactly(V, w);
        assertThat(decoded.expiresAtMillis()).isEqualTo(1_700_000_001_000L);
        // Without versions the record keeps the first format, which older nodes read.
        assertThat(StoredOutcome.claim(new byte[] {7}, 5).encode(KEY)[0]).isEqualTo((byte) 1);
        ByteBuffer noVersions = ByteBuffer.allocate(64).put((byte) 2).put((byte) 0).putLong(5).putShort((short) 0).putShort((short) 0);
        byte[] bytes = withChecksum(noVersions);
        assertThatThrownBy(() -> StoredOutcome.decode(KEY, bytes)).isInstanceOf(CorruptRecordException.class);
    }

    @Test
    void aBadChecksumIsCorrupt() {
        byte[] bytes = new StoredOutcome(new byte[] {1}, 5, List.of(new OpResult.NotFound())).encode(KEY);
        bytes[2] ^= 1;
        assertThatThrownBy(() -> StoredOutcome.decode(KEY, bytes)).isInstanceOf(CorruptRecordException.class);
    }

    @Test
    void malformedBodiesUnderAValidChecksumAreCorruptAndNothingElse() {
        List<Consumer<ByteBuffer>> results = List.of(
                b -> b.put((byte) 4).putInt(-1),                                     // a found record of negative length
                b -> b.put((byte) 4).putInt(1 << 30),                                // ... longer than what remains
                b -> b.put((byte) 4).putInt(3).put(new byte[] {1, 2, 3}),            // ... that is not a record
                b -> b.put((byte) 6).putShort((short) 7).put(ascii("NO_SUCH")).putShort((short) 0), // an unknown error code
                b -> b.put((byte) 1).putLong(-5).putInt(1).putLong(0),               // a negative version timestamp
                b -> b.put((byte) 2).putLong(5),                                      // truncated inside a version
                b -> b.put((byte) 99));                                               // an unknown kind
        for (Consumer<ByteBuffer> result : results) {
            ByteBuffer body = ByteBuffer.allocate(256).put((byte) 1).put((byte) 0).putLong(5).putShort((short) 1);
            result.accept(body);
            byte[] bytes = withChecksum(body);
            assertThatThrownBy(() -> StoredOutcome.decode(KEY, bytes)).isInstanceOf(CorruptRecordException.class);
        }
    }

    private static byte[] withChecksum(ByteBuffer body) {
        byte[] b = new byte[body.position()];
        body.flip().get(b);
        CRC32C crc = new CRC32C();
        crc.update(KEY);
        crc.update(b);
        return ByteBuffer.allocate(b.length + 4).put(b).putInt((int) crc.getValue()).array();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
