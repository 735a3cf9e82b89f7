package io.cairn.message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.antientropy.KeyVersion;
import io.cairn.antientropy.SegmentKeys;
import io.cairn.property.Gen;
import io.cairn.property.Trials;
import io.cairn.record.CorruptRecordException;
import io.cairn.record.Record;
import io.cairn.record.RecordCodec;
import io.cairn.clock.Version;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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

    // ---------------------------------------------------------------- the sender's clock

    @Test
    void aPayloadIsTheSendersClockThenTheMessageAndBothRoundTrip() {
        Trials.run(4330, 500, 100, gen -> {
            Message m = message(gen);
            long clock = gen.pick(0L, Long.MAX_VALUE, gen.between(0L, Long.MAX_VALUE), Version.pack(gen.between(0L, Version.MAX_PHYSICAL_MILLIS), 7));
            byte[] payload = MessageCodec.encode(clock, m);

            assertThat(ByteBuffer.wrap(payload).getLong()).isEqualTo(clock);
            assertThat(Arrays.copyOfRange(payload, 8, payload.length)).as("the message's own layout, unchanged").isEqualTo(MessageCodec.encode(m));
            MessageCodec.Clocked decoded = MessageCodec.decodeClocked(payload);
            assertThat(decoded.senderClock()).isEqualTo(clock);
            assertThat(decoded.message()).usingRecursiveComparison().isEqualTo(m);
        });
    }

    @Test
    void aNegativeSenderClockIsNeitherSentNorAccepted() {
        Message ping = new Message.Ping(Message.FIRST_EPOCH, 1, 1);
        assertThatThrownBy(() -> MessageCodec.encode(-1, ping)).isInstanceOf(IllegalStateException.class);

        for (long negative : new long[] {-1, Long.MIN_VALUE}) {
            byte[] payload = MessageCodec.encode(5, ping);
            ByteBuffer.wrap(payload).putLong(0, negative);
            assertThatThrownBy(() -> MessageCodec.decodeClocked(payload)).isInstanceOf(CorruptRecordException.class)
                    .hasMessageContaining("sender clock " + negative + " is negative");
        }
    }

    @Test
    void anyTruncationOfAPayloadIsCorruptAndSoAreTrailingBytes() {
        Trials.run(4331, 500, 100, gen -> {
            byte[] payload = MessageCodec.encode(gen.between(0L, Long.MAX_VALUE), message(gen));
            // Within the clock as often as within the message.
            int cut = gen.chance(0.5) ? gen.between(0, 7) : gen.between(8, payload.length - 1);
            byte[] truncated = Arrays.copyOf(payload, cut);
            assertThatThrownBy(() -> MessageCodec.decodeClocked(truncated)).as("cut at %d", cut).isInstanceOf(CorruptRecordException.class);
            byte[] longer = Arrays.copyOf(payload, payload.length + gen.between(1, 8));
            assertThatThrownBy(() -> MessageCodec.decodeClocked(longer)).isInstanceOf(CorruptRecordException.class);
        });
    }

    @Test
    void anyMutationOfAPayloadDecodesToAClockOfAtLeastZeroAndAValidMessageOrIsCorrupt() {
        Trials.run(4332, 2_000, 100, gen -> {
            byte[] bytes = MessageCodec.encode(gen.between(0L, Long.MAX_VALUE), message(gen));
            int flips = gen.between(1, 4);
            for (int i = 0; i < flips; i++) {
                // The clock is 8 of the bytes: aim there often enough to reach its sign bit.
                bytes[gen.chance(0.3) ? gen.between(0, 7) : gen.between(0, bytes.length - 1)] = (byte) gen.between(0, 255);
            }
            MessageCodec.Clocked m;
            try {
                m = MessageCodec.decodeClocked(bytes);
            } catch (CorruptRecordException e) {
                return;
            }
            assertThat(m.senderClock()).isNotNegative();
            assertThat(MessageCodec.decodeClocked(MessageCodec.encode(m.senderClock(), m.message()))).usingRecursiveComparison().isEqualTo(m);
        });
    }

    // ---------------------------------------------------------------- message layouts

    @Test
    void aHintedWriteIsItsFieldsBackToBackWithATwoByteTarget() {
        byte[] key = {'k', '1'};
        Record record = Record.value(new Version(1_700_000_000_000L << 16, 3), Record.NO_EXPIRY, "text/plain", new byte[] {1, 2, 3});
        byte[] encoded = MessageCodec.encode(new Message.HintedWrite(7, 0x0102030405060708L, 65_535, 9, key, record));
        byte[] recordBytes = RecordCodec.encode(key, record);

        ByteBuffer in = ByteBuffer.wrap(encoded);
        assertThat(encoded).hasSize(1 + 8 + 8 + 2 + 4 + 4 + key.length + 4 + recordBytes.length);
        assertThat(in.get()).isEqualTo((byte) 7);
        assertThat(in.getLong()).as("epoch").isEqualTo(7);
        assertThat(in.getLong()).isEqualTo(0x0102030405060708L);
        assertThat(Short.toUnsignedInt(in.getShort())).isEqualTo(65_535);
        assertThat(in.getInt()).isEqualTo(9);
        assertThat(in.getInt()).isEqualTo(key.length);
    }

    @Test
    void aHintedWriteForNodeZeroIsRefusedBothWays() {
        Record record = Record.tombstone(new Version(1L << 16, 1));
        assertThatThrownBy(() -> MessageCodec.encode(new Message.HintedWrite(Message.FIRST_EPOCH, 1, 0, 1, new byte[] {1}, record)))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> MessageCodec.encode(new Message.HintedWrite(Message.FIRST_EPOCH, 1, 65_536, 1, new byte[] {1}, record)))
                .isInstanceOf(IllegalStateException.class);

        byte[] encoded = MessageCodec.encode(new Message.HintedWrite(Message.FIRST_EPOCH, 1, 5, 1, new byte[] {1}, record));
        encoded[1 + 8 + 8] = 0;
        encoded[1 + 8 + 8 + 1] = 0;
        assertThatThrownBy(() -> MessageCodec.decode(encoded)).isInstanceOf(CorruptRecordException.class);
    }

    @Test
    void aHintedWritesRecordIsCheckedAgainstItsKey() {
        Record record = Record.value(new Version(1L << 16, 1), Record.NO_EXPIRY, null, new byte[] {42});
        byte[] encoded = MessageCodec.encode(new Message.HintedWrite(Message.FIRST_EPOCH, 1, 2, 1, new byte[] {'a'}, record));
        encoded[1 + 8 + 8 + 2 + 4 + 4] = 'b';
        assertThatThrownBy(() -> MessageCodec.decode(encoded)).isInstanceOf(CorruptRecordException.class);
    }

    @Test
    void anUnknownTypeIsCorrupt() {
        assertThatThrownBy(() -> MessageCodec.decode(new byte[] {99, 0, 0, 0, 0, 0, 0, 0, 1}))
                .isInstanceOf(CorruptRecordException.class).hasMessageContaining("unknown message type 99");
    }

    @Test
    void anyMutationOfAValidMessageDecodesToAValidMessageOrIsCorruptAndNothingElse() {
        Trials.run(4324, 2_000, 100, gen -> {
            byte[] bytes = MessageCodec.encode(message(gen));
            int flips = gen.between(1, 4);
            for (int i = 0; i < flips; i++) {
                bytes[gen.between(0, bytes.length - 1)] = (byte) gen.between(0, 255);
            }
            Message m;
            try {
                m = MessageCodec.decode(bytes);
            } catch (CorruptRecordException e) {
                return;
            }
            // Whatever got through is within the bounds the codec promises, and encodes back.
            assertThat(MessageCodec.decode(MessageCodec.encode(m))).usingRecursiveComparison().isEqualTo(m);
        });
    }

    @Test
    void keysMustBeOneTo65535Bytes() {
        Record record = Record.tombstone(new Version(1L << 16, 1));
        for (Message m : new Message[] {new Message.WriteRequest(Protocol.REPLICATION, Message.FIRST_EPOCH, 1, 1, new byte[0], record), new Message.ReadRequest(Protocol.READ, Message.FIRST_EPOCH, 1, 1, new byte[0]),
                new Message.HintedWrite(Message.FIRST_EPOCH, 1, 2, 1, new byte[65_536], record)}) {
            assertThatThrownBy(() -> MessageCodec.encode(m)).as("%s", m).isInstanceOf(IllegalStateException.class);
        }
        assertThat(MessageCodec.decode(MessageCodec.encode(new Message.ReadRequest(Protocol.READ, Message.FIRST_EPOCH, 1, 1, new byte[65_535]))))
                .isInstanceOf(Message.ReadRequest.class);

        byte[] empty = ByteBuffer.allocate(1 + 1 + 8 + 8 + 4 + 4).put((byte) 3).put((byte) Protocol.READ.wire()).putLong(1).putLong(1).putInt(1).putInt(0).array();
        assertThatThrownBy(() -> MessageCodec.decode(empty)).isInstanceOf(CorruptRecordException.class).hasMessageContaining("key of 0 bytes");
        byte[] overlong = ByteBuffer.allocate(1 + 1 + 8 + 8 + 4 + 4 + 65_536).put((byte) 3).put((byte) Protocol.READ.wire()).putLong(1).putLong(1)
                .putInt(1).putInt(65_536).array();
        assertThatThrownBy(() -> MessageCodec.decode(overlong)).isInstanceOf(CorruptRecordException.class);
    }

    @Test
    void aRecordMustNameANodeIdOfOneTo65535() {
        for (int node : new int[] {0, 65_536, Integer.MAX_VALUE}) {
            Record record = Record.value(new Version(1L << 16, node), Record.NO_EXPIRY, null, new byte[] {1});
            byte[] encoded = MessageCodec.encode(new Message.WriteRequest(Protocol.REPLICATION, Message.FIRST_EPOCH, 1, 1, new byte[] {'k'}, record));
            assertThatThrownBy(() -> MessageCodec.decode(encoded)).as("node %d", node).isInstanceOf(CorruptRecordException.class)
                    .hasMessageContaining("not a node id");
            byte[] reply = MessageCodec.encode(new Message.ReadResponse(Protocol.READ, 1, record, null));
            assertThatThrownBy(() -> MessageCodec.decode(reply)).isInstanceOf(CorruptRecordException.class);
        }
    }

    @Test
    void heartbeatsCarryNonNegativeClockReadingsAndTheClocklessOnesAreRetired() {
        assertThat(MessageCodec.decode(MessageCodec.encode(new Message.Pong(3, 10, 20)))).isEqualTo(new Message.Pong(3, 10, 20));
        assertThatThrownBy(() -> MessageCodec.encode(new Message.Ping(Message.FIRST_EPOCH, 1, -1))).isInstanceOf(IllegalStateException.class);
        byte[] negative = ByteBuffer.allocate(25).put((byte) 8).putLong(1).putLong(1).putLong(-5).array();
        assertThatThrownBy(() -> MessageCodec.decode(negative)).isInstanceOf(CorruptRecordException.class).hasMessageContaining("negative");
        for (byte retired : new byte[] {5, 6}) {
            byte[] old = ByteBuffer.allocate(9).put(retired).putLong(1).array();
            assertThatThrownBy(() -> MessageCodec.decode(old)).isInstanceOf(CorruptRecordException.class).hasMessageContaining("unknown message type");
        }
    }

    @Test
    void theStoredFlagIsZeroOrOne() {
        byte[] encoded = MessageCodec.encode(new Message.WriteResponse(Protocol.REPLICATION, 1, true, null));
        encoded[1 + 1 + 8] = 2;
        assertThatThrownBy(() -> MessageCodec.decode(encoded)).isInstanceOf(CorruptRecordException.class);
    }

    @Test
    void aProtocolMustBeKnownAndFitItsMessageAndAnEpochStartsAtOne() {
        Record record = Record.value(new Version(1L << 16, 1), Record.NO_EXPIRY, null, new byte[] {1});
        for (Protocol p : Protocol.values()) {
            if (!p.recordMessages()) {
                byte[] read = MessageCodec.encode(new Message.ReadRequest(Protocol.READ, 3, 1, 1, new byte[] {'k'}));
                read[1] = (byte) p.wire();
                assertThatThrownBy(() -> MessageCodec.decode(read)).as("protocol %s in a read", p).isInstanceOf(CorruptRecordException.class);
                continue;
            }
            Message m = p.writes() ? new Message.WriteRequest(p, 3, 1, 1, new byte[] {'k'}, record) : new Message.ReadRequest(p, 3, 1, 1, new byte[] {'k'});
            assertThat(MessageCodec.decode(MessageCodec.encode(m))).usingRecursiveComparison().isEqualTo(m);
        }
        byte[] write = MessageCodec.encode(new Message.WriteRequest(Protocol.REPAIR, 3, 1, 1, new byte[] {'k'}, record));
        for (int wrong : new int[] {0, Protocol.READ.wire(), Protocol.INSPECTION.wire(), 6, 255}) {
            write[1] = (byte) wrong;
            assertThatThrownBy(() -> MessageCodec.decode(write)).as("protocol %d in a write", wrong).isInstanceOf(CorruptRecordException.class)
                    .hasMessageContaining("protocol");
        }
        byte[] reply = MessageCodec.encode(new Message.ReadResponse(Protocol.INSPECTION, 1, null, null));
        reply[1] = (byte) Protocol.HANDOFF.wire();
        assertThatThrownBy(() -> MessageCodec.decode(reply)).isInstanceOf(CorruptRecordException.class).hasMessageContaining("protocol");
        assertThatThrownBy(() -> new Message.WriteResponse(Protocol.READ, 1, true, null)).isInstanceOf(IllegalArgumentException.class);

        byte[] ping = MessageCodec.encode(new Message.Ping(2, 1, 1));
        for (long epoch : new long[] {0, -1, Long.MIN_VALUE}) {
            ByteBuffer.wrap(ping).putLong(1, epoch);
            assertThatThrownBy(() -> MessageCodec.decode(ping)).as("epoch %d", epoch).isInstanceOf(CorruptRecordException.class).hasMessageContaining("epoch");
        }
        assertThatThrownBy(() -> MessageCodec.encode(new Message.ReadRequest(Protocol.READ, 0, 1, 1, new byte[] {'k'})))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aTimestampAtTheLargestValueStillDecodes() {
        // Far-future versions are well-formed; refusing them is the receiving node's clock rule.
        Record record = Record.value(new Version(Long.MAX_VALUE, 2), Long.MAX_VALUE, null, new byte[] {1});
        Message m = MessageCodec.decode(MessageCodec.encode(new Message.WriteRequest(Protocol.REPLICATION, Message.FIRST_EPOCH, 1, 1, new byte[] {'k'}, record)));
        assertThat(((Message.WriteRequest) m).record()).isEqualTo(record);
    }

    private static Message message(Gen gen) {
        long id = gen.anyLong();
        byte[] key = gen.bytes(1, 40);
        return switch (gen.between(0, 14)) {
            case 13 -> new Message.StreamRequest(gen.between(1L, Long.MAX_VALUE), id, (int) gen.anyLong(), gen.between(0, 0xFFFF),
                    gen.chance(0.5) ? null : key, gen.between(1, Integer.MAX_VALUE), gen.pick(Message.StreamRequest.Part.values()));
            case 14 -> {
                if (gen.chance(0.2)) {
                    yield gen.chance(0.5) ? new Message.StreamResponse(id, null, false, failure(gen)) : new Message.StateStreamResponse(id, null, false, failure(gen));
                }
                java.util.TreeSet<byte[]> keys = new java.util.TreeSet<>(Arrays::compareUnsigned);
                for (int i = gen.between(0, 8); i > 0; i--) {
                    keys.add(gen.bytes(1, 40));
                }
                if (gen.chance(0.5)) {
                    yield new Message.StreamResponse(id, keys.stream().map(k -> new Message.StreamEntry(k, record(gen))).toList(), gen.chance(0.5), null);
                }
                yield new Message.StateStreamResponse(id, keys.stream().map(k -> new Message.StateEntry(k, state(gen), gen.chance(0.5) ? record(gen) : null)).toList(), gen.chance(0.5), null);
            }
            case 11 -> {
                Message.PaxosRequest.Phase phase = gen.pick(Message.PaxosRequest.Phase.values());
                Version ballot = ballot(gen);
                Version next = null;
                Version expected = null;
                if (phase == Message.PaxosRequest.Phase.PROPOSE) {
                    // A lease: a later ballot of the proposer, and the version the lease was taken on.
                    if (gen.chance(0.5) && ballot.timestamp() < Long.MAX_VALUE - 1_000) {
                        next = new Version(ballot.timestamp() + gen.between(1L, 1_000L), ballot.nodeId());
                    }
                    if (gen.chance(0.5)) {
                        expected = new Version(gen.between(0L, ballot.timestamp()), gen.between(0, ballot.nodeId()));
                    }
                }
                yield new Message.PaxosRequest(phase, gen.between(1L, Long.MAX_VALUE), id, (int) gen.anyLong(), key, ballot,
                        phase == Message.PaxosRequest.Phase.PREPARE ? null : record(gen), next, expected);
            }
            case 12 -> {
                Message.PaxosRequest.Phase phase = gen.pick(Message.PaxosRequest.Phase.values());
                if (gen.chance(0.2)) {
                    yield Message.PaxosResponse.failed(phase, id, failure(gen));
                }
                if (gen.chance(0.3)) {
                    yield Message.PaxosResponse.refused(phase, id, ballot(gen));
                }
                if (phase != Message.PaxosRequest.Phase.PREPARE) {
                    yield Message.PaxosResponse.done(phase, id);
                }
                boolean accepted = gen.chance(0.5);
 java.util.List<Version> recent = new ArrayList<>();
                for (int i = gen.between(0, 16); i > 0; i--) {
                    recent.add(ballot(gen));
                }
                yield new Message.PaxosResponse(phase, id, true, ballot(gen), accepted ? ballot(gen) : null, accepted ? record(gen) : null,
                        gen.chance(0.5) ? ballot(gen) : null, recent, gen.chance(0.5) ? ballot(gen) : null, gen.chance(0.5) ? record(gen) : null, null);
            }
            case 7 -> gen.chance(0.5) ? new Message.TreeRequest(gen.between(1L, Long.MAX_VALUE), id, (int) gen.anyLong(), gen.between(0, 0xFFFF),
                    gen.pick(Message.TreeRequest.Level.ROOT, Message.TreeRequest.Level.BRANCHES), new int[0])
                    : new Message.TreeRequest(gen.between(1L, Long.MAX_VALUE), id, (int) gen.anyLong(), gen.between(0, 0xFFFF),
                    Message.TreeRequest.Level.LEAVES, distinct(gen, gen.between(1, 64), 64));
            case 8 -> gen.chance(0.2) ? new Message.TreeResponse(id, null, failure(gen))
                    : new Message.TreeResponse(id, longs(gen, gen.pick(1, 65, 64 * gen.between(1, 64))), null);
            case 9 -> new Message.KeysRequest(gen.between(1L, Long.MAX_VALUE), id, (int) gen.anyLong(), gen.between(0, 0xFFFF),
                    distinct(gen, gen.between(1, 300), 4096));
            case 10 -> {
                if (gen.chance(0.2)) {
                    yield new Message.KeysResponse(id, null, failure(gen));
                }
                List<KeyVersion> keys = new ArrayList<>();
                for (int i = gen.between(0, 20); i > 0; i--) {
                    keys.add(gen.chance(0.1) ? new KeyVersion(gen.bytes(1, 40), null, false, gen.between(0L, Long.MAX_VALUE), gen.anyLong(), gen.between(0, 1 << 20))
                            : KeyVersion.of(gen.bytes(1, 40), record(gen)));
                }
                yield new Message.KeysResponse(id, new SegmentKeys(keys, gen.chance(0.3)), null);
            }
            case 0 -> new Message.WriteRequest(gen.pick(Protocol.REPLICATION, Protocol.REPAIR, Protocol.HANDOFF, Protocol.EXCHANGE_PUSH), gen.between(1L, Long.MAX_VALUE), id,
                    gen.between(1, Integer.MAX_VALUE), key, record(gen));
            case 1 -> new Message.HintedWrite(gen.between(1L, Long.MAX_VALUE), id, gen.between(1, 65_535), gen.between(1, Integer.MAX_VALUE), key, record(gen));
            case 2 -> {
                boolean stored = gen.chance(0.5);
                yield new Message.WriteResponse(Protocol.REPLICATION, id, stored, stored || gen.chance(0.5) ? null : failure(gen));
            }
            case 3 -> new Message.ReadRequest(gen.pick(Protocol.READ, Protocol.INSPECTION, Protocol.EXCHANGE), gen.between(1L, Long.MAX_VALUE), id, gen.between(1, Integer.MAX_VALUE), key);
            case 4 -> gen.chance(0.2) ? new Message.ReadResponse(Protocol.READ, id, null, failure(gen)) : new Message.ReadResponse(Protocol.READ, id, gen.chance(0.3) ? null : record(gen), null);
            case 5 -> new Message.Ping(Message.FIRST_EPOCH, id, gen.between(0L, Long.MAX_VALUE));
            default -> new Message.Pong(id, gen.between(0L, Long.MAX_VALUE), gen.between(0L, Long.MAX_VALUE));
        };
    }

    private static int[] distinct(Gen gen, int n, int bound) {
        java.util.LinkedHashSet<Integer> set = new java.util.LinkedHashSet<>();
        while (set.size() < n) {
            set.add(gen.between(0, bound - 1));
        }
        return set.stream().mapToInt(Integer::intValue).toArray();
    }

    private static long[] longs(Gen gen, int n) {
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = gen.anyLong();
        }
        return out;
    }

    private static io.cairn.paxos.PaxosState state(Gen gen) {
        Version promised = ballot(gen);
        Version accepted = gen.chance(0.5) ? new Version(gen.between(0L, promised.timestamp()), promised.nodeId()) : null;
        List<Version> recent = new ArrayList<>();
        for (int i = gen.between(0, io.cairn.paxos.PaxosState.RECENT); i > 0; i--) {
            recent.add(ballot(gen));
        }
        return new io.cairn.paxos.PaxosState(gen.chance(0.1) && accepted == null ? null : promised, accepted, accepted == null ? null : record(gen),
                gen.chance(0.5) ? ballot(gen) : null, recent);
    }

    private static Version ballot(Gen gen) {
        return new Version(gen.between(0L, Long.MAX_VALUE), gen.between(1, 65_535));
    }

    private static Record record(Gen gen) {
        Version version = new Version(gen.between(0L, Long.MAX_VALUE), gen.between(1, 65_535));
        if (gen.chance(0.2)) {
            return Record.tombstone(version);
        }
        long expiry = gen.chance(0.5) ? Record.NO_EXPIRY : gen.between(1_600_000_000_000L, 1_900_000_000_000L);
        return Record.value(version, expiry, gen.chance(0.5) ? null : "text/plain", gen.bytes(200));
    }

    private static Message.Failure failure(Gen gen) {
        io.cairn.error.ErrorCode[] codes = io.cairn.error.ErrorCode.values();
        return new Message.Failure(codes[gen.between(0, codes.length - 1)], text(gen));
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
