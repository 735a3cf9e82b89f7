package io.cairn.testkit;

import io.cairn.message.Message;
import io.cairn.message.MessageCodec;
import io.cairn.placement.KeyHash;
import io.cairn.record.Record;
import io.cairn.clock.Version;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.StringJoiner;
import java.util.function.Consumer;

/**
 * The simulated network between nodes: every message is encoded with {@link MessageCodec} on send,
 * stamped with the sender's hybrid clock as the production transport stamps it, and decoded on
 * delivery, delayed by 1 ms to the seed's maximum (so messages reorder), and lost, duplicated or
 * badly delayed where the seed's fault points say so. Partitions block links one way or both.
 *
 * <p>A message is addressed to the incarnation of its destination that was up when it was sent,
 * like a TCP connection: if that incarnation crashes, the message is never delivered. Messages a
 * crashed sender left in flight may die with it (CRASH_LOSES_SENDS).
 *
 * <p>HOSTILE_RECORD turns a sender hostile for one message: beside a message carrying a record it
 * sends a forged copy (same request id and key, a valid checksum) whose record is stamped at the
 * largest timestamp or far beyond the max clock offset, and claims that timestamp (at most the
 * largest physical time) as the sender's clock. Forged records are not shown to the
 * invariants on the wire; if one is ever stored or answered, the clock invariants catch it.
 */
final class SimNetwork {
    private final EventLoop loop;
    private final SplittableRandom random;
    private final Buggify buggify;
    private final Trace trace;
    private final Counters counters;
    private final Invariants invariants;
    private final SimNode[] nodes;
    private final long maxDelayMillis;
    /** Told of every successful write acknowledgement a replica sends (for CRASH_AFTER_ACK). */
    private final Consumer<SimNode> onWriteAcknowledged;
    // Invariant: blocked[a][b] means messages from node a+1 to node b+1 are lost.
    private final boolean[][] blocked;
    private boolean partitioned;
    private long forged;
    /** Told of every Paxos proposal sent (a proposal a majority accepted went to at least one peer). */
    Consumer<Message.PaxosRequest> onProposal = r -> { };

    SimNetwork(EventLoop loop, SplittableRandom random, Buggify buggify, Trace trace, Counters counters, Invariants invariants,
               SimNode[] nodes, long maxDelayMillis, Consumer<SimNode> onWriteAcknowledged) {
        this.loop = loop;
        this.random = random;
        this.buggify = buggify;
        this.trace = trace;
        this.counters = counters;
        this.invariants = invariants;
        this.nodes = nodes;
        this.maxDelayMillis = maxDelayMillis;
        this.onWriteAcknowledged = onWriteAcknowledged;
        this.blocked = new boolean[nodes.length][nodes.length];
    }

    void send(SimNode from, int incarnation, int to, Message m) {
        from.requireLive(incarnation, "sent " + m.getClass().getSimpleName());
        byte[] bytes = MessageCodec.encode(from.hlc.lastTimestamp(), m);
        switch (m) {
            case Message.WriteRequest w -> invariants.observe(w.record(), "a write request from " + from);
            case Message.HintedWrite h -> invariants.observe(h.record(), "a hinted write from " + from);
            case Message.ReadResponse r when r.record() != null -> invariants.observe(r.record(), "a read response from " + from);
            case Message.PaxosRequest r when r.record() != null -> {
                invariants.observe(r.record(), "a paxos " + r.phase() + " from " + from);
                if (r.phase() == Message.PaxosRequest.Phase.PROPOSE) {
                    onProposal.accept(r);
                }
            }
            case Message.PaxosResponse r -> {
                if (r.accepted() != null) {
                    invariants.observe(r.accepted(), "a paxos promise from " + from);
                }
                if (r.current() != null) {
                    invariants.observe(r.current(), "a paxos promise from " + from);
                }
            }
            default -> { }
        }
        counters.add("messages");
        trace.mix(loop.now(), from.id, to, KeyHash.xxh64(bytes));
        if (to < 1 || to > nodes.length) {
            throw new SimulationFailure(new Violation(Violation.Kind.INVARIANT, loop.now(), from + " sent to unknown node " + to));
        }
        SimNode dest = nodes[to - 1];
        String lost = !dest.up ? "destination down"
                : blocked[from.id - 1][to - 1] ? "partitioned"
                : buggify.fires(FaultPoint.MESSAGE_DROP) ? "dropped" : null;
        if (lost != null) {
            counters.add("messages.lost");
            trace.line(loop.now(), () -> "n" + from.id + " -> n" + to + " " + describe(m) + " LOST (" + lost + ")");
        } else {
            int copies = buggify.fires(FaultPoint.MESSAGE_DUPLICATE) ? 2 : 1;
            for (int i = 0; i < copies; i++) {
                long delay = 1 + random.nextLong(maxDelayMillis);
                if (buggify.fires(FaultPoint.MESSAGE_LONG_DELAY)) {
                    delay += 100 + random.nextLong(2_901);
                }
                long d = delay;
                String copy = i > 0 ? " (duplicate)" : "";
                trace.line(loop.now(), () -> "n" + from.id + " -> n" + to + " " + describe(m) + " in " + d + "ms" + copy);
                loop.schedule(delay, to - 1, dest.incarnation, () -> deliver(from, incarnation, dest, bytes));
            }
            if (copies > 1) {
                counters.add("messages.duplicated");
            }
            maybeForge(from, incarnation, dest, m);
        }
        if (m instanceof Message.WriteResponse w && w.stored()) {
            onWriteAcknowledged.accept(from);
        }
    }

    /** The HOSTILE_RECORD fault: a forged copy of a message that carries a record, stamped in the far future. */
    private void maybeForge(SimNode from, int incarnation, SimNode dest, Message m) {
        Record real = switch (m) {
            case Message.WriteRequest w -> w.record();
            case Message.HintedWrite h -> h.record();
            case Message.ReadResponse r -> r.record();
            default -> null;
        };
        if (real == null || !buggify.fires(FaultPoint.HOSTILE_RECORD)) {
            return;
        }
        long timestamp = switch (random.nextInt(4)) {
            case 0 -> Long.MAX_VALUE;
            case 1 -> Version.pack(Version.MAX_PHYSICAL_MILLIS, 0);
            case 2 -> Version.pack(invariants.maxPhysical() + 3_600_000, random.nextInt(1 << Version.LOGICAL_BITS));
            default -> Version.pack(invariants.recordBound() + 1 + random.nextLong(5_000), random.nextInt(1 << Version.LOGICAL_BITS));
        };
        Version v = new Version(timestamp, from.id);
        Record poison = random.nextInt(4) == 0 ? Record.tombstone(v)
                : Record.value(v, Record.NO_EXPIRY, "text/plain", ("forged/" + forged++).getBytes(StandardCharsets.UTF_8));
        invariants.forged(v);
        Message copy = switch (m) {
            case Message.WriteRequest w -> new Message.WriteRequest(w.protocol(), w.epoch(), w.requestId(), w.namespaceId(), w.key(), poison);
            case Message.HintedWrite h -> new Message.HintedWrite(h.epoch(), h.requestId(), h.target(), h.namespaceId(), h.key(), poison);
            case Message.ReadResponse r -> new Message.ReadResponse(r.protocol(), r.requestId(), poison, null);
            default -> throw new IllegalStateException("no record in " + m);
        };
        // The forged frame claims the forged version as its sender's clock too: the clock every frame
        // carries is as hostile as its records. Long.MAX_VALUE becomes the largest physical time: as a
        // clock it would exhaust the NO_CLOCK_BOUND canary's HLC within this very step (an exception,
        // not the clock violation that canary is caught by); bounded nodes refuse both alike, and
        // ClusterNodeHostileInputProperties sends Long.MAX_VALUE itself.
        long senderClock = timestamp == Long.MAX_VALUE ? Version.pack(Version.MAX_PHYSICAL_MILLIS, 0) : timestamp;
        byte[] bytes = MessageCodec.encode(senderClock, copy);
        counters.add("messages.forged");
        long delay = 1 + random.nextLong(maxDelayMillis);
        trace.mix(loop.now(), from.id, dest.id, KeyHash.xxh64(bytes));
        trace.line(loop.now(), () -> "n" + from.id + " -> n" + dest.id + " FORGED " + describe(copy) + " in " + delay + "ms");
        loop.schedule(delay, dest.id - 1, dest.incarnation, () -> deliver(from, incarnation, dest, bytes));
    }

    private void deliver(SimNode sender, int senderIncarnation, SimNode dest, byte[] bytes) {
        int from = sender.id;
        if (!dest.up) {
            throw new SimulationFailure(new Violation(Violation.Kind.INVARIANT, loop.now(), "a message was delivered to crashed " + dest));
        }
        String lost = blocked[from - 1][dest.id - 1] ? "partitioned"
                : sender.incarnation != senderIncarnation && buggify.fires(FaultPoint.CRASH_LOSES_SENDS) ? "sender crashed" : null;
        if (lost != null) {
            counters.add("messages.lost");
            trace.line(loop.now(), () -> "n" + from + " -> n" + dest.id + " LOST in flight (" + lost + ")");
            return;
        }
        MessageCodec.Clocked clocked = MessageCodec.decodeClocked(bytes);
        Message m = clocked.message();
        trace.line(loop.now(), () -> "n" + dest.id + " <- n" + from + " " + describe(m));
        dest.cluster.onMessage(from, clocked.senderClock(), m);
    }

    boolean partitioned() {
        return partitioned;
    }

    /**
     * Whether node {@code id} can talk both ways with a majority of {@code members} (itself
     * included): what it takes to reach the metadata log's leader and hear from it.
     */
    boolean reachesMajority(int id, List<Integer> members) {
        int reachable = 0;
        for (int other : members) {
            reachable += other == id || (!blocked[id - 1][other - 1] && !blocked[other - 1][id - 1]) ? 1 : 0;
        }
        return reachable > members.size() / 2;
    }

    /** Cuts the cluster in two (one node alone, or a random split) for a while, one way or both. */
    void partition() {
        int n = nodes.length;
        boolean[] side = new boolean[n];
        if (random.nextBoolean()) {
            side[random.nextInt(n)] = true;
        } else {
            int inSide = 0;
            for (int i = 0; i < n; i++) {
                side[i] = random.nextBoolean();
                inSide += side[i] ? 1 : 0;
            }
            if (inSide == 0 || inSide == n) {
                Arrays.fill(side, false);
                side[random.nextInt(n)] = true;
            }
        }
        boolean oneWay = buggify.fires(FaultPoint.ONE_WAY_PARTITION);
        for (int a = 0; a < n; a++) {
            for (int b = 0; b < n; b++) {
                if (side[a] && !side[b]) {
                    blocked[a][b] = true;
                    if (!oneWay) {
                        blocked[b][a] = true;
                    }
                }
            }
        }
        partitioned = true;
        counters.add("partitions");
        long duration = 500 + random.nextLong(9_501);
        trace.mix(loop.now(), Arrays.hashCode(side), oneWay ? 1 : 0, duration);
        trace.line(loop.now(), () -> (oneWay ? "one-way partition " : "partition ") + describeSides(side) + " for " + duration + "ms");
        loop.schedule(duration, -1, 0, this::heal);
    }

    void heal() {
        if (!partitioned) {
            return;
        }
        for (boolean[] row : blocked) {
            Arrays.fill(row, false);
        }
        partitioned = false;
        trace.mix(loop.now(), 0x4EA1, 0, 0);
        trace.line(loop.now(), () -> "partition heals");
    }

    private static String describeSides(boolean[] side) {
        StringJoiner a = new StringJoiner(",", "{", "}");
        StringJoiner b = new StringJoiner(",", "{", "}");
        for (int i = 0; i < side.length; i++) {
            (side[i] ? a : b).add("n" + (i + 1));
        }
        return a + " -/- " + b;
    }

    static String describe(Message m) {
        return switch (m) {
            case Message.WriteRequest w -> "WriteRequest#" + w.requestId() + " " + str(w.key()) + " " + w.record();
            case Message.HintedWrite h -> "HintedWrite#" + h.requestId() + " for n" + h.target() + " " + str(h.key()) + " " + h.record();
            case Message.WriteResponse w -> "WriteResponse#" + w.requestId() + (w.stored() ? " stored" : " refused " + w.error());
            case Message.ReadRequest r -> "ReadRequest#" + r.requestId() + " " + str(r.key());
            case Message.ReadResponse r -> "ReadResponse#" + r.requestId() + " " + (r.error() != null ? "error " + r.error() : r.record());
            case Message.TreeRequest t -> "TreeRequest#" + t.requestId() + " ns" + t.namespaceId() + "/p" + t.partition() + " " + t.level() + " " + Arrays.toString(t.branches());
            case Message.TreeResponse t -> "TreeResponse#" + t.requestId() + (t.error() != null ? " error " + t.error() : " " + t.hashes().length + " hashes");
            case Message.KeysRequest k -> "KeysRequest#" + k.requestId() + " ns" + k.namespaceId() + "/p" + k.partition() + " " + k.segments().length + " segments";
            case Message.KeysResponse k -> "KeysResponse#" + k.requestId() + (k.error() != null ? " error " + k.error()
                    : " " + k.keys().keys().size() + " keys" + (k.keys().truncated() ? " (truncated)" : ""));
            case Message.StreamRequest r -> "StreamRequest#" + r.requestId() + " " + r.part() + " ns" + r.namespaceId() + "/p" + r.partition()
                    + (r.after() == null ? " from the start" : " after " + str(r.after()));
            case Message.StateStreamResponse r -> "StateStreamResponse#" + r.requestId() + (r.error() != null ? " error " + r.error()
                    : " " + r.entries().size() + " paxos states" + (r.done() ? " (done)" : ""));
            case Message.StreamResponse r -> "StreamResponse#" + r.requestId() + (r.error() != null ? " error " + r.error()
                    : " " + r.entries().size() + " records" + (r.done() ? " (done)" : ""));
            case Message.PaxosRequest r -> "Paxos" + r.phase() + "#" + r.requestId() + " " + str(r.key()) + " ballot " + r.ballot()
                    + (r.record() == null ? "" : " " + r.record());
            case Message.PaxosResponse r -> "Paxos" + r.phase() + "Response#" + r.requestId() + (r.error() != null ? " error " + r.error()
                    : r.ok() ? " ok" + (r.ballot() != null ? " accepted " + r.ballot() + " " + r.accepted() : "")
                    + (r.committed() != null ? " committed " + r.committed() : "") + (r.current() != null ? " current " + r.current() : "")
                    : " refused, promised " + r.promised());
            case Message.Ping p -> "Ping " + p.sequence() + " at " + p.sentAtMillis();
            case Message.Pong p -> "Pong " + p.sequence() + " at " + p.sentAtMillis() + " for " + p.pingSentAtMillis();
        };
    }

    private static String str(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
