package io.cairn.testkit;

import io.cairn.cluster.VersionCeiling;
import io.cairn.namespace.Namespace;
import io.cairn.placement.KeyHash;
import io.cairn.record.Record;
import io.cairn.record.RecordCodec;
import io.cairn.storage.Durability;
import io.cairn.clock.Version;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The invariants checked after every step of a run, on the node(s) the step touched.
 *
 * <ul>
 *   <li>A node's HLC never goes backwards within an incarnation, and a restarted node never issues
 *       a version at or below one it issued before the crash (the HLC high-water mark must survive).
 *   <li>Two different records never carry the same version.
 *   <li>A replica's stored version of a key never decreases (except that a tombstone or a record
 *       with an expiry may be purged, leaving nothing; a copy found corrupt on disk is skipped
 *       until it is repaired) — across crashes too, because with
 *       SYNC durability nothing acknowledged is unsynced. Only a node deliberately run with ASYNC
 *       durability (the canary) may lose versions in a crash; the history checkers must then
 *       notice what that cost.
 *   <li>Clocks ({@link Violation.Kind#CLOCK}): no node's HLC runs more than the max clock offset
 *       ahead of the largest physical clock reading in the cluster so far — except, after a
 *       restart, up to where the persisted version ceiling put it, which is itself within the
 *       offset plus the ceiling lease; and no record stored on a disk, kept as a hint or answered
 *       to a client is stamped beyond that offset plus lease. HLCs only ever take their own
 *       physical time and timestamps their node admitted (within the offset of its own physical
 *       time), so a clock beyond this bound was dragged by a timestamp the max-offset rule should
 *       have refused.
 * </ul>
 * Records are re-read only after a step that wrote to the node's disk, which keeps this cheap.
 */
final class Invariants {
    private final Namespace namespace;
    private final List<String> keys;
    private final List<byte[]> keyBytes = new ArrayList<>();
    private final LongSupplier now;
    private final long maxClockOffsetMillis;
    private final Map<Integer, NodeState> nodes = new HashMap<>();
    private final List<SimNode> simNodes = new ArrayList<>();
    // The largest physical clock reading any node had before its clock last stepped.
    private long maxPhysicalBeforeSteps;
    // Per issuing node id: version timestamp → fingerprint of the record first seen with it.
    private final Map<Integer, Map<Long, Long>> seen = new HashMap<>();
    private final Map<Integer, Long> maxSeen = new HashMap<>();
    // Per node id: versions first seen at or below this were issued before its latest restart.
    private final Map<Integer, Long> restartFloor = new HashMap<>();
    // Versions the network forged in a member's name: never issued by that member.
    private final java.util.Set<Version> forged = new java.util.HashSet<>();
    private final Map<Integer, Durability> durability = new HashMap<>();
    // Versions an ASYNC node lost in its crashes (only the canary has one).
    private long lostInCrashes;

    private static final class NodeState {
        long hlc;
        // The physical part of the HLC right after the latest restart (the ceiling it observed).
        long startFloorMillis;
        long diskWrites = -1;
        // The newest membership epoch the node applied, across restarts: it never goes back.
        long epoch;
        Version[] stored;
        // Per key: the latest epoch in which the node did not hold the key's partition, while it
        // may still be dropping it (0 once it applied an epoch that gives the partition back).
        long[] released;
        // Whether the stored version is a tombstone or expires: a purge may take it away.
        boolean[] purgeable;
    }

    Invariants(Namespace namespace, List<String> keys, LongSupplier now, long maxClockOffsetMillis) {
        this.namespace = namespace;
        this.keys = keys;
        this.now = now;
        this.maxClockOffsetMillis = maxClockOffsetMillis;
        for (String k : keys) {
            keyBytes.add(Simulation.bytes(k));
        }
    }

    // Whether a node holds a key's partition now (its writes go there); a partition that moved
    // away may lose its copies (the outgoing replica drops them).
    private java.util.function.BiPredicate<Integer, byte[]> holds = (node, key) -> true;
    // The newest membership epoch of a membership-change run (0 in other runs).
    private long epoch;

    void holdsBy(java.util.function.BiPredicate<Integer, byte[]> holds) {
        this.holds = holds;
    }

    /**
     * A new membership epoch: a node that does not hold a key's partition in it may drop its copy
     * from then on (once every member applied the epoch), and goes on until it has applied an
     * epoch that gives the partition back, whatever the scans in between saw (a cancelled move,
     * then a new plan: the simulator counted such a copy as lost); the copy it streams in again
     * counts anew.
     */
    void onEpoch(long epoch) {
        this.epoch = epoch;
        nodes.forEach((id, s) -> {
            for (int k = 0; k < keys.size(); k++) {
                if (!holds.test(id, keyBytes.get(k))) {
                    s.released[k] = epoch;
                }
            }
        });
    }

    void register(SimNode n) {
        NodeState s = new NodeState();
        s.stored = new Version[keys.size()];
        s.purgeable = new boolean[keys.size()];
        s.released = new long[keys.size()];
        nodes.put(n.id, s);
        simNodes.add(n);
        durability.put(n.id, n.durability);
        seen.put(n.id, new HashMap<>());
        maxSeen.put(n.id, -1L);
        restartFloor.put(n.id, -1L);
    }

    /** After any step that ran code of {@code n}. */
    void afterStep(SimNode n) {
        if (!n.up) {
            return;
        }
        NodeState s = nodes.get(n.id);
        long hlc = n.hlc.lastTimestamp();
        if (hlc < s.hlc) {
            fail("the HLC of " + n + " went backwards from " + s.hlc + " to " + hlc);
        }
        s.hlc = hlc;
        if (n.cluster != null) {
            long epoch = n.cluster.epoch();
            if (epoch < s.epoch) {
                fail(n + " went back from membership epoch " + s.epoch + " to " + epoch);
            }
            s.epoch = epoch;
        }
        long allowed = Math.max(maxPhysical() + maxClockOffsetMillis, s.startFloorMillis) + 1;
        if (hlc >>> Version.LOGICAL_BITS > allowed) {
            failClock("the HLC of " + n + " is at " + (hlc >>> Version.LOGICAL_BITS) + ", " + ((hlc >>> Version.LOGICAL_BITS) - maxPhysical())
                    + " ms ahead of the largest physical clock in the cluster; the max clock offset is " + maxClockOffsetMillis + " ms");
        }
        if (n.disk.writes() != s.diskWrites) {
            s.diskWrites = n.disk.writes();
            scan(n, s, false);
            for (byte[] hint : n.disk.takeHintsWritten()) {
                Record r = hintRecord(hint);
                checkStamp(r, "a hint stored by " + n);
                observe(r, "a hint stored by " + n);
            }
            for (io.cairn.storage.StorageEngine.Entry e : n.disk.takePaxosWritten()) {
                io.cairn.paxos.PaxosState state = io.cairn.paxos.PaxosState.decode(io.cairn.storage.Keyspace.userKeyOf(e.key()), e.value());
                if (state.accepted() != null) {
                    observe(state.accepted(), "a paxos proposal accepted by " + n);
                }
            }
        }
    }

    /** Decodes a stored hint's value (HintStore layout: namespace id, key length, key, record). */
    private static Record hintRecord(byte[] value) {
        ByteBuffer v = ByteBuffer.wrap(value);
        v.getInt();
        byte[] key = new byte[v.getInt()];
        v.get(key);
        byte[] record = new byte[v.remaining()];
        v.get(record);
        return RecordCodec.decode(key, record);
    }

    /** Right after {@code n} started again on its old disk. */
    void afterRestart(SimNode n) {
        NodeState s = nodes.get(n.id);
        s.hlc = n.hlc.lastTimestamp();
        s.startFloorMillis = s.hlc >>> Version.LOGICAL_BITS;
        if (s.startFloorMillis > recordBound()) {
            failClock(n + " restarted with its HLC at " + s.startFloorMillis + ", " + (s.startFloorMillis - maxPhysical())
                    + " ms ahead of the largest physical clock: its persisted state holds a timestamp beyond the max clock offset plus the"
                    + " ceiling lease");
        }
        s.diskWrites = n.disk.writes();
        n.disk.takeHintsWritten();
        restartFloor.put(n.id, maxSeen.get(n.id));
        scan(n, s, true);
    }

    /** Just before the simulation steps {@code n}'s physical clock: its reading so far stays the cluster's high-water mark. */
    void beforeClockStep(SimNode n) {
        maxPhysicalBeforeSteps = Math.max(maxPhysicalBeforeSteps, n.clock.nowMillis());
    }

    /** The largest physical clock reading in the cluster so far. */
    long maxPhysical() {
        long max = maxPhysicalBeforeSteps;
        for (SimNode n : simNodes) {
            max = Math.max(max, n.clock.nowMillis());
        }
        return max;
    }

    /** The latest physical time a record may carry: the max offset plus the ceiling lease ahead of every clock so far. */
    long recordBound() {
        return maxPhysical() + maxClockOffsetMillis + VersionCeiling.LEASE_MILLIS + 1;
    }

    /** A record a client was answered with. */
    void checkVisible(Record r, String where) {
        checkStamp(r, where);
    }

    private void checkStamp(Record r, String where) {
        if (r.version().physicalMillis() > recordBound()) {
            failClock(where + " carries version " + r.version() + " stamped " + (r.version().physicalMillis() - maxPhysical())
                    + " ms ahead of the largest physical clock in the cluster, beyond the max clock offset of " + maxClockOffsetMillis + " ms");
        }
    }

    long lostInCrashes() {
        return lostInCrashes;
    }

    /**
     * Records whose version may have been issued before a crash and first sent after it: an
     * idempotent request's writes are stamped before they run and kept in its claim, and a retry
     * after the coordinator restarted writes them then (the same records: "two different records
     * carry version" still holds them to one record per version).
     */
    void stampedAheadBy(java.util.function.Predicate<Record> stampedAhead) {
        this.stampedAhead = stampedAhead;
    }

    private java.util.function.Predicate<Record> stampedAhead = r -> false;

    /**
     * A version the network forged in a sender's name (the HOSTILE_RECORD fault): the sender never
     * issued it, so it says nothing about the sender's clock across restarts.
     */
    void forged(Version v) {
        forged.add(v);
    }

    /** A record seen anywhere: in a message on the wire, or stored on a disk. */
    void observe(Record r, String where) {
        Version v = r.version();
        if (forged.contains(v) || (v.timestamp() == 0 && r.tombstone())) {
            // Forged, or the placeholder tombstone (version 0, never issued by a clock) that
            // anti-entropy puts in place of a corrupt copy no other replica holds anything of.
            return;
        }
        Map<Long, Long> issued = seen.get(v.nodeId());
        if (issued == null) {
            fail(where + " carries version " + v + " from node " + v.nodeId() + ", which is not a member");
        }
        long fingerprint = KeyHash.xxh64(r.value()) * 31 + (r.tombstone() ? 1 : 0) + r.expiresAtMillis() * 17;
        Long before = issued.putIfAbsent(v.timestamp(), fingerprint);
        if (before != null) {
            if (before != fingerprint) {
                fail(where + ": two different records carry version " + v);
            }
            return;
        }
        long floor = restartFloor.get(v.nodeId());
        if (v.timestamp() <= floor && durability.get(v.nodeId()) == Durability.SYNC && !stampedAhead.test(r)) {
            fail(where + ": node " + v.nodeId() + " issued version " + v + " after restarting, not above version "
                    + new Version(floor, v.nodeId()) + " it issued before the crash");
        }
        maxSeen.merge(v.nodeId(), v.timestamp(), Math::max);
    }

    /**
     * The disk of {@code n} lost its copy of {@code key} (the simulator corrupted it on purpose):
     * whatever repairs it may bring an older version first, as for a replica that lost the record.
     */
    void forgetCopy(SimNode n, String key) {
        NodeState s = nodes.get(n.id);
        int k = keys.indexOf(key);
        s.stored[k] = null;
        s.purgeable[k] = false;
    }

    private void scan(SimNode n, NodeState s, boolean afterCrash) {
        for (int k = 0; k < keys.size(); k++) {
            Record r;
            try {
                r = n.replica.readStored(namespace, keyBytes.get(k));
            } catch (io.cairn.record.CorruptRecordException e) {
                // A copy the disk corrupted (the heal phase does it on purpose): anti-entropy's to repair.
                continue;
            } catch (RuntimeException e) {
                fail("reading " + keys.get(k) + " on " + n + " failed: " + e);
                return;
            }
            if (r != null) {
                checkStamp(r, "the copy of " + keys.get(k) + " on " + n);
                observe(r, "the copy of " + keys.get(k) + " on " + n);
            }
            // (The map is asked only when needed: building it is the expensive part of a scan.)
            if (s.released[k] > 0 && n.cluster != null && n.cluster.epoch() >= epoch && holds.test(n.id, keyBytes.get(k))) {
                s.released[k] = 0;
            }
            Version before = s.stored[k];
            Version after = r == null ? null : r.version();
            if (before != null && s.released[k] > 0 && (after == null || before.isNewerThan(after))) {
                s.stored[k] = after;
                s.purgeable[k] = r != null && (r.tombstone() || r.hasExpiry());
                continue;
            }
            if (before != null && after == null && (s.purgeable[k] || !holds.test(n.id, keyBytes.get(k)))) {
                s.stored[k] = null;
                s.purgeable[k] = false;
                continue;
            }
            if (before != null && (after == null || before.isNewerThan(after))) {
                if (afterCrash && n.durability == Durability.ASYNC) {
                    lostInCrashes++;
                } else {
                    fail("the stored version of " + keys.get(k) + " on " + n + " went back from " + before + " to " + after
                            + (afterCrash ? " across a crash" : ""));
                }
            }
            if (after != null && (before == null || after.isNewerThan(before)) || afterCrash) {
                s.stored[k] = after;
                s.purgeable[k] = r != null && (r.tombstone() || r.hasExpiry());
            }
        }
    }

    private void fail(String message) {
        throw new SimulationFailure(new Violation(Violation.Kind.INVARIANT, now.getAsLong(), message));
    }

    private void failClock(String message) {
        throw new SimulationFailure(new Violation(Violation.Kind.CLOCK, now.getAsLong(), message));
    }
}
