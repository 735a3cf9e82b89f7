package io.cairn.message;

import io.cairn.antientropy.SegmentKeys;
import io.cairn.antientropy.SegmentTree;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.record.CorruptRecordException;
import io.cairn.record.Record;
import io.cairn.storage.StorageException;
import java.util.List;
import java.util.Objects;

/**
 * Everything nodes say to each other, as plain values. Requests and responses come in pairs: a
 * request carries its {@link Protocol}, the sender's membership epoch and a request id from that
 * protocol's id space; its response echoes the protocol and the id. The transport adds framing,
 * checksums and deadlines.
 */
public sealed interface Message {
    /** The epoch of the first membership: today's static member list. */
    long FIRST_EPOCH = 1;

    /**
     * Store this record if it is newer than what the replica holds (last-writer-wins): a
     * replicated write, a read repair or a hint hand-off, as {@code protocol} says.
     */
    record WriteRequest(Protocol protocol, long epoch, long requestId, int namespaceId, byte[] key, Record record) implements Message {
        public WriteRequest {
            if (!protocol.writes()) {
                throw new IllegalArgumentException(protocol + " does not write records");
            }
        }
    }

    /**
     * Sloppy quorum: the receiver, a fallback node, keeps this write as a durable hint for the
     * unreachable home replica {@code target} and hands it off once the target is back. Part of
     * {@link Protocol#REPLICATION}; answered with a {@link WriteResponse} of that protocol.
     */
    record HintedWrite(long epoch, long requestId, int target, int namespaceId, byte[] key, Record record) implements Message {}

    /**
     * {@code stored}: the replica now durably holds this version or a newer one; in answer to a
     * {@link HintedWrite}, the fallback durably holds a hint of it for the target.
     */
    record WriteResponse(Protocol protocol, long requestId, boolean stored, Failure error) implements Message {
        public WriteResponse {
            if (!protocol.writes()) {
                throw new IllegalArgumentException(protocol + " does not write records");
            }
            if (stored && error != null) {
                throw new IllegalArgumentException("a write response is stored or failed, not both");
            }
        }
    }

    /** Send back your stored record for this key, tombstones and expired records included. */
    record ReadRequest(Protocol protocol, long epoch, long requestId, int namespaceId, byte[] key) implements Message {
        public ReadRequest {
            if (protocol.writes()) {
                throw new IllegalArgumentException(protocol + " does not read records");
            }
        }
    }

    /** The replica's record, or null when it holds nothing; {@code error} when it could not read. */
    record ReadResponse(Protocol protocol, long requestId, Record record, Failure error) implements Message {
        public ReadResponse {
            if (protocol.writes()) {
                throw new IllegalArgumentException(protocol + " does not read records");
            }
            if (record != null && error != null) {
                throw new IllegalArgumentException("a read response carries a record or a failure, not both");
            }
        }
    }

    /**
     * Anti-entropy ({@link Protocol#EXCHANGE}): send your tree hashes of this partition, at
     * {@code level}: {@link Level#ROOT} the root alone (what agreeing replicas exchange: 8 bytes);
     * {@link Level#BRANCHES} the root followed by the {@value SegmentTree#BRANCHES} branch hashes;
     * {@link Level#LEAVES} the {@value SegmentTree#LEAVES_PER_BRANCH} segment hashes of each branch
     * named, in order (branches are named only at this level, at least one).
     */
    record TreeRequest(long epoch, long requestId, int namespaceId, int partition, Level level, int[] branches) implements Message {
        public enum Level { ROOT, BRANCHES, LEAVES }

        public TreeRequest {
            Objects.requireNonNull(level);
            if (branches.length > SegmentTree.BRANCHES || (level == Level.LEAVES) == (branches.length == 0)) {
                throw new IllegalArgumentException(branches.length + " branches at level " + level);
            }
        }

        /** How many hashes the answer holds. */
        public int answerSize() {
            return switch (level) {
                case ROOT -> 1;
                case BRANCHES -> 1 + SegmentTree.BRANCHES;
                case LEAVES -> branches.length * SegmentTree.LEAVES_PER_BRANCH;
            };
        }
    }

    /** The hashes a {@link TreeRequest} asked for, or why not ({@code not_ready}: the tree is being built). */
    record TreeResponse(long requestId, long[] hashes, Failure error) implements Message {
        public TreeResponse {
            if ((hashes == null) == (error == null)) {
                throw new IllegalArgumentException("a tree response carries hashes or a failure");
            }
        }
    }

    /** Anti-entropy: list your records in these segments of this partition (key, version, hash; no values). */
    record KeysRequest(long epoch, long requestId, int namespaceId, int partition, int[] segments) implements Message {
        public KeysRequest {
            if (segments.length == 0 || segments.length > SegmentTree.SEGMENTS) {
                throw new IllegalArgumentException(segments.length + " segments");
            }
        }
    }

    /** The listing a {@link KeysRequest} asked for, or why not. */
    record KeysResponse(long requestId, SegmentKeys keys, Failure error) implements Message {
        public KeysResponse {
            if ((keys == null) == (error == null)) {
                throw new IllegalArgumentException("a keys response carries keys or a failure");
            }
        }
    }

    /**
     * Moving a partition: the records of one namespace's partition after key {@code after} (from
     * the start when null), up to about {@code maxBytes} (at least one record). The incoming
     * replica asks each owner in turn, chunk by chunk.
     */
    record StreamRequest(long epoch, long requestId, int namespaceId, int partition, byte[] after, int maxBytes, Part part) implements Message {
        /** What a stream carries: the partition's records, or its keys' Paxos states ({@link StateStreamResponse}). */
        public enum Part { RECORDS, PAXOS_STATES }

        public StreamRequest {
            if (maxBytes < 1) {
                throw new IllegalArgumentException("a chunk of at most " + maxBytes + " bytes");
            }
            java.util.Objects.requireNonNull(part, "part");
        }

        /** A request for records. */
        public StreamRequest(long epoch, long requestId, int namespaceId, int partition, byte[] after, int maxBytes) {
            this(epoch, requestId, namespaceId, partition, after, maxBytes, Part.RECORDS);
        }
    }

    /** One stored record of a streamed partition. */
    record StreamEntry(byte[] key, Record record) {}

    /** A chunk a {@link StreamRequest} asked for, in key order; {@code done} when it reached the end of the partition. */
    record StreamResponse(long requestId, List<StreamEntry> entries, boolean done, Failure error) implements Message {
        public StreamResponse {
            if ((entries == null) == (error == null)) {
                throw new IllegalArgumentException("a stream response carries entries or a failure");
            }
            entries = entries == null ? null : List.copyOf(entries);
        }
    }

    /**
     * One key's Paxos state in a streamed partition, with the owner's record of the key as it
     * stood after the state was read ({@code record}; null when it held none). A replica stores a
     * commit's record before it notes the commit, so the record is at least as new as every commit
     * the state names: the incoming replica stores it before it joins the state, and never notes
     * a commit whose record it lacks (a prepare would take the commit as proof that the record it
     * reports is at least that new).
     */
    record StateEntry(byte[] key, io.cairn.paxos.PaxosState state, io.cairn.record.Record record) {
        /** A state from an owner that holds no record of the key. */
        public StateEntry(byte[] key, io.cairn.paxos.PaxosState state) {
            this(key, state, null);
        }
    }

    /**
     * A chunk of the Paxos states a {@link StreamRequest} of part {@link StreamRequest.Part#PAXOS_STATES}
     * asked for, in key order; {@code done} when it reached the end of the partition's states.
     */
    record StateStreamResponse(long requestId, List<StateEntry> entries, boolean done, Failure error) implements Message {
        public StateStreamResponse {
            if ((entries == null) == (error == null)) {
                throw new IllegalArgumentException("a state stream response carries entries or a failure");
            }
            entries = entries == null ? null : List.copyOf(entries);
        }
    }

    /**
     * Per-key Paxos ({@link Protocol#PAXOS}), one phase of a proposer's round on one key:
     * {@link Phase#PREPARE} (promise {@code ballot}, and send back what you accepted, what you
     * last committed and the key's stored record; {@code record} is null), {@link Phase#PROPOSE}
     * (accept {@code record} under {@code ballot} unless you promised a higher one) or
     * {@link Phase#COMMIT} ({@code record} was chosen under {@code ballot}: store it and close the
     * round). The ballot is a hybrid-clock version of the proposer, so ballots of different
     * proposers never tie.
     *
     * <p>A proposal may also carry {@code next}, a later ballot of the same proposer: a replica
     * that accepts the proposal promises {@code next} with it, so the proposer's next write of the
     * key may skip its prepare (a lease). Such a write's proposal carries {@code expected}, the
     * version of the record the lease's proposal chose: a replica refuses it when it stores a
     * newer record of the key (a plain write since).
     */
    record PaxosRequest(Phase phase, long epoch, long requestId, int namespaceId, byte[] key, io.cairn.clock.Version ballot, Record record,
                        io.cairn.clock.Version next, io.cairn.clock.Version expected)
            implements Message {
        public enum Phase { PREPARE, PROPOSE, COMMIT }

        public PaxosRequest {
            Objects.requireNonNull(phase);
            Objects.requireNonNull(ballot);
            if ((phase == Phase.PREPARE) != (record == null)) {
                throw new IllegalArgumentException("a " + phase + " " + (record == null ? "without" : "with") + " a record");
            }
            if ((next != null || expected != null) && phase != Phase.PROPOSE) {
                throw new IllegalArgumentException("a " + phase + " with a lease");
            }
            if (next != null && !next.isNewerThan(ballot)) {
                throw new IllegalArgumentException("a lease's ballot " + next + " not above the proposal's " + ballot);
            }
            if (expected != null && expected.isNewerThan(ballot)) {
                throw new IllegalArgumentException("an expected version " + expected + " above the proposal's ballot " + ballot);
            }
        }

        public PaxosRequest(Phase phase, long epoch, long requestId, int namespaceId, byte[] key, io.cairn.clock.Version ballot, Record record) {
            this(phase, epoch, requestId, namespaceId, key, ballot, record, null, null);
        }
    }

    /**
     * A replica's answer to a {@link PaxosRequest} of the same phase. {@code ok}: promised,
     * accepted or committed. Refused ({@code ok} false, no error): {@code promised} is the higher
     * ballot the replica promised. A prepare's answer also carries the accepted proposal not known
     * committed ({@code ballot} and {@code accepted}, or neither), the ballot of the newest commit
     * the replica applied, the versions of the records of its last few commits ({@code recent},
     * newest first), the newest of those it dropped to make room ({@code dropped}, null when none;
     * see {@code PaxosState}) and the key's stored record ({@code current}, tombstones included).
     */
    record PaxosResponse(PaxosRequest.Phase phase, long requestId, boolean ok, io.cairn.clock.Version promised, io.cairn.clock.Version ballot,
                         Record accepted, io.cairn.clock.Version committed, List<io.cairn.clock.Version> recent, io.cairn.clock.Version dropped,
                         Record current, Failure error)
            implements Message {
        /** The most recent commits a prepare's answer may list. */
        public static final int MAX_RECENT = 16;

        public PaxosResponse {
            Objects.requireNonNull(phase);
            recent = List.copyOf(recent);
            if (recent.size() > MAX_RECENT || (phase != PaxosRequest.Phase.PREPARE && !recent.isEmpty())) {
                throw new IllegalArgumentException(recent.size() + " recent commits in a " + phase + " answer");
            }
            if (ok && error != null) {
                throw new IllegalArgumentException("a paxos response is ok or failed, not both");
            }
            if ((ballot == null) != (accepted == null)) {
                throw new IllegalArgumentException("an accepted proposal needs its ballot and its record");
            }
            if (phase != PaxosRequest.Phase.PREPARE && (ballot != null || committed != null || dropped != null || current != null)) {
                throw new IllegalArgumentException("only a prepare's answer carries the replica's state");
            }
        }

        public static PaxosResponse failed(PaxosRequest.Phase phase, long requestId, Failure error) {
            return new PaxosResponse(phase, requestId, false, null, null, null, null, List.of(), null, null, Objects.requireNonNull(error));
        }

        public static PaxosResponse refused(PaxosRequest.Phase phase, long requestId, io.cairn.clock.Version promised) {
            return new PaxosResponse(phase, requestId, false, Objects.requireNonNull(promised), null, null, null, List.of(), null, null, null);
        }

        public static PaxosResponse done(PaxosRequest.Phase phase, long requestId) {
            return new PaxosResponse(phase, requestId, true, null, null, null, null, List.of(), null, null, null);
        }
    }

    /**
     * Why a replica did not do what was asked, typed so the coordinator can tell a corrupt copy
     * from a full disk from a refused clock, and say so to its client.
     */
    record Failure(ErrorCode code, String message) {
        public Failure {
            Objects.requireNonNull(code);
            Objects.requireNonNull(message);
        }

        /** The failure a local exception stands for. */
        public static Failure of(Throwable e) {
            ErrorCode code = switch (e) {
                case CorruptRecordException c -> ErrorCode.CORRUPT_RECORD;
                case StorageException s -> ErrorCode.STORAGE_FAILED;
                case CairnException c -> c.code();
                default -> ErrorCode.INTERNAL;
            };
            return new Failure(code, String.valueOf(e.getMessage()));
        }
    }

    /**
     * A heartbeat; the receiver answers with a {@link Pong} carrying the same sequence, whatever
     * the epochs (liveness does not depend on membership). A ping is how a node first learns that
     * a peer is at a newer epoch.
     *
     * @param epoch        the sender's membership epoch
     * @param sentAtMillis the sender's physical clock when it sent the ping (never negative)
     */
    record Ping(long epoch, long sequence, long sentAtMillis) implements Message {}

    /**
     * The answer to a {@link Ping}, from which the pinger estimates its clock offset to the ponger.
     *
     * @param pingSentAtMillis the ping's {@code sentAtMillis}, echoed
     * @param sentAtMillis     the ponger's physical clock when it answered (never negative)
     */
    record Pong(long sequence, long pingSentAtMillis, long sentAtMillis) implements Message {}
}
