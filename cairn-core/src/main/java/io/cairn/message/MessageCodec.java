package io.cairn.message;

import io.cairn.antientropy.KeyVersion;
import io.cairn.antientropy.SegmentKeys;
import io.cairn.antientropy.SegmentTree;
import io.cairn.clock.Version;
import io.cairn.error.ErrorCode;
import io.cairn.invariant.Invariant;
import io.cairn.record.CorruptRecordException;
import io.cairn.record.Record;
import io.cairn.record.RecordCodec;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * The binary form of a {@link Message}. Records travel in their checksummed {@link RecordCodec}
 * form, so a record damaged in transit is detected by the receiver like one damaged on disk.
 *
 * <pre>
 *   payload:         i64 sender's hybrid clock (at least 0) | message
 *   message:         u8 type | fields (big-endian; byte strings and texts as i32 length + bytes, -1 for null)
 *   1 WriteRequest:  u8 protocol | i64 epoch | i64 request id | i32 namespace id | key | record
 *   2 WriteResponse: u8 protocol | i64 request id | u8 stored (0 or 1) | failure
 *   3 ReadRequest:   u8 protocol | i64 epoch | i64 request id | i32 namespace id | key
 *   4 ReadResponse:  u8 protocol | i64 request id | record or null (checksummed over an empty key) | failure
 *   failure:         error code text or null (then no message follows) | message text
 *   7 HintedWrite:   i64 epoch | i64 request id | u16 target node id | i32 namespace id | key | record
 *   8 Ping:          i64 epoch | i64 sequence | i64 sender's physical millis
 *   9 Pong:          i64 sequence | i64 the ping's millis, echoed | i64 ponger's physical millis
 *  10 TreeRequest:   i64 epoch | i64 request id | i32 namespace id | u16 partition | u8 level (0 root, 1 branches, 2 leaves) | u8 count | u8 branch * count
 *  11 TreeResponse:  i64 request id | i32 count (-1: failed) | i64 hash * count | failure
 *  12 KeysRequest:   i64 epoch | i64 request id | i32 namespace id | u16 partition | u16 count | u16 segment * count
 *  13 KeysResponse:  i64 request id | i32 count (-1: failed) | entry * count | u8 truncated | failure
 *     entry:         key | u8 flags (1 tombstone, 2 corrupt) | i64 version | u16 version node | i64 expiry | i64 hash | i32 value bytes
 *  14 StreamRequest: i64 epoch | i64 request id | i32 namespace id | u16 partition | after key or null | i32 max bytes (at least 1)
 *  15 StreamResponse: i64 request id | i32 count (-1: failed) | (key | record) * count | u8 done | i32 CRC32C of the entries | failure
 *  16 PaxosRequest:  u8 phase (0 prepare, 1 propose, 2 commit) | i64 epoch | i64 request id | i32 namespace id | key | ballot
 *                    | record or null (exactly when not a prepare) | next ballot or none | expected version or none (both
 *                    none unless a proposal; next above the ballot, expected not)
 *  17 PaxosResponse: u8 phase | i64 request id | u8 ok | promised | accepted ballot | accepted record or null | committed
 *                    | u8 count (at most 16; 0 unless a prepare's answer) | ballot * count (recent commits' record versions)
 *                    | dropped (the newest such version dropped to make room; optional, none unless a prepare's answer)
 *                    | current record or null (records checksummed over an empty key) | failure
 *     ballot:        i64 timestamp | u16 node id (1..65535); where optional, u8 present (0 or 1) first
 *  18 StateStreamRequest: as 14, asking for the partition's Paxos states instead of its records
 *  20 StateStreamResponse: i64 request id | i32 count (-1: failed) | (key | Paxos state, checksummed with its key
 *                    | the owner's record or null, checksummed with its key) * count | u8 done | failure
 * </pre>
 * A tree response holds 1 hash (the root), 65 (root and branches) or a multiple of 64 (segments of
 * up to 64 branches); a tree request names branches exactly at level 2; branches are 0..63 and
 * segments 0..4095, each named at most once; a listed entry's
 * version names a node 1..65535 unless it is flagged corrupt (then its version fields are 0).
 * Types 5 and 6 were heartbeats without clocks (wire version 2); they are retired. Since wire
 * version 4, failures carry a typed error code (the stable {@code ErrorCode} text; a code this
 * node does not know decodes as {@code internal_error}, its text kept in the message). Since wire
 * version 5, requests carry their {@link Protocol} (a write's: replication, repair or hand-off; a
 * read's: read or inspection) and the sender's membership epoch (at least 1), and responses echo
 * the protocol. Since wire version 6, every payload between nodes opens with the sender's clock
 * ({@link #encode(long, Message)}, {@link #decodeClocked}). Since wire version 7, a prepare's answer
 * names the newest commit its replica dropped from the ones it lists ({@code dropped}). Since wire version 9, a streamed Paxos state comes with the owner's record of
 * its key (type 20; type 19, the states alone, is retired).
 *
 * <p><b>The sender's clock.</b> Every payload carries the sender's hybrid clock as it stood when
 * the message was encoded (its last timestamp issued or observed), whatever the message. The
 * receiving core moves its own clock past it unless it is beyond the max clock offset (then it is
 * refused and counted, and the message is still handled: the versions and ballots it carries are
 * checked where they are used), so a node's clock stays ahead of every clock it has heard from: a
 * coordinator that has heard from the one a client wrote through before stamps the client's next
 * write newer. {@link #encode(Message)} and {@link #decode} are the message alone, the layout
 * inside the payload.
 *
 * <p>The type byte versions each message: a new message takes a new type, and a node that does
 * not know a type rejects it as malformed rather than guessing.
 *
 * <p><b>Validation.</b> Everything from a peer is hostile until checked. Besides the framing
 * (lengths within what remains, no trailing bytes) {@link #decode} refuses, as malformed: a key
 * that is empty or longer than {@value #MAX_KEY_BYTES} bytes; a record failing its checksum or
 * carrying a version of node id outside 1..65535 (records are checked for the rest by
 * {@link RecordCodec}); a negative sender clock ({@link #decodeClocked}); a hint target of 0; a
 * stored flag other than 0 or 1; a negative clock reading; a protocol this version does not know or that does not fit the message; an epoch below 1. What only the receiving node can judge — a namespace it does not serve, a timestamp too
 * far ahead of its clock, a key over its configured limit — is answered with a refusal there.
 * {@link #encode} checks the same bounds as invariants: this node never sends what a peer must refuse.
 */
public final class MessageCodec {
    private static final byte WRITE_REQUEST = 1;
    private static final byte WRITE_RESPONSE = 2;
    private static final byte READ_REQUEST = 3;
    private static final byte READ_RESPONSE = 4;
    private static final byte HINTED_WRITE = 7;
    private static final byte PING = 8;
    private static final byte PONG = 9;
    private static final byte TREE_REQUEST = 10;
    private static final byte TREE_RESPONSE = 11;
    private static final byte KEYS_REQUEST = 12;
    private static final byte KEYS_RESPONSE = 13;
    private static final byte STREAM_REQUEST = 14;
    private static final byte STREAM_RESPONSE = 15;
    private static final byte PAXOS_REQUEST = 16;
    private static final byte PAXOS_RESPONSE = 17;
    private static final byte STATE_STREAM_REQUEST = 18;
    private static final byte STATE_STREAM_RESPONSE = 20;
    private static final int FLAG_TOMBSTONE = 1;
    private static final int FLAG_CORRUPT = 2;
    /** The largest node id (ids are 1..65535, see {@code Member}). */
    public static final int MAX_NODE_ID = 0xFFFF;
    /** The longest key any node accepts (the ceiling of {@code limits.maxKeyBytes}). */
    public static final int MAX_KEY_BYTES = 0xFFFF;
    private static final int MAX_FIELD_BYTES = 64 << 20;
    private static final int MAX_CODE_LENGTH = 64;
    /** The sender's clock that opens every internode payload. */
    static final int CLOCK_BYTES = 8;

    private MessageCodec() {}

    /**
     * A message as it travels between nodes, with the sender's hybrid clock: its last timestamp
     * issued or observed when it sent the message (see the class comment).
     */
    public record Clocked(long senderClock, Message message) {
        public Clocked {
            Objects.requireNonNull(message, "message");
        }
    }

    /**
     * The message alone, without the sender's clock: its layout inside every payload. What travels
     * between nodes is {@link #encode(long, Message)}.
     */
    public static byte[] encode(Message m) {
        return encode(m, 0);
    }

    /**
     * The payload of an internode frame: the sender's hybrid clock, then the message.
     *
     * @param senderClock the sending node's last timestamp issued or observed; not negative
     */
    public static byte[] encode(long senderClock, Message m) {
        Invariant.check(senderClock >= 0, "sender clock %d is negative", senderClock);
        byte[] out = encode(m, CLOCK_BYTES);
        ByteBuffer.wrap(out).putLong(0, senderClock);
        return out;
    }

    /** Encodes {@code m} into a new array, its first {@code headroom} bytes left for a prefix. */
    private static byte[] encode(Message m, int headroom) {
        return switch (m) {
            case Message.WriteRequest w -> {
                checkKey(w.key());
                byte[] record = RecordCodec.encode(w.key(), w.record());
                checkEpoch(w.epoch());
                yield alloc(headroom, 1 + 1 + 8 + 8 + 4 + 4 + w.key().length + 4 + record.length).put(WRITE_REQUEST)
                        .put((byte) w.protocol().wire()).putLong(w.epoch()).putLong(w.requestId()).putInt(w.namespaceId()).putInt(w.key().length).put(w.key())
                        .putInt(record.length).put(record).array();
            }
            case Message.HintedWrite h -> {
                Invariant.check(h.target() >= 1 && h.target() <= MAX_NODE_ID, "hint target %d is not a node id", h.target());
                checkKey(h.key());
                byte[] record = RecordCodec.encode(h.key(), h.record());
                checkEpoch(h.epoch());
                yield alloc(headroom, 1 + 8 + 8 + 2 + 4 + 4 + h.key().length + 4 + record.length).put(HINTED_WRITE)
                        .putLong(h.epoch()).putLong(h.requestId()).putShort((short) h.target()).putInt(h.namespaceId())
                        .putInt(h.key().length).put(h.key()).putInt(record.length).put(record).array();
            }
            case Message.WriteResponse w -> {
                byte[] failure = failure(w.error());
                yield alloc(headroom, 1 + 1 + 8 + 1 + failure.length).put(WRITE_RESPONSE).put((byte) w.protocol().wire()).putLong(w.requestId())
                        .put((byte) (w.stored() ? 1 : 0)).put(failure).array();
            }
            case Message.ReadRequest r -> {
                checkKey(r.key());
                checkEpoch(r.epoch());
                yield alloc(headroom, 1 + 1 + 8 + 8 + 4 + 4 + r.key().length).put(READ_REQUEST)
                        .put((byte) r.protocol().wire()).putLong(r.epoch()).putLong(r.requestId()).putInt(r.namespaceId()).putInt(r.key().length).put(r.key()).array();
            }
            case Message.ReadResponse r -> {
                // The key is not repeated: the checksum is computed over an empty key, and the
                // requester re-verifies the record under the key it asked for when it stores it.
                byte[] record = r.record() == null ? null : RecordCodec.encode(new byte[0], r.record());
                byte[] failure = failure(r.error());
                yield alloc(headroom, 1 + 1 + 8 + 4 + len(record) + failure.length).put(READ_RESPONSE).put((byte) r.protocol().wire()).putLong(r.requestId())
                        .putInt(record == null ? -1 : record.length).put(orEmpty(record)).put(failure).array();
            }
            case Message.TreeRequest t -> {
                checkEpoch(t.epoch());
                checkIndexes(t.branches(), SegmentTree.BRANCHES);
                ByteBuffer out = alloc(headroom, 1 + 8 + 8 + 4 + 2 + 1 + 1 + t.branches().length).put(TREE_REQUEST).putLong(t.epoch()).putLong(t.requestId())
                        .putInt(t.namespaceId()).putShort((short) checkPartition(t.partition())).put((byte) t.level().ordinal())
                        .put((byte) t.branches().length);
                for (int b : t.branches()) {
                    out.put((byte) b);
                }
                yield out.array();
            }
            case Message.TreeResponse t -> {
                byte[] failure = failure(t.error());
                int n = t.hashes() == null ? -1 : t.hashes().length;
                Invariant.check(n == -1 || validHashCount(n), "a tree response of %d hashes", n);
                ByteBuffer out = alloc(headroom, 1 + 8 + 4 + 8 * Math.max(0, n) + failure.length).put(TREE_RESPONSE).putLong(t.requestId()).putInt(n);
                for (int i = 0; i < n; i++) {
                    out.putLong(t.hashes()[i]);
                }
                yield out.put(failure).array();
            }
            case Message.KeysRequest k -> {
                checkEpoch(k.epoch());
                checkIndexes(k.segments(), SegmentTree.SEGMENTS);
                ByteBuffer out = alloc(headroom, 1 + 8 + 8 + 4 + 2 + 2 + 2 * k.segments().length).put(KEYS_REQUEST).putLong(k.epoch()).putLong(k.requestId())
                        .putInt(k.namespaceId()).putShort((short) checkPartition(k.partition())).putShort((short) k.segments().length);
                for (int seg : k.segments()) {
                    out.putShort((short) seg);
                }
                yield out.array();
            }
            case Message.KeysResponse k -> {
                byte[] failure = failure(k.error());
                int size = 1 + 8 + 4 + 1 + failure.length;
                if (k.keys() != null) {
                    for (KeyVersion e : k.keys().keys()) {
                        checkKey(e.key());
                        size += 4 + e.key().length + 1 + 8 + 2 + 8 + 8 + 4;
                    }
                }
                ByteBuffer out = alloc(headroom, size).put(KEYS_RESPONSE).putLong(k.requestId()).putInt(k.keys() == null ? -1 : k.keys().keys().size());
                if (k.keys() != null) {
                    for (KeyVersion e : k.keys().keys()) {
                        out.putInt(e.key().length).put(e.key()).put((byte) ((e.tombstone() ? FLAG_TOMBSTONE : 0) | (e.corrupt() ? FLAG_CORRUPT : 0)))
                                .putLong(e.corrupt() ? 0 : e.version().timestamp()).putShort((short) (e.corrupt() ? 0 : e.version().nodeId()))
                                .putLong(e.expiresAtMillis()).putLong(e.hash()).putInt(e.valueBytes());
                    }
                }
                yield out.put((byte) (k.keys() != null && k.keys().truncated() ? 1 : 0)).put(failure).array();
            }
            case Message.StreamRequest r -> {
                checkEpoch(r.epoch());
                if (r.after() != null) {
                    checkKey(r.after());
                }
                byte type = r.part() == Message.StreamRequest.Part.RECORDS ? STREAM_REQUEST : STATE_STREAM_REQUEST;
                yield alloc(headroom, 1 + 8 + 8 + 4 + 2 + 4 + len(r.after()) + 4).put(type).putLong(r.epoch()).putLong(r.requestId())
                        .putInt(r.namespaceId()).putShort((short) checkPartition(r.partition()))
                        .putInt(r.after() == null ? -1 : r.after().length).put(orEmpty(r.after())).putInt(r.maxBytes()).array();
            }
            case Message.StreamResponse r -> {
                byte[] failure = failure(r.error());
                List<byte[]> records = new ArrayList<>();
                int size = 1 + 8 + 4 + 1 + 4 + failure.length;
                if (r.entries() != null) {
                    for (Message.StreamEntry e : r.entries()) {
                        checkKey(e.key());
                        byte[] record = RecordCodec.encode(e.key(), e.record());
                        records.add(record);
                        size += 4 + e.key().length + 4 + record.length;
                    }
                }
                ByteBuffer out = alloc(headroom, size).put(STREAM_RESPONSE).putLong(r.requestId()).putInt(r.entries() == null ? -1 : r.entries().size());
                int from = out.position();
                for (int i = 0; i < records.size(); i++) {
                    byte[] key = r.entries().get(i).key();
                    out.putInt(key.length).put(key).putInt(records.get(i).length).put(records.get(i));
                }
                CRC32C crc = new CRC32C();
                crc.update(out.array(), from, out.position() - from);
                yield out.put((byte) (r.done() ? 1 : 0)).putInt((int) crc.getValue()).put(failure).array();
            }
            case Message.StateStreamResponse r -> {
                byte[] failure = failure(r.error());
                List<byte[]> states = new ArrayList<>();
                List<byte[]> records = new ArrayList<>();
                int size = 1 + 8 + 4 + 1 + failure.length;
                if (r.entries() != null) {
                    for (Message.StateEntry e : r.entries()) {
                        checkKey(e.key());
                        byte[] state = e.state().encode(e.key());
                        byte[] record = e.record() == null ? null : RecordCodec.encode(e.key(), e.record());
                        states.add(state);
                        records.add(record);
                        size += 4 + e.key().length + 4 + state.length + 4 + (record == null ? 0 : record.length);
                    }
                }
                ByteBuffer out = alloc(headroom, size).put(STATE_STREAM_RESPONSE).putLong(r.requestId()).putInt(r.entries() == null ? -1 : r.entries().size());
                for (int i = 0; i < states.size(); i++) {
                    byte[] key = r.entries().get(i).key();
                    out.putInt(key.length).put(key).putInt(states.get(i).length).put(states.get(i));
                    byte[] record = records.get(i);
                    if (record == null) {
                        out.putInt(-1);
                    } else {
                        out.putInt(record.length).put(record);
                    }
                }
                yield out.put((byte) (r.done() ? 1 : 0)).put(failure).array();
            }
            case Message.PaxosRequest r -> {
                checkEpoch(r.epoch());
                checkKey(r.key());
                byte[] record = r.record() == null ? null : RecordCodec.encode(r.key(), r.record());
                ByteBuffer out = alloc(headroom, 1 + 1 + 8 + 8 + 4 + 4 + r.key().length + 10 + 4 + len(record) + ballotBytes(r.next())
                        + ballotBytes(r.expected())).put(PAXOS_REQUEST)
                        .put((byte) r.phase().ordinal()).putLong(r.epoch()).putLong(r.requestId()).putInt(r.namespaceId())
                        .putInt(r.key().length).put(r.key());
                putBallot(out, r.ballot());
                out.putInt(record == null ? -1 : record.length).put(orEmpty(record));
                putOptionalBallot(out, r.next());
                putOptionalBallot(out, r.expected());
                yield out.array();
            }
            case Message.PaxosResponse r -> {
                byte[] accepted = r.accepted() == null ? null : RecordCodec.encode(new byte[0], r.accepted());
                byte[] current = r.current() == null ? null : RecordCodec.encode(new byte[0], r.current());
                byte[] failure = failure(r.error());
                int ballots = ballotBytes(r.promised()) + ballotBytes(r.ballot()) + ballotBytes(r.committed()) + 1 + 10 * r.recent().size()
                        + ballotBytes(r.dropped());
                ByteBuffer out = alloc(headroom, 1 + 1 + 8 + 1 + ballots + 4 + len(accepted) + 4 + len(current) + failure.length).put(PAXOS_RESPONSE)
                        .put((byte) r.phase().ordinal()).putLong(r.requestId()).put((byte) (r.ok() ? 1 : 0));
                putOptionalBallot(out, r.promised());
                putOptionalBallot(out, r.ballot());
                out.putInt(accepted == null ? -1 : accepted.length).put(orEmpty(accepted));
                putOptionalBallot(out, r.committed());
                out.put((byte) r.recent().size());
                for (io.cairn.clock.Version v : r.recent()) {
                    putBallot(out, v);
                }
                putOptionalBallot(out, r.dropped());
                yield out.putInt(current == null ? -1 : current.length).put(orEmpty(current)).put(failure).array();
            }
            case Message.Ping p -> {
                Invariant.check(p.sentAtMillis() >= 0, "ping clock reading %d is negative", p.sentAtMillis());
                checkEpoch(p.epoch());
                yield alloc(headroom, 1 + 8 + 8 + 8).put(PING).putLong(p.epoch()).putLong(p.sequence()).putLong(p.sentAtMillis()).array();
            }
            case Message.Pong p -> {
                Invariant.check(p.pingSentAtMillis() >= 0 && p.sentAtMillis() >= 0, "pong clock readings %d, %d must not be negative",
                        p.pingSentAtMillis(), p.sentAtMillis());
                yield alloc(headroom, 1 + 8 + 8 + 8).put(PONG).putLong(p.sequence()).putLong(p.pingSentAtMillis()).putLong(p.sentAtMillis()).array();
            }
        };
    }

    /**
     * Decodes and validates (see the class comment); anything malformed — bad framing, a record
     * failing its checksum, a field out of range — throws {@link CorruptRecordException}, and
     * nothing else is thrown.
     */
    public static Message decode(byte[] bytes) {
        return decode(bytes, 0);
    }

    /**
     * Decodes and validates an internode payload: the sender's clock, refused as malformed when
     * negative, and the message as {@link #decode(byte[])} does. Whether the clock is within the
     * max offset only the receiving node can judge ({@code HybridClock.observePeer}).
     */
    public static Clocked decodeClocked(byte[] bytes) {
        if (bytes.length < CLOCK_BYTES) {
            throw new CorruptRecordException("malformed message: " + bytes.length + " bytes, truncated before the end of the sender's clock");
        }
        long senderClock = ByteBuffer.wrap(bytes).getLong(0);
        if (senderClock < 0) {
            throw new CorruptRecordException("sender clock " + senderClock + " is negative");
        }
        return new Clocked(senderClock, decode(bytes, CLOCK_BYTES));
    }

    /** Decodes the message that starts at {@code offset} and runs to the end of {@code bytes}. */
    private static Message decode(byte[] bytes, int offset) {
        try {
            // Positions in this buffer are indexes into bytes (the stream chunk's checksum relies on it).
            ByteBuffer in = ByteBuffer.wrap(bytes, offset, bytes.length - offset);
            byte type = in.get();
            Message m = switch (type) {
                case WRITE_REQUEST -> {
                    Protocol protocol = protocol(in, true);
                    long epoch = epoch(in);
                    long id = in.getLong();
                    int ns = in.getInt();
                    byte[] key = key(in);
                    Record record = record(key, bytes(in));
                    yield new Message.WriteRequest(protocol, epoch, id, ns, key, record);
                }
                case HINTED_WRITE -> {
                    long epoch = epoch(in);
                    long id = in.getLong();
                    int target = Short.toUnsignedInt(in.getShort());
                    if (target == 0) {
                        throw new CorruptRecordException("hint target 0 is not a node id");
                    }
                    int ns = in.getInt();
                    byte[] key = key(in);
                    Record record = record(key, bytes(in));
                    yield new Message.HintedWrite(epoch, id, target, ns, key, record);
                }
                case WRITE_RESPONSE -> {
                    Protocol protocol = protocol(in, true);
                    long id = in.getLong();
                    byte stored = in.get();
                    if (stored != 0 && stored != 1) {
                        throw new CorruptRecordException("stored flag " + stored + " is neither 0 nor 1");
                    }
                    Message.Failure failure = failure(in);
                    if (stored == 1 && failure != null) {
                        throw new CorruptRecordException("a write response both stored and failed");
                    }
                    yield new Message.WriteResponse(protocol, id, stored == 1, failure);
                }
                case READ_REQUEST -> new Message.ReadRequest(protocol(in, false), epoch(in), in.getLong(), in.getInt(), key(in));
                case READ_RESPONSE -> {
                    Protocol protocol = protocol(in, false);
                    long id = in.getLong();
                    byte[] record = nullableBytes(in);
                    Message.Failure failure = failure(in);
                    if (record != null && failure != null) {
                        throw new CorruptRecordException("a read response with both a record and a failure");
                    }
                    yield new Message.ReadResponse(protocol, id, record == null ? null : record(new byte[0], record), failure);
                }
                case TREE_REQUEST -> {
                    long epoch = epoch(in);
                    long id = in.getLong();
                    int ns = in.getInt();
                    int partition = Short.toUnsignedInt(in.getShort());
                    int level = Byte.toUnsignedInt(in.get());
                    if (level >= Message.TreeRequest.Level.values().length) {
                        throw new CorruptRecordException("tree level " + level);
                    }
                    int[] branches = new int[Byte.toUnsignedInt(in.get())];
                    for (int i = 0; i < branches.length; i++) {
                        branches[i] = Byte.toUnsignedInt(in.get());
                    }
                    Message.TreeRequest.Level l = Message.TreeRequest.Level.values()[level];
                    if (branches.length > SegmentTree.BRANCHES || (l == Message.TreeRequest.Level.LEAVES) == (branches.length == 0)) {
                        throw new CorruptRecordException(branches.length + " branches named at tree level " + l);
                    }
                    yield new Message.TreeRequest(epoch, id, ns, partition, l, indexes(branches, SegmentTree.BRANCHES));
                }
                case TREE_RESPONSE -> {
                    long id = in.getLong();
                    int n = in.getInt();
                    if (n != -1 && !validHashCount(n)) {
                        throw new CorruptRecordException("a tree response of " + n + " hashes");
                    }
                    long[] hashes = null;
                    if (n >= 0) {
                        hashes = new long[n];
                        for (int i = 0; i < n; i++) {
                            hashes[i] = in.getLong();
                        }
                    }
                    Message.Failure failure = failure(in);
                    if ((hashes == null) == (failure == null)) {
                        throw new CorruptRecordException("a tree response must carry hashes or a failure");
                    }
                    yield new Message.TreeResponse(id, hashes, failure);
                }
                case KEYS_REQUEST -> {
                    long epoch = epoch(in);
                    long id = in.getLong();
                    int ns = in.getInt();
                    int partition = Short.toUnsignedInt(in.getShort());
                    int count = Short.toUnsignedInt(in.getShort());
                    if (count == 0 || count > SegmentTree.SEGMENTS) {
                        throw new CorruptRecordException(count + " segments asked for");
                    }
                    int[] segments = new int[count];
                    for (int i = 0; i < count; i++) {
                        segments[i] = Short.toUnsignedInt(in.getShort());
                    }
                    yield new Message.KeysRequest(epoch, id, ns, partition, indexes(segments, SegmentTree.SEGMENTS));
                }
                case KEYS_RESPONSE -> {
                    long id = in.getLong();
                    int count = in.getInt();
                    // Each entry takes at least 36 bytes: a count beyond what remains is a lie.
                    if (count < -1 || count > in.remaining() / 36) {
                        throw new CorruptRecordException("a listing of " + count + " keys");
                    }
                    List<KeyVersion> entries = new ArrayList<>(Math.max(0, count));
                    for (int i = 0; i < count; i++) {
                        entries.add(keyVersion(in));
                    }
                    byte truncated = in.get();
                    if (truncated != 0 && truncated != 1) {
                        throw new CorruptRecordException("truncated flag " + truncated + " is neither 0 nor 1");
                    }
                    Message.Failure failure = failure(in);
                    if ((count < 0) == (failure == null)) {
                        throw new CorruptRecordException("a keys response must carry keys or a failure");
                    }
                    yield new Message.KeysResponse(id, count < 0 ? null : new SegmentKeys(entries, truncated == 1), failure);
                }
                case STREAM_REQUEST, STATE_STREAM_REQUEST -> {
                    long epoch = epoch(in);
                    long id = in.getLong();
                    int ns = in.getInt();
                    int partition = Short.toUnsignedInt(in.getShort());
                    byte[] after = nullableBytes(in);
                    if (after != null && (after.length == 0 || after.length > MAX_KEY_BYTES)) {
                        throw new CorruptRecordException("stream position key of " + after.length + " bytes");
                    }
                    int maxBytes = in.getInt();
                    if (maxBytes < 1) {
                        throw new CorruptRecordException("a stream chunk of at most " + maxBytes + " bytes");
                    }
                    yield new Message.StreamRequest(epoch, id, ns, partition, after, maxBytes,
                            type == STREAM_REQUEST ? Message.StreamRequest.Part.RECORDS : Message.StreamRequest.Part.PAXOS_STATES);
                }
                case STREAM_RESPONSE -> {
                    long id = in.getLong();
                    int count = in.getInt();
                    // Each entry takes at least 10 bytes: a count beyond what remains is a lie.
                    if (count < -1 || count > in.remaining() / 10) {
                        throw new CorruptRecordException("a stream chunk of " + count + " records");
                    }
                    int from = in.position();
                    List<Message.StreamEntry> entries = keyed(in, count, "stream chunk", (key, value) -> new Message.StreamEntry(key, record(key, value)));
                    CRC32C crc = new CRC32C();
                    crc.update(bytes, from, in.position() - from);
                    byte done = in.get();
                    if (done != 0 && done != 1) {
                        throw new CorruptRecordException("done flag " + done + " is neither 0 nor 1");
                    }
                    if (in.getInt() != (int) crc.getValue()) {
                        throw new CorruptRecordException("stream chunk fails its checksum");
                    }
                    Message.Failure failure = failure(in);
                    if ((entries == null) == (failure == null)) {
                        throw new CorruptRecordException("a stream response must carry entries or a failure");
                    }
                    yield new Message.StreamResponse(id, entries, done == 1, failure);
                }
                case STATE_STREAM_RESPONSE -> {
                    long id = in.getLong();
                    int count = in.getInt();
                    // Each entry takes at least 18 bytes: a count beyond what remains is a lie.
                    if (count < -1 || count > in.remaining() / 18) {
                        throw new CorruptRecordException("a state stream chunk of " + count + " states");
                    }
                    List<Message.StateEntry> entries = keyed(in, count, "state stream chunk", (key, value) -> {
                        io.cairn.paxos.PaxosState state = paxosState(key, value);
                        byte[] record = nullableBytes(in);
                        return new Message.StateEntry(key, state, record == null ? null : record(key, record));
                    });
                    byte done = in.get();
                    if (done != 0 && done != 1) {
                        throw new CorruptRecordException("done flag " + done + " is neither 0 nor 1");
                    }
                    Message.Failure failure = failure(in);
                    if ((entries == null) == (failure == null)) {
                        throw new CorruptRecordException("a state stream response must carry entries or a failure");
                    }
                    yield new Message.StateStreamResponse(id, entries, done == 1, failure);
                }
                case PAXOS_REQUEST -> {
                    Message.PaxosRequest.Phase phase = phase(in);
                    long epoch = epoch(in);
                    long id = in.getLong();
                    int ns = in.getInt();
                    byte[] key = key(in);
                    io.cairn.clock.Version ballot = ballot(in);
                    byte[] record = nullableBytes(in);
                    if ((phase == Message.PaxosRequest.Phase.PREPARE) != (record == null)) {
                        throw new CorruptRecordException("a paxos " + phase + (record == null ? " without" : " with") + " a record");
                    }
                    io.cairn.clock.Version next = optionalBallot(in);
                    io.cairn.clock.Version expected = optionalBallot(in);
                    if ((next != null || expected != null) && phase != Message.PaxosRequest.Phase.PROPOSE) {
                        throw new CorruptRecordException("a paxos " + phase + " with a lease");
                    }
                    if ((next != null && !next.isNewerThan(ballot)) || (expected != null && expected.isNewerThan(ballot))) {
                        throw new CorruptRecordException("a paxos proposal at " + ballot + " with lease ballot " + next + " and expected version " + expected);
                    }
                    yield new Message.PaxosRequest(phase, epoch, id, ns, key, ballot, record == null ? null : record(key, record), next, expected);
                }
                case PAXOS_RESPONSE -> {
                    Message.PaxosRequest.Phase phase = phase(in);
                    long id = in.getLong();
                    byte ok = in.get();
                    if (ok != 0 && ok != 1) {
                        throw new CorruptRecordException("ok flag " + ok + " is neither 0 nor 1");
                    }
                    io.cairn.clock.Version promised = optionalBallot(in);
                    io.cairn.clock.Version ballot = optionalBallot(in);
                    byte[] accepted = nullableBytes(in);
                    io.cairn.clock.Version committed = optionalBallot(in);
                    int count = Byte.toUnsignedInt(in.get());
                    if (count > Message.PaxosResponse.MAX_RECENT) {
                        throw new CorruptRecordException(count + " recent commits in a paxos response");
                    }
                    List<io.cairn.clock.Version> recent = new ArrayList<>(count);
                    for (int i = 0; i < count; i++) {
                        recent.add(ballot(in));
                    }
                    io.cairn.clock.Version dropped = optionalBallot(in);
                    byte[] current = nullableBytes(in);
                    Message.Failure failure = failure(in);
                    if ((ballot == null) != (accepted == null) || (ok == 1 && failure != null)
                            || (phase != Message.PaxosRequest.Phase.PREPARE && (ballot != null || committed != null || dropped != null || current != null || count > 0))) {
                        throw new CorruptRecordException("an inconsistent paxos " + phase + " response");
                    }
                    yield new Message.PaxosResponse(phase, id, ok == 1, promised, ballot, accepted == null ? null : record(new byte[0], accepted),
                            committed, recent, dropped, current == null ? null : record(new byte[0], current), failure);
                }
                case PING -> new Message.Ping(epoch(in), in.getLong(), clockReading(in));
                case PONG -> new Message.Pong(in.getLong(), clockReading(in), clockReading(in));
                default -> throw new CorruptRecordException("unknown message type " + type);
            };
            if (in.hasRemaining()) {
                throw new CorruptRecordException(in.remaining() + " trailing bytes after message type " + type);
            }
            return m;
        } catch (BufferUnderflowException e) {
            throw new CorruptRecordException("malformed message: truncated");
        }
    }

    private static boolean validHashCount(int n) {
        return n == 1 || n == 1 + SegmentTree.BRANCHES
                || (n > 0 && n % SegmentTree.LEAVES_PER_BRANCH == 0 && n / SegmentTree.LEAVES_PER_BRANCH <= SegmentTree.BRANCHES);
    }

    private static int checkPartition(int partition) {
        Invariant.check(partition >= 0 && partition <= 0xFFFF, "partition %d cannot be sent", partition);
        return partition;
    }

    private static void checkIndexes(int[] indexes, int bound) {
        boolean[] seen = new boolean[bound];
        for (int i : indexes) {
            Invariant.check(i >= 0 && i < bound && !seen[i], "index %d (of %d) cannot be sent", i, bound);
            seen[i] = true;
        }
    }

    /** Tree branches or segments as a peer named them: each in range, none twice. */
    private static int[] indexes(int[] indexes, int bound) {
        boolean[] seen = new boolean[bound];
        for (int i : indexes) {
            if (i >= bound || seen[i]) {
                throw new CorruptRecordException("index " + i + " out of 0.." + (bound - 1) + " or named twice");
            }
            seen[i] = true;
        }
        return indexes;
    }

    private static KeyVersion keyVersion(ByteBuffer in) {
        byte[] key = key(in);
        int flags = Byte.toUnsignedInt(in.get());
        if ((flags & ~(FLAG_TOMBSTONE | FLAG_CORRUPT)) != 0 || flags == (FLAG_TOMBSTONE | FLAG_CORRUPT)) {
            throw new CorruptRecordException("listing flags " + flags);
        }
        long timestamp = in.getLong();
        int node = Short.toUnsignedInt(in.getShort());
        long expires = in.getLong();
        long hash = in.getLong();
        int valueBytes = in.getInt();
        if (valueBytes < 0) {
            throw new CorruptRecordException("listing entry of " + valueBytes + " value bytes");
        }
        if ((flags & FLAG_CORRUPT) != 0) {
            if (timestamp != 0 || node != 0) {
                throw new CorruptRecordException("a corrupt listing entry with a version");
            }
            return new KeyVersion(key, null, false, expires, hash, valueBytes);
        }
        if (node == 0 || timestamp < 0 || expires < 0) {
            throw new CorruptRecordException("listing entry version " + timestamp + "@" + node + ", expiry " + expires);
        }
        return new KeyVersion(key, new Version(timestamp, node), (flags & FLAG_TOMBSTONE) != 0, expires, hash, valueBytes);
    }

    private static void putBallot(ByteBuffer out, io.cairn.clock.Version ballot) {
        Invariant.check(ballot.nodeId() >= 1 && ballot.nodeId() <= MAX_NODE_ID, "ballot %s names no node", ballot);
        out.putLong(ballot.timestamp()).putShort((short) ballot.nodeId());
    }

    private static int ballotBytes(io.cairn.clock.Version ballot) {
        return ballot == null ? 1 : 1 + 8 + 2;
    }

    private static void putOptionalBallot(ByteBuffer out, io.cairn.clock.Version ballot) {
        out.put((byte) (ballot == null ? 0 : 1));
        if (ballot != null) {
            putBallot(out, ballot);
        }
    }

    private static io.cairn.clock.Version ballot(ByteBuffer in) {
        long timestamp = in.getLong();
        int node = Short.toUnsignedInt(in.getShort());
        if (timestamp < 0 || node == 0) {
            throw new CorruptRecordException("ballot " + timestamp + "@" + node);
        }
        return new io.cairn.clock.Version(timestamp, node);
    }

    private static io.cairn.clock.Version optionalBallot(ByteBuffer in) {
        byte present = in.get();
        if (present != 0 && present != 1) {
            throw new CorruptRecordException("ballot presence flag " + present);
        }
        return present == 1 ? ballot(in) : null;
    }

    private static Message.PaxosRequest.Phase phase(ByteBuffer in) {
        int phase = Byte.toUnsignedInt(in.get());
        if (phase >= Message.PaxosRequest.Phase.values().length) {
            throw new CorruptRecordException("paxos phase " + phase);
        }
        return Message.PaxosRequest.Phase.values()[phase];
    }

    private static void checkEpoch(long epoch) {
        Invariant.check(epoch >= Message.FIRST_EPOCH, "epoch %d cannot be sent", epoch);
    }

    private static long epoch(ByteBuffer in) {
        long epoch = in.getLong();
        if (epoch < Message.FIRST_EPOCH) {
            throw new CorruptRecordException("epoch " + epoch + " is below " + Message.FIRST_EPOCH);
        }
        return epoch;
    }

    /** The protocol byte of a write's ({@code writes}) or a read's request or response. */
    private static Protocol protocol(ByteBuffer in, boolean writes) {
        int wire = Byte.toUnsignedInt(in.get());
        Protocol p = Protocol.fromWire(wire);
        if (p == null) {
            throw new CorruptRecordException("unknown protocol " + wire);
        }
        if (!p.recordMessages() || p.writes() != writes) {
            throw new CorruptRecordException("protocol " + p + " in a " + (writes ? "write" : "read") + " message");
        }
        return p;
    }

    private static void checkKey(byte[] key) {
        Invariant.check(key.length >= 1 && key.length <= MAX_KEY_BYTES, "a key of %d bytes cannot be sent", key.length);
    }

    /** A buffer of {@code headroom + size} bytes, positioned at {@code headroom}. */
    private static ByteBuffer alloc(int headroom, int size) {
        return ByteBuffer.allocate(headroom + size).position(headroom);
    }

    private static byte[] text(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    private static int len(byte[] b) {
        return b == null ? 0 : b.length;
    }

    private static byte[] orEmpty(byte[] b) {
        return b == null ? new byte[0] : b;
    }

    private static byte[] key(ByteBuffer in) {
        byte[] key = bytes(in);
        if (key.length == 0 || key.length > MAX_KEY_BYTES) {
            throw new CorruptRecordException("key of " + key.length + " bytes outside 1.." + MAX_KEY_BYTES);
        }
        return key;
    }

    private static Record record(byte[] key, byte[] encoded) {
        Record r = RecordCodec.decode(key, encoded);
        int node = r.version().nodeId();
        if (node < 1 || node > MAX_NODE_ID) {
            throw new CorruptRecordException("version " + r.version() + " names node " + node + ", not a node id");
        }
        return r;
    }

    /**
     * {@code count} entries of a chunk (none when the count is -1, a failed chunk: then null), each
     * a key and the bytes {@code entry} decodes under it; keys strictly ascending.
     */
    private static <E> List<E> keyed(ByteBuffer in, int count, String what, java.util.function.BiFunction<byte[], byte[], E> entry) {
        if (count < 0) {
            return null;
        }
        List<E> entries = new ArrayList<>(count);
        byte[] previous = null;
        for (int i = 0; i < count; i++) {
            byte[] key = key(in);
            if (previous != null && Arrays.compareUnsigned(previous, key) >= 0) {
                throw new CorruptRecordException(what + " keys out of order");
            }
            previous = key;
            entries.add(entry.apply(key, bytes(in)));
        }
        return entries;
    }

    /** A streamed Paxos state: checksummed with its key, and every ballot in it naming a node. */
    private static io.cairn.paxos.PaxosState paxosState(byte[] key, byte[] encoded) {
        io.cairn.paxos.PaxosState state = io.cairn.paxos.PaxosState.decode(key, encoded);
        for (Version v : state.versions()) {
            if (v.nodeId() < 1 || v.nodeId() > MAX_NODE_ID) {
                throw new CorruptRecordException("paxos state ballot " + v + " names node " + v.nodeId() + ", not a node id");
            }
        }
        return state;
    }

    private static long clockReading(ByteBuffer in) {
        long millis = in.getLong();
        if (millis < 0) {
            throw new CorruptRecordException("clock reading " + millis + " is negative");
        }
        return millis;
    }

    private static byte[] bytes(ByteBuffer in) {
        byte[] b = nullableBytes(in);
        if (b == null) {
            throw new CorruptRecordException("missing field");
        }
        return b;
    }

    private static byte[] nullableBytes(ByteBuffer in) {
        int n = in.getInt();
        if (n == -1) {
            return null;
        }
        if (n < 0 || n > MAX_FIELD_BYTES || n > in.remaining()) {
            throw new CorruptRecordException("bad field length " + n);
        }
        byte[] b = new byte[n];
        in.get(b);
        return b;
    }

    private static byte[] failure(Message.Failure f) {
        if (f == null) {
            return ByteBuffer.allocate(4).putInt(-1).array();
        }
        byte[] code = text(f.code().code());
        byte[] message = text(f.message());
        return ByteBuffer.allocate(4 + code.length + 4 + message.length)
                .putInt(code.length).put(code).putInt(message.length).put(message).array();
    }

    private static Message.Failure failure(ByteBuffer in) {
        String code = string(in);
        if (code == null) {
            return null;
        }
        if (code.length() > MAX_CODE_LENGTH) {
            throw new CorruptRecordException("error code of " + code.length() + " characters");
        }
        String message = string(in);
        if (message == null) {
            throw new CorruptRecordException("a failure without a message");
        }
        ErrorCode known = ErrorCode.fromCode(code);
        return known != null ? new Message.Failure(known, message) : new Message.Failure(ErrorCode.INTERNAL, code + ": " + message);
    }

    private static String string(ByteBuffer in) {
        byte[] b = nullableBytes(in);
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }
}
