package io.cairn.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.antientropy.KeyVersion;
import io.cairn.antientropy.PurgeGate;
import io.cairn.antientropy.SegmentKeys;
import io.cairn.replica.ReplicaAntiEntropy;
import io.cairn.clock.HybridClock;
import io.cairn.clock.ManualClock;
import io.cairn.request.Answer;
import io.cairn.request.OpResult;
import io.cairn.membership.Member;
import io.cairn.error.ErrorCode;
import io.cairn.message.Message;
import io.cairn.message.Protocol;
import io.cairn.message.MessageCodec;
import io.cairn.namespace.Namespace;
import io.cairn.property.Gen;
import io.cairn.property.Trials;
import io.cairn.placement.Quorum;
import io.cairn.record.Record;
import io.cairn.replica.LocalReplica;
import io.cairn.replica.LocalStore;
import io.cairn.request.Limits;
import io.cairn.request.Op;
import io.cairn.storage.Durability;
import io.cairn.storage.MemoryEngine;
import io.cairn.clock.Version;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A node fed arbitrary well-formed messages from its peers — any field value the codec lets
 * through, request ids aimed at its own pending requests, timestamps and sender clocks up to
 * {@code Long.MAX_VALUE} — between client requests and timer runs: nothing it receives may throw out of
 * {@link ClusterNode#onMessage}, its clock never moves beyond the max offset, and no record from
 * beyond the bound is stored or answered to a client.
 */
class ClusterNodeHostileInputProperties {
    private static final long T = 1_700_000_000_000L;
    private static final long MAX_OFFSET = 500;

    @Test
    void nothingAPeerSendsThrowsMovesTheClockBeyondTheBoundOrReachesAClient() {
        Trials.run(0x4057_11EL, 150, 200, gen -> {
            ManualClock wall = new ManualClock(T);
            ManualScheduler scheduler = new ManualScheduler(wall);
            MemoryEngine engine = new MemoryEngine();
            HybridClock clock = new HybridClock(wall, 1, MAX_OFFSET);
            LocalReplica replica = new LocalReplica(engine, clock, Durability.SYNC, 0, Limits.DEFAULTS,
                    new ReplicaAntiEntropy(true, PurgeGate.ALONE, 1_000));
            for (int i = 0; i < 3; i++) {
                replica.scrub(1_000, Long.MAX_VALUE);
            }
            Namespace ns = Namespace.defaults(0);
            List<Member> members = List.of(new Member(1, "a", "h1:80", "h1:7000"), new Member(2, "b", "h2:80", "h2:7000"),
                    new Member(3, "c", "h3:80", "h3:7000"));
            List<Message> sent = new ArrayList<>();
            List<Answer> answers = new ArrayList<>();
            ClusterNode node = new ClusterNode(1, members, List.of(ns), null, new ClusterSettings(3, 100, 8.0, 3_600_000, 200, 4,
                    CoordinatorSettings.DEFAULTS.withSloppyQuorum(gen.chance(0.5))), clock, (to, m) -> sent.add(m), scheduler,
                    LocalStore.direct(replica, engine), engine);
            node.start();
            long highestPhysical = T;
            List<byte[]> keys = List.of(new byte[] {'a'}, new byte[] {'b'}, new byte[] {'c'});
            for (int step = 0; step < gen.size(); step++) {
                switch (gen.between(0, 9)) {
                    case 0 -> node.put(ns, gen.pick(keys), gen.bytes(8), null, Op.NO_TTL, gen.pick(Quorum.ONE, Quorum.MAJORITY, Quorum.ALL),
                            answers::add);
                    case 1 -> node.get(ns, gen.pick(keys), gen.pick(Quorum.ONE, Quorum.MAJORITY, Quorum.ALL), answers::add);
                    case 4 -> node.serialWrite(ns, new Op.Put(gen.pick(keys), gen.bytes(8), null, Op.NO_TTL,
                            gen.chance(0.5) ? io.cairn.request.Condition.ifAbsent() : io.cairn.request.Condition.NONE), answers::add);
                    case 5 -> node.serialGet(ns, gen.pick(keys), answers::add);
                    case 2 -> scheduler.runFor(gen.between(0L, 300L));
                    case 3 -> wall.advance(gen.between(-50L, 50L));
                    default -> {
                        Message m = hostile(gen, sent, keys, wall.nowMillis());
                        // What the wire would deliver: the codec's form of the message and its sender's clock.
                        MessageCodec.Clocked heard = MessageCodec.decodeClocked(MessageCodec.encode(senderClock(gen, wall.nowMillis()), m));
                        node.onMessage(gen.between(2, 3), heard.senderClock(), heard.message());
                    }
                }
                highestPhysical = Math.max(highestPhysical, wall.nowMillis());
                assertThat(clock.lastTimestamp() >>> Version.LOGICAL_BITS).isLessThanOrEqualTo(highestPhysical + MAX_OFFSET + 1);
                for (byte[] key : keys) {
                    Record stored = replica.readStored(ns, key);
                    if (stored != null) {
                        assertThat(stored.version().physicalMillis()).isLessThanOrEqualTo(highestPhysical + MAX_OFFSET);
                    }
                }
            }
            for (Answer r : answers) {
                if (r.result() instanceof OpResult.Found f) {
                    assertThat(f.record().version().physicalMillis()).isLessThanOrEqualTo(highestPhysical + MAX_OFFSET);
                }
            }
        });
    }

    /** A message a hostile or broken peer might send; request ids often those of real requests. */
    private static Message hostile(Gen gen, List<Message> sent, List<byte[]> keys, long now) {
        long id = !sent.isEmpty() && gen.chance(0.7) ? requestId(gen.pick(sent)) : gen.anyLong();
        int namespace = gen.pick(Namespace.DEFAULT_ID, Namespace.DEFAULT_ID, 2, (int) gen.anyLong());
        byte[] key = gen.chance(0.8) ? gen.pick(keys) : gen.bytes(1, 2_000);
        return switch (gen.between(0, 13)) {
            case 12 -> {
                Message.PaxosRequest.Phase phase = gen.pick(Message.PaxosRequest.Phase.values());
                Record r = record(gen, now);
                Version ballot = gen.chance(0.5) ? r.version() : record(gen, now).version();
                yield new Message.PaxosRequest(phase, Message.FIRST_EPOCH, id, namespace, key, ballot, phase == Message.PaxosRequest.Phase.PREPARE ? null : r);
            }
            case 13 -> {
                Message.PaxosRequest.Phase phase = gen.pick(Message.PaxosRequest.Phase.values());
                if (gen.chance(0.3)) {
                    yield Message.PaxosResponse.refused(phase, id, record(gen, now).version());
                }
                if (phase != Message.PaxosRequest.Phase.PREPARE) {
                    yield Message.PaxosResponse.done(phase, id);
                }
                Record accepted = gen.chance(0.5) ? record(gen, now) : null;
                yield new Message.PaxosResponse(phase, id, true, record(gen, now).version(), accepted == null ? null : accepted.version(), accepted,
                        gen.chance(0.5) ? record(gen, now).version() : null, gen.chance(0.5) ? List.of(record(gen, now).version()) : List.of(),
                        gen.chance(0.5) ? record(gen, now).version() : null, gen.chance(0.5) ? record(gen, now) : null, null);
            }
            case 11 -> gen.chance(0.5)
                    ? new Message.StreamRequest(Message.FIRST_EPOCH, id, namespace, gen.between(0, 300), gen.chance(0.5) ? null : key,
                            gen.between(1, Integer.MAX_VALUE), gen.pick(Message.StreamRequest.Part.values()))
                    : gen.chance(0.2) ? new Message.StreamResponse(id, null, false, new Message.Failure(ErrorCode.NOT_READY, "later"))
                    : gen.chance(0.5) ? new Message.StateStreamResponse(id, states(gen, keys, now), gen.chance(0.5), null)
                    : new Message.StreamResponse(id, streamed(gen, keys, now), gen.chance(0.5), null);
            case 7 -> gen.chance(0.5) ? new Message.TreeRequest(Message.FIRST_EPOCH, id, namespace, gen.between(0, 0xFFFF),
                    gen.pick(Message.TreeRequest.Level.ROOT, Message.TreeRequest.Level.BRANCHES), new int[0])
                    : new Message.TreeRequest(Message.FIRST_EPOCH, id, namespace, gen.between(0, 0xFFFF), Message.TreeRequest.Level.LEAVES,
                    distinct(gen, gen.between(1, 64), 64));
            case 8 -> gen.chance(0.3) ? new Message.TreeResponse(id, null, new Message.Failure(ErrorCode.NOT_READY, "later"))
                    : new Message.TreeResponse(id, hashes(gen, gen.pick(1, 65, 64, 128, 64 * 16)), null);
            case 9 -> gen.chance(0.5) ? new Message.KeysRequest(Message.FIRST_EPOCH, id, namespace, gen.between(0, 300), distinct(gen, gen.between(1, 50), 4096))
                    : new Message.KeysResponse(id, new SegmentKeys(listing(gen, keys, now), gen.chance(0.3)), null);
            case 10 -> gen.chance(0.5) ? new Message.ReadResponse(Protocol.EXCHANGE, id, gen.chance(0.2) ? null : record(gen, now), null)
                    : new Message.WriteResponse(Protocol.EXCHANGE_PUSH, id, gen.chance(0.5), null);
            case 0 -> new Message.WriteRequest(Protocol.REPLICATION, Message.FIRST_EPOCH, id, namespace, key, record(gen, now));
            case 1 -> new Message.HintedWrite(Message.FIRST_EPOCH, id, gen.between(1, 5), namespace, key, record(gen, now));
            case 2 -> gen.chance(0.5) ? new Message.WriteResponse(Protocol.REPLICATION, id, true, null)
                    : new Message.WriteResponse(Protocol.REPLICATION, id, false, gen.chance(0.5) ? null : new Message.Failure(ErrorCode.values()[gen.between(0, ErrorCode.values().length - 1)], "no"));
            case 3 -> new Message.ReadRequest(Protocol.READ, Message.FIRST_EPOCH, id, namespace, key);
            case 4 -> gen.chance(0.2) ? new Message.ReadResponse(Protocol.READ, id, null, new Message.Failure(ErrorCode.values()[gen.between(0, ErrorCode.values().length - 1)], "failed"))
                    : new Message.ReadResponse(Protocol.READ, id, gen.chance(0.2) ? null : record(gen, now), null);
            case 5 -> new Message.Ping(Message.FIRST_EPOCH, gen.anyLong(), gen.between(0L, Long.MAX_VALUE));
            default -> new Message.Pong(gen.anyLong(), gen.chance(0.5) ? now - gen.between(0L, 100L) : gen.between(0L, Long.MAX_VALUE),
                    gen.between(0L, Long.MAX_VALUE));
        };
    }

    private static int[] distinct(Gen gen, int n, int bound) {
        java.util.LinkedHashSet<Integer> set = new java.util.LinkedHashSet<>();
        while (set.size() < n) {
            set.add(gen.between(0, bound - 1));
        }
        return set.stream().mapToInt(Integer::intValue).toArray();
    }

    private static long[] hashes(Gen gen, int n) {
        long[] h = new long[n];
        for (int i = 0; i < n; i++) {
            h[i] = gen.chance(0.5) ? 0 : gen.anyLong();
        }
        return h;
    }

    private static List<KeyVersion> listing(Gen gen, List<byte[]> keys, long now) {
        List<KeyVersion> out = new ArrayList<>();
        for (int i = gen.between(0, 4); i > 0; i--) {
            byte[] key = gen.chance(0.8) ? gen.pick(keys) : gen.bytes(1, 40);
            out.add(gen.chance(0.1) ? new KeyVersion(key, null, false, 0, gen.anyLong(), gen.between(0, 100))
                    : KeyVersion.of(key, record(gen, now)));
        }
        if (gen.chance(0.5)) {
            out.sort((a, b) -> java.util.Arrays.compareUnsigned(a.key(), b.key()));
        }
        return out;
    }

    /** Stream entries in key order (or a failure when none are generated), as the codec requires. */
    private static List<Message.StreamEntry> streamed(Gen gen, List<byte[]> keys, long now) {
        java.util.TreeMap<byte[], Record> entries = new java.util.TreeMap<>(java.util.Arrays::compareUnsigned);
        for (int i = gen.between(0, 3); i > 0; i--) {
            entries.put(gen.chance(0.8) ? gen.pick(keys) : gen.bytes(1, 40), record(gen, now));
        }
        List<Message.StreamEntry> out = new ArrayList<>();
        entries.forEach((k, r) -> out.add(new Message.StreamEntry(k, r)));
        return out;
    }

    /** Paxos states in key order, ballots anywhere the record generator puts versions (some far ahead of the clock). */
    private static List<Message.StateEntry> states(Gen gen, List<byte[]> keys, long now) {
        java.util.TreeMap<byte[], io.cairn.paxos.PaxosState> entries = new java.util.TreeMap<>(java.util.Arrays::compareUnsigned);
        for (int i = gen.between(0, 3); i > 0; i--) {
            Record accepted = record(gen, now);
            Version promised = gen.chance(0.5) ? accepted.version() : record(gen, now).version();
            io.cairn.paxos.PaxosState state = gen.chance(0.5) && promised.compareTo(accepted.version()) >= 0
                    ? new io.cairn.paxos.PaxosState(promised, accepted.version(), accepted, null, List.of())
                    : new io.cairn.paxos.PaxosState(promised, null, null, gen.chance(0.5) ? record(gen, now).version() : null, List.of(record(gen, now).version()));
            entries.put(gen.chance(0.8) ? gen.pick(keys) : gen.bytes(1, 40), state);
        }
        List<Message.StateEntry> out = new ArrayList<>();
        entries.forEach((k, st) -> out.add(new Message.StateEntry(k, st)));
        return out;
    }

    private static long requestId(Message m) {
        return switch (m) {
            case Message.StreamRequest r -> r.requestId();
            case Message.StreamResponse r -> r.requestId();
            case Message.StateStreamResponse r -> r.requestId();
            case Message.TreeRequest t -> t.requestId();
            case Message.TreeResponse t -> t.requestId();
            case Message.KeysRequest k -> k.requestId();
            case Message.KeysResponse k -> k.requestId();
            case Message.WriteRequest w -> w.requestId();
            case Message.HintedWrite h -> h.requestId();
            case Message.ReadRequest r -> r.requestId();
            case Message.WriteResponse w -> w.requestId();
            case Message.ReadResponse r -> r.requestId();
            case Message.PaxosRequest r -> r.requestId();
            case Message.PaxosResponse r -> r.requestId();
            case Message.Ping p -> p.sequence();
            case Message.Pong p -> p.sequence();
        };
    }

    /** A sender's clock: none, near this node's, at the bound, far ahead, or the largest there is. */
    private static long senderClock(Gen gen, long now) {
        return switch (gen.between(0, 5)) {
            case 0 -> 0;
            case 1 -> Version.pack(Math.max(0, now + gen.between(-2_000L, 2_000L)), gen.between(0, 0xFFFF));
            case 2 -> Version.pack(now + MAX_OFFSET + gen.between(-2L, 2L), gen.between(0, 0xFFFF));
            case 3 -> Version.pack(gen.between(0L, Version.MAX_PHYSICAL_MILLIS), 0);
            case 4 -> Long.MAX_VALUE;
            default -> Version.pack(now, 0);
        };
    }

    private static Record record(Gen gen, long now) {
        long physical = switch (gen.between(0, 4)) {
            case 0 -> now + gen.between(-2_000L, 2_000L);
            case 1 -> now + MAX_OFFSET + gen.between(-2L, 2L);
            case 2 -> Version.MAX_PHYSICAL_MILLIS;
            case 3 -> gen.between(0L, Version.MAX_PHYSICAL_MILLIS);
            default -> now;
        };
        Version v = gen.chance(0.05) ? new Version(Long.MAX_VALUE, gen.between(1, 3))
                : new Version(Version.pack(Math.clamp(physical, 0, Version.MAX_PHYSICAL_MILLIS), gen.between(0, 0xFFFF)), gen.between(1, 0xFFFF));
        if (gen.chance(0.2)) {
            return Record.tombstone(v);
        }
        long expiry = gen.pick(Record.NO_EXPIRY, now + 1_000, Long.MAX_VALUE, gen.between(1L, Long.MAX_VALUE));
        return Record.value(v, expiry, gen.chance(0.5) ? null : "text/plain", gen.bytes(16));
    }
}
