package io.cairn.server.internode;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.cairn.antientropy.KeyVersion;
import io.cairn.antientropy.SegmentTree;
import io.cairn.message.Message;
import io.cairn.message.MessageCodec;
import io.cairn.record.CorruptRecordException;
import io.cairn.record.Record;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.slf4j.LoggerFactory;

/**
 * Fuzzes the internode receive path with what a hostile or broken peer can send after a valid
 * handshake. Two targets:
 *
 * <ul>
 *   <li>{@link #inboundFrames}: bytes fed, in fuzzed chunks, to an {@link InboundConnection} in an
 *       {@link EmbeddedChannel}, checked against a reference reading of the frame format written
 *       out here: every frame up to the first bad one is delivered (or dropped as expired, by its
 *       budget) in order, with its sender's clock, exactly as {@link MessageCodec#decodeClocked}
 *       decodes it; a bad frame (length outside 1..max, checksum mismatch, payload that does not
 *       decode, a negative sender clock among them) closes the connection and is
 *       counted once; an incomplete frame waits. Nothing else may happen: an exception that
 *       escaped decoding would close the connection without being counted, and fail here.
 *   <li>{@link #decodePayload}: arbitrary bytes to {@link MessageCodec#decodeClocked}: a sender
 *       clock of at least 0 and a valid message within the documented bounds, or
 *       {@link CorruptRecordException}; nothing else escapes.
 * </ul>
 *
 * <p>The input of {@link #inboundFrames} is a small script, so that the fuzzer reaches the
 * decoder behind the checksum: byte 0 picks raw mode (bit 0: the rest is the stream itself) and
 * the write chunk size (bits 1-4: 2^n bytes, 0 = all at once); otherwise the rest is a list of
 * {@code u8 kind | u16 length | bytes}, where kind 0 frames the bytes with a valid checksum and a
 * minute's budget, 1 with a wrong checksum, 2 with a budget of 0, and 3 appends them verbatim.
 * Seeds live in {@code InternodeFrameFuzzTestInputs/<method>/}; the default build replays them,
 * {@code JAZZER_FUZZ=1 ./mvnw -Pfuzz ...} fuzzes (see docs/testing.md).
 */
class InternodeFrameFuzzTest {
    private static final int SELF = 2;
    private static final int PEER = 1;
    private static final int MAX_FRAME_BYTES = 64 << 10;
    private static final int BUDGET_MILLIS = 60_000;
    private static final List<MessageCodec.Clocked> delivered = new ArrayList<>();
    private static InternodeTransport transport;
    private static Level internodeLogLevel;

    @BeforeAll
    static void startTransport() {
        // Every refused frame logs a warning; millions of them would only slow the fuzzer down.
        ch.qos.logback.classic.Logger internode = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("io.cairn.server.internode");
        internodeLogLevel = internode.getLevel();
        internode.setLevel(Level.ERROR);
        // Listens on a free loopback port that nothing dials; deliveries run on the caller's thread.
        transport = new InternodeTransport(SELF, "127.0.0.1", 0, Map.of(PEER, InetSocketAddress.createUnresolved("127.0.0.1", 9)),
                () -> 0, (from, senderClock, m) -> delivered.add(new MessageCodec.Clocked(senderClock, m)), Runnable::run,
                InternodeSettings.defaults().withMaxFrameBytes(MAX_FRAME_BYTES).withIoThreads(1).withConnectTimeout(Duration.ofSeconds(30)));
    }

    @AfterAll
    static void stopTransport() {
        transport.close();
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger("io.cairn.server.internode")).setLevel(internodeLogLevel);
    }

    @FuzzTest(maxDuration = "10s")
    void inboundFrames(byte[] input) {
        byte[] stream = stream(input);
        int sizeClass = input.length == 0 ? 0 : (input[0] >> 1) & 0xF;
        int chunk = sizeClass == 0 ? Math.max(1, stream.length) : 1 << (sizeClass - 1);
        Expected expected = reference(stream);

        delivered.clear();
        long badBefore = transport.badFrames();
        long expiredBefore = transport.expiredDrops();
        InboundConnection frames = new InboundConnection(transport, MAX_FRAME_BYTES);
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.pipeline().addLast(frames).addLast(frames.batcher());
        channel.writeInbound(Unpooled.wrappedBuffer(ByteBuffer.allocate(Wire.HANDSHAKE_BYTES).put(Wire.MAGIC).put((byte) Wire.VERSION)
                .putInt(PEER).putInt(SELF).array()));
        for (int at = 0; at < stream.length && channel.isOpen(); at += chunk) {
            channel.writeInbound(Unpooled.wrappedBuffer(stream, at, Math.min(chunk, stream.length - at)));
        }
        channel.checkException();

        assertThat(channel.isOpen()).as("open after %s", expected).isEqualTo(!expected.bad);
        assertThat(transport.badFrames() - badBefore).as("bad frames counted for %s", expected).isEqualTo(expected.bad ? 1 : 0);
        long expired = transport.expiredDrops() - expiredBefore;
        assertThat(delivered.size() + expired).as("delivered or expired, of %s", expected).isEqualTo(expected.messages.size());
        assertThat(isSubsequence(delivered, expected.messages)).as("delivered %s, expected %s", delivered, expected.messages).isTrue();
        for (MessageCodec.Clocked m : delivered) {
            assertThat(m.senderClock()).isNotNegative();
            checkBounds(m.message());
        }
        channel.finishAndReleaseAll();
    }

    @FuzzTest(maxDuration = "10s")
    void decodePayload(byte[] input) {
        MessageCodec.Clocked m;
        try {
            m = MessageCodec.decodeClocked(input);
        } catch (CorruptRecordException e) {
            return;
        }
        assertThat(m.senderClock()).isNotNegative();
        checkBounds(m.message());
        assertThat(MessageCodec.decodeClocked(MessageCodec.encode(m.senderClock(), m.message()))).usingRecursiveComparison().isEqualTo(m);
    }

    /** The bounds {@link MessageCodec} documents for everything it lets through. */
    private static void checkBounds(Message m) {
        switch (m) {
            case Message.WriteRequest w -> {
                checkKey(w.key());
                checkRecord(w.record());
            }
            case Message.HintedWrite h -> {
                checkKey(h.key());
                checkRecord(h.record());
                assertThat(h.target()).isBetween(1, MessageCodec.MAX_NODE_ID);
            }
            case Message.ReadRequest r -> checkKey(r.key());
            case Message.ReadResponse r -> {
                if (r.record() != null) {
                    checkRecord(r.record());
                }
            }
            case Message.WriteResponse w -> { }
            case Message.PaxosRequest r -> {
                checkKey(r.key());
                assertThat(r.ballot().nodeId()).isBetween(1, MessageCodec.MAX_NODE_ID);
                if (r.record() != null) {
                    checkRecord(r.record());
                }
            }
            case Message.PaxosResponse r -> {
                for (io.cairn.record.Record rec : new io.cairn.record.Record[] {r.accepted(), r.current()}) {
                    if (rec != null) {
                        checkRecord(rec);
                    }
                }
            }
            case Message.StreamRequest r -> {
                assertThat(r.partition()).isBetween(0, 0xFFFF);
                assertThat(r.maxBytes()).isPositive();
                if (r.after() != null) {
                    checkKey(r.after());
                }
            }
            case Message.StreamResponse r -> {
                if (r.entries() != null) {
                    for (Message.StreamEntry e : r.entries()) {
                        checkKey(e.key());
                        checkRecord(e.record());
                    }
                }
            }
            case Message.StateStreamResponse r -> {
                if (r.entries() != null) {
                    for (Message.StateEntry e : r.entries()) {
                        checkKey(e.key());
                        if (e.state().accepted() != null) {
                            checkRecord(e.state().accepted());
                        }
                    }
                }
            }
            case Message.TreeRequest t -> {
                assertThat(t.partition()).isBetween(0, 0xFFFF);
                assertThat(t.branches()).hasSizeLessThanOrEqualTo(SegmentTree.BRANCHES).doesNotHaveDuplicates();
                for (int b : t.branches()) {
                    assertThat(b).isBetween(0, SegmentTree.BRANCHES - 1);
                }
            }
            case Message.TreeResponse t -> {
                if (t.hashes() != null) {
                    assertThat(t.hashes().length == 1 || t.hashes().length == 1 + SegmentTree.BRANCHES
                            || t.hashes().length % SegmentTree.LEAVES_PER_BRANCH == 0).isTrue();
                }
            }
            case Message.KeysRequest k -> {
                assertThat(k.segments()).isNotEmpty().doesNotHaveDuplicates();
                for (int seg : k.segments()) {
                    assertThat(seg).isBetween(0, SegmentTree.SEGMENTS - 1);
                }
            }
            case Message.KeysResponse k -> {
                if (k.keys() != null) {
                    for (KeyVersion e : k.keys().keys()) {
                        checkKey(e.key());
                        assertThat(e.valueBytes()).isNotNegative();
                        if (!e.corrupt()) {
                            assertThat(e.version().nodeId()).isBetween(1, MessageCodec.MAX_NODE_ID);
                        }
                    }
                }
            }
            case Message.Ping p -> assertThat(p.sentAtMillis()).isNotNegative();
            case Message.Pong p -> {
                assertThat(p.pingSentAtMillis()).isNotNegative();
                assertThat(p.sentAtMillis()).isNotNegative();
            }
        }
    }

    private static void checkKey(byte[] key) {
        assertThat(key.length).isBetween(1, MessageCodec.MAX_KEY_BYTES);
    }

    private static void checkRecord(Record r) {
        assertThat(r.version().timestamp()).isNotNegative();
        assertThat(r.version().nodeId()).isBetween(1, MessageCodec.MAX_NODE_ID);
        assertThat(r.expiresAtMillis()).isNotNegative();
        if (r.tombstone()) {
            assertThat(r.value()).isEmpty();
            assertThat(r.contentType()).isNull();
        }
    }

    // ---------------------------------------------------------------- the script and the reference

    /** The bytes after the handshake that {@code input} describes (see the class comment). */
    static byte[] stream(byte[] input) {
        if (input.length == 0) {
            return input;
        }
        if ((input[0] & 1) != 0) {
            return java.util.Arrays.copyOfRange(input, 1, input.length);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer in = ByteBuffer.wrap(input, 1, input.length - 1);
        while (in.remaining() >= 3) {
            int kind = in.get() & 3;
            int length = Math.min(Short.toUnsignedInt(in.getShort()), in.remaining());
            byte[] bytes = new byte[length];
            in.get(bytes);
            switch (kind) {
                case 0 -> out.writeBytes(frame(bytes, BUDGET_MILLIS, false));
                case 1 -> out.writeBytes(frame(bytes, BUDGET_MILLIS, true));
                case 2 -> out.writeBytes(frame(bytes, 0, false));
                default -> out.writeBytes(bytes);
            }
        }
        return out.toByteArray();
    }

    static byte[] frame(byte[] payload, int budgetMillis, boolean wrongChecksum) {
        return ByteBuffer.allocate(12 + payload.length).putInt(payload.length).putInt(checksum(budgetMillis, payload) ^ (wrongChecksum ? 1 : 0))
                .putInt(budgetMillis).put(payload).array();
    }

    /** CRC32C over the budget's four big-endian bytes, then the payload. */
    private static int checksum(int budgetMillis, byte[] payload) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(ByteBuffer.allocate(4).putInt(budgetMillis).array());
        crc.update(payload);
        return (int) crc.getValue();
    }

    /** What a correct receiver does with {@code stream}: the messages it passes on, and whether it must refuse the connection. */
    record Expected(List<MessageCodec.Clocked> messages, boolean bad) {}

    /** The frame format read independently of {@link InboundConnection}: {@code u32 length | u32 crc | u32 budget | payload}. */
    private static Expected reference(byte[] stream) {
        List<MessageCodec.Clocked> messages = new ArrayList<>();
        ByteBuffer in = ByteBuffer.wrap(stream);
        while (in.remaining() >= 12) {
            long length = Integer.toUnsignedLong(in.getInt(in.position()));
            if (length < 1 || length > MAX_FRAME_BYTES) {
                return new Expected(messages, true);
            }
            if (in.remaining() < 12 + length) {
                break;
            }
            in.getInt();
            int crc = in.getInt();
            int budget = in.getInt();
            byte[] payload = new byte[(int) length];
            in.get(payload);
            if (crc != checksum(budget, payload)) {
                return new Expected(messages, true);
            }
            try {
                messages.add(MessageCodec.decodeClocked(payload));
            } catch (CorruptRecordException e) {
                return new Expected(messages, true);
            }
        }
        return new Expected(messages, false);
    }

    /** Whether {@code part} appears in {@code whole} in order (expired messages are left out). */
    private static boolean isSubsequence(List<MessageCodec.Clocked> part, List<MessageCodec.Clocked> whole) {
        int i = 0;
        for (MessageCodec.Clocked m : whole) {
            if (i < part.size() && same(part.get(i), m)) {
                i++;
            }
        }
        return i == part.size();
    }

    private static boolean same(MessageCodec.Clocked a, MessageCodec.Clocked b) {
        return java.util.Arrays.equals(MessageCodec.encode(a.senderClock(), a.message()), MessageCodec.encode(b.senderClock(), b.message()));
    }
}
