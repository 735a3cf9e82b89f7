package io.cairn.testkit;

import io.cairn.namespace.Namespace;
import io.cairn.partition.KeyHash;
import io.cairn.record.Record;
import io.cairn.record.RecordCodec;
import io.cairn.storage.Durability;
import io.cairn.version.Version;
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
 *   <li>A replica's stored version of a key never decreases — across crashes too, because with
 *       SYNC durability nothing acknowledged is unsynced. Only a node deliberately run with ASYNC
 *       durability (the canary) may lose versions in a crash; the history checkers must then
 *       notice what that cost.
 * </ul>
 * Records are re-read only after a step that wrote to the node's disk, which keeps this cheap.
 */
final class Invariants {
    private final Namespace namespace;
    private final List<String> keys;
    private final List<byte[]> keyBytes = new ArrayList<>();
    private final LongSupplier now;
    private final Map<Integer, NodeState> nodes = new HashMap<>();
    // Per issuing node id: version timestamp → fingerprint of the record first seen with it.
    private final Map<Integer, Map<Long, Long>> seen = new HashMap<>();
    private final Map<Integer, Long> maxSeen = new HashMap<>();
    // Per node id: versions first seen at or below this were issued before its latest restart.
    private final Map<Integer, Long> restartFloor = new HashMap<>();
    private final Map<Integer, Durability> durability = new HashMap<>();
    // Versions an ASYNC node lost in its crashes (only the canary has one).
    private long lostInCrashes;

    private static final class NodeState {
        long hlc;
        long diskWrites = -1;
        Version[] stored;
    }

    Invariants(Namespace namespace, List<String> keys, LongSupplier now) {
        this.namespace = namespace;
        this.keys = keys;
        this.now = now;
        for (String k : keys) {
            keyBytes.add(Simulation.bytes(k));
        }
    }

    void register(SimNode n) {
        NodeState s = new NodeState();
        s.stored = new Version[keys.size()];
        nodes.put(n.id, s);
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
        if (n.disk.writes() != s.diskWrites) {
            s.diskWrites = n.disk.writes();
            scan(n, s, false);
            for (byte[] hint : n.disk.takeHintsWritten()) {
                observe(hintRecord(hint), "a hint stored by " + n);
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
        s.diskWrites = n.disk.writes();
        n.disk.takeHintsWritten();
        restartFloor.put(n.id, maxSeen.get(n.id));
        scan(n, s, true);
    }

    long lostInCrashes() {
        return lostInCrashes;
    }

    /** A record seen anywhere: in a message on the wire, or stored on a disk. */
    void observe(Record r, String where) {
        Version v = r.version();
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
        if (v.timestamp() <= floor && durability.get(v.nodeId()) == Durability.SYNC) {
            fail(where + ": node " + v.nodeId() + " issued version " + v + " after restarting, not above version "
                    + new Version(floor, v.nodeId()) + " it issued before the crash");
        }
        maxSeen.merge(v.nodeId(), v.timestamp(), Math::max);
    }

    private void scan(SimNode n, NodeState s, boolean afterCrash) {
        for (int k = 0; k < keys.size(); k++) {
            Record r;
            try {
                r = n.replica.readStored(namespace, keyBytes.get(k));
            } catch (RuntimeException e) {
                fail("reading " + keys.get(k) + " on " + n + " failed: " + e);
                return;
            }
            if (r != null) {
                observe(r, "the copy of " + keys.get(k) + " on " + n);
            }
            Version before = s.stored[k];
            Version after = r == null ? null : r.version();
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
            }
        }
    }

    private void fail(String message) {
        throw new SimulationFailure(new Violation(Violation.Kind.INVARIANT, now.getAsLong(), message));
    }
}
