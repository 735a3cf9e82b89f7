package io.cairn.message;

/**
 * The protocol a request belongs to. Each has its own owner on the receiving side of the answer,
 * its own table of requests awaiting answers and its own space of request ids, so an answer is
 * routed by its protocol, never by probing tables, and two protocols can never confuse each other's
 * ids. The response to a request echoes its protocol.
 *
 * <p>Heartbeats ({@link Message.Ping}/{@link Message.Pong}) are a family of their own, matched by
 * sequence. Later protocols (streaming partitions, anti-entropy, Paxos) take new values: a node
 * refuses a value it does not know as a malformed frame.
 */
public enum Protocol {
    /** A coordinator replicating a client's write to home replicas (and, sloppy, to fallbacks). */
    REPLICATION(1),
    /** A coordinator bringing a stale replica up to the newest version a read found. */
    REPAIR(2),
    /** A node handing a stored hint to the replica it was kept for. */
    HANDOFF(3),
    /** A coordinator's quorum read. */
    READ(4),
    /** A coordinator asking every home replica for its copy of a key, for operators. */
    INSPECTION(5),
    /**
     * Anti-entropy between two replicas of a partition: tree and key listings
     * ({@link Message.TreeRequest}, {@link Message.KeysRequest}) and fetches of the records the
     * asking replica is missing (read requests).
     */
    EXCHANGE(6),
    /** Anti-entropy: a replica handing a peer the records it found the peer missing. */
    EXCHANGE_PUSH(7),
    /**
     * Moving a partition: an incoming replica fetching it chunk by chunk from its owners
     * ({@link Message.StreamRequest}, {@link Message.StreamResponse}); never in a write or read message.
     */
    STREAM(8),
    /**
     * Per-key Paxos: a proposer's prepare, propose and commit ({@link Message.PaxosRequest},
     * {@link Message.PaxosResponse}); never in a write or read message.
     */
    PAXOS(9);

    private final int wire;

    Protocol(int wire) {
        this.wire = wire;
    }

    /** The byte that names the protocol on the wire. */
    public int wire() {
        return wire;
    }

    /** The protocol named by a wire byte, or null for one this version does not know. */
    public static Protocol fromWire(int wire) {
        for (Protocol p : values()) {
            if (p.wire == wire) {
                return p;
            }
        }
        return null;
    }

    /** Whether this protocol travels in write and read messages (every one but {@link #STREAM} and {@link #PAXOS}). */
    public boolean recordMessages() {
        return this != STREAM && this != PAXOS;
    }

    /** Whether requests of this protocol are writes of a record (else reads of one). */
    public boolean writes() {
        return this == REPLICATION || this == REPAIR || this == HANDOFF || this == EXCHANGE_PUSH;
    }
}
