package io.cairn.paxos;

import io.cairn.clock.Version;
import io.cairn.record.CorruptRecordException;
import io.cairn.record.Record;
import io.cairn.record.RecordCodec;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * What one replica, as a Paxos acceptor, remembers about one key: the highest ballot it promised,
 * the proposal it accepted and has not seen committed, and the ballot of the last commit it
 * applied. Kept durably in its own keyspace ({@code Keyspace.paxos}), beside the key's record.
 *
 * <p>A commit clears the accepted proposal (its record is in the data keyspace by then), so what
 * stays behind for a key that is not being written is two ballots: the promise must outlive the
 * round, or an older proposer could get a stale proposal accepted.
 *
 * @param promised  the highest ballot promised or accepted, or null before the first prepare
 * @param ballot    the ballot of the accepted proposal, or null when there is none in progress
 * @param accepted  the accepted proposal's record (its version is the ballot that first proposed
 *                  it, which a proposal finishing it keeps), or null with {@code ballot}
 * @param committed the ballot of the newest commit applied, or null
 * @param recent    the versions of the records of the last {@value #RECENT} commits applied, newest
 *                  first: what lets a proposer whose round was overtaken learn that its record was
 *                  chosen after all (another round finished it), instead of answering "unknown"
 * @param dropped   the newest record version ever dropped from {@code recent} to make room, or null
 *                  when none was: a commit of a record newer than it, if this replica applied one,
 *                  is listed in {@code recent} ({@link #remembers}). {@link #UNKNOWN_DROPPED} when
 *                  that is not known (a state stored before this was kept).
 */
public record PaxosState(Version promised, Version ballot, Record accepted, Version committed, java.util.List<Version> recent, Version dropped) {
    /** How many committed record versions a state remembers. */
    public static final int RECENT = 8;
    /** What {@code dropped} is when it is not known which commits were dropped: above every version. */
    public static final Version UNKNOWN_DROPPED = new Version(Long.MAX_VALUE, 65535);
    public static final PaxosState EMPTY = new PaxosState(null, null, null, null, java.util.List.of(), null);
    private static final byte FORMAT = 1;
    private static final byte FORMAT_WITH_RECENT = 2;
    private static final byte FORMAT_WITH_DROPPED = 3;
    private static final int HAS_PROMISED = 1;
    private static final int HAS_ACCEPTED = 2;
    private static final int HAS_COMMITTED = 4;
    private static final int HAS_DROPPED = 8;

    /** A state that never dropped a commit from {@code recent}. */
    public PaxosState(Version promised, Version ballot, Record accepted, Version committed, java.util.List<Version> recent) {
        this(promised, ballot, accepted, committed, recent, null);
    }

    public PaxosState {
        recent = java.util.List.copyOf(recent);
        if (recent.size() > RECENT) {
            throw new IllegalArgumentException(recent.size() + " recent commits, more than " + RECENT);
        }
        if ((ballot == null) != (accepted == null)) {
            throw new IllegalArgumentException("an accepted proposal needs its ballot and its record");
        }
        if (ballot != null && (promised == null || ballot.isNewerThan(promised))) {
            throw new IllegalArgumentException("accepted ballot " + ballot + " above the promise " + promised);
        }
    }

    /** Whether {@code b} may be promised or accepted: it is at least every ballot promised so far. */
    public boolean admits(Version b) {
        return promised == null || b.compareTo(promised) >= 0;
    }

    /**
     * Whether this replica would list a commit of the record of version {@code v} in {@code recent}
     * if it had applied one: {@code v} is newer than every version it dropped to make room. Then a
     * {@code v} missing from {@code recent} was never committed here.
     */
    public boolean remembers(Version v) {
        return wouldList(dropped, v);
    }

    /** {@link #remembers} for a state known only by its {@code dropped} (as a prepare's answer carries it). */
    public static boolean wouldList(Version dropped, Version v) {
        return dropped == null || v.isNewerThan(dropped);
    }

    /** Promises {@code b} (at least the current promise). */
    public PaxosState promise(Version b) {
        return new PaxosState(max(promised, b), ballot, accepted, committed, recent, dropped);
    }

    /** Accepts {@code record} under ballot {@code b} (which {@link #admits}). */
    public PaxosState accept(Version b, Record record) {
        return new PaxosState(max(promised, b), b, record, committed, recent, dropped);
    }

    /**
     * Notes the commit of ballot {@code b}: the newest commit is the larger, and an accepted
     * proposal at or below it is done (its record, or a newer one, is in the data keyspace).
     */
    public PaxosState commit(Version b, Version record) {
        Version newest = max(committed, b);
        boolean done = ballot != null && ballot.compareTo(newest) <= 0;
        java.util.List<Version> remembered = recent;
        Version droppedNow = dropped;
        if (!recent.contains(record)) {
            java.util.List<Version> next = new java.util.ArrayList<>(recent.size() + 1);
            next.add(record);
            next.addAll(recent.subList(0, Math.min(recent.size(), RECENT - 1)));
            for (Version gone : recent.subList(Math.min(recent.size(), RECENT - 1), recent.size())) {
                droppedNow = max(droppedNow, gone);
            }
            remembered = next;
        }
        return new PaxosState(max(promised, b), done ? null : ballot, done ? null : accepted, newest, remembered, droppedNow);
    }

    /**
     * This state joined with another replica's state of the same key, as an incoming replica
     * takes it from a partition's stream: the higher promise, the accepted proposal of the higher
     * ballot (dropped when a commit at or above it is known), the newer commit and the newest
     * {@value #RECENT} remembered commits of both (the newest commit either dropped, and any the
     * join leaves out, counted as dropped). The join only ever raises what this replica
     * knows, so it is safe whatever rounds this replica already took part in, in any order, and
     * taking the same state twice changes nothing. After it, this replica refuses every ballot
     * either state refused, and a prepare that asks it reports every proposal either accepted
     * that may still be chosen: as if it had taken part in the other replica's rounds too.
     */
    public PaxosState join(PaxosState other) {
        Version newestCommit = max(committed, other.committed);
        Version acceptedBallot = ballot;
        Record acceptedRecord = accepted;
        if (other.ballot != null && (ballot == null || other.ballot.isNewerThan(ballot))) {
            acceptedBallot = other.ballot;
            acceptedRecord = other.accepted;
        }
        if (acceptedBallot != null && newestCommit != null && acceptedBallot.compareTo(newestCommit) <= 0) {
            acceptedBallot = null;
            acceptedRecord = null;
        }
        java.util.TreeSet<Version> both = new java.util.TreeSet<>(java.util.Comparator.reverseOrder());
        both.addAll(recent);
        both.addAll(other.recent);
        java.util.List<Version> remembered = both.stream().limit(RECENT).toList();
        Version droppedBoth = max(dropped, other.dropped);
        for (Version gone : both.stream().skip(RECENT).toList()) {
            droppedBoth = max(droppedBoth, gone);
        }
        return new PaxosState(max(promised, other.promised), acceptedBallot, acceptedRecord, newestCommit, remembered, droppedBoth);
    }

    /**
     * Every version this state names: the promise, the accepted ballot and its record's version,
     * the newest commit and the remembered commits. What a state from elsewhere (a peer, the wire)
     * is checked by, version by version. Not {@code dropped}: it names no ballot to take part in a
     * round, and one set too high only makes a proposer less sure (it may be {@link #UNKNOWN_DROPPED}).
     */
    public java.util.List<Version> versions() {
        java.util.List<Version> all = new java.util.ArrayList<>(recent.size() + 4);
        for (Version v : new Version[] {promised, ballot, accepted == null ? null : accepted.version(), committed}) {
            if (v != null) {
                all.add(v);
            }
        }
        all.addAll(recent);
        return all;
    }

    private static Version max(Version a, Version b) {
        return a == null ? b : b == null ? a : a.compareTo(b) >= 0 ? a : b;
    }

    /** The stored form, checksummed together with the key it belongs to. */
    public byte[] encode(byte[] key) {
        byte[] record = accepted == null ? new byte[0] : RecordCodec.encode(key, accepted);
        int flags = (promised != null ? HAS_PROMISED : 0) | (ballot != null ? HAS_ACCEPTED : 0) | (committed != null ? HAS_COMMITTED : 0)
                | (dropped != null ? HAS_DROPPED : 0);
        ByteBuffer out = ByteBuffer.allocate(1 + 1 + 4 * 12 + 4 + record.length + 1 + 12 * recent.size() + 4).put(FORMAT_WITH_DROPPED).put((byte) flags);
        for (Version v : new Version[] {promised, ballot, committed, dropped}) {
            if (v != null) {
                out.putLong(v.timestamp()).putInt(v.nodeId());
            }
        }
        if (accepted != null) {
            out.putInt(record.length).put(record);
        }
        out.put((byte) recent.size());
        for (Version v : recent) {
            out.putLong(v.timestamp()).putInt(v.nodeId());
        }
        int length = out.position();
        out.putInt(checksum(key, out.array(), length));
        byte[] bytes = new byte[out.position()];
        System.arraycopy(out.array(), 0, bytes, 0, bytes.length);
        return bytes;
    }

    /** Decodes and verifies a stored state; anything that does not check out throws {@link CorruptRecordException}. */
    public static PaxosState decode(byte[] key, byte[] bytes) {
        if (bytes.length < 1 + 1 + 4) {
            throw new CorruptRecordException("paxos state of " + bytes.length + " bytes is too short");
        }
        int length = bytes.length - 4;
        if (ByteBuffer.wrap(bytes, length, 4).getInt() != checksum(key, bytes, length)) {
            throw new CorruptRecordException("paxos state fails its checksum");
        }
        try {
            ByteBuffer in = ByteBuffer.wrap(bytes, 0, length);
            byte format = in.get();
            if (format != FORMAT && format != FORMAT_WITH_RECENT && format != FORMAT_WITH_DROPPED) {
                throw new CorruptRecordException("unknown paxos state format " + format);
            }
            int flags = in.get();
            int known = HAS_PROMISED | HAS_ACCEPTED | HAS_COMMITTED | (format == FORMAT_WITH_DROPPED ? HAS_DROPPED : 0);
            if ((flags & ~known) != 0) {
                throw new CorruptRecordException("unknown paxos state flags " + flags);
            }
            Version promised = (flags & HAS_PROMISED) != 0 ? version(in) : null;
            Version ballot = (flags & HAS_ACCEPTED) != 0 ? version(in) : null;
            Version committed = (flags & HAS_COMMITTED) != 0 ? version(in) : null;
            Version dropped = (flags & HAS_DROPPED) != 0 ? version(in) : null;
            Record accepted = null;
            if (ballot != null) {
                int n = in.getInt();
                int after = format == FORMAT ? 0 : 1;
                if (n < 0 || n > in.remaining() - after) {
                    throw new CorruptRecordException("accepted record of " + n + " bytes, " + in.remaining() + " remain");
                }
                byte[] record = new byte[n];
                in.get(record);
                accepted = RecordCodec.decode(key, record);
            }
            java.util.List<Version> recent = new java.util.ArrayList<>();
            if (format != FORMAT) {
                int count = Byte.toUnsignedInt(in.get());
                if (count > RECENT) {
                    throw new CorruptRecordException(count + " recent commits in a paxos state");
                }
                for (int i = 0; i < count; i++) {
                    recent.add(version(in));
                }
            }
            if (in.hasRemaining()) {
                throw new CorruptRecordException(in.remaining() + " trailing bytes in paxos state");
            }
            if (format == FORMAT && committed != null || format == FORMAT_WITH_RECENT && recent.size() == RECENT) {
                // Stored before dropped commits were counted: which were dropped is not known.
                dropped = UNKNOWN_DROPPED;
            }
            try {
                return new PaxosState(promised, ballot, accepted, committed, recent, dropped);
            } catch (IllegalArgumentException e) {
                throw new CorruptRecordException("inconsistent paxos state: " + e.getMessage());
            }
        } catch (BufferUnderflowException e) {
            throw new CorruptRecordException("truncated paxos state");
        }
    }

    private static Version version(ByteBuffer in) {
        long ts = in.getLong();
        int node = in.getInt();
        if (ts < 0 || node < 0) {
            throw new CorruptRecordException("invalid ballot " + ts + "/" + node);
        }
        return new Version(ts, node);
    }

    private static int checksum(byte[] key, byte[] bytes, int length) {
        CRC32C crc = new CRC32C();
        crc.update(key, 0, key.length);
        crc.update(bytes, 0, length);
        return (int) crc.getValue();
    }
}
