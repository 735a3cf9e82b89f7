package io.cairn.testkit;

import io.cairn.storage.Durability;
import io.cairn.storage.MemoryEngine;
import io.cairn.storage.StorageEngine;
import io.cairn.storage.WriteBatch;
import java.util.ArrayList;
import java.util.List;

/**
 * A node's disk: the in-memory engine with its crash model, plus a write counter so the
 * per-step invariants only re-read a node's records after a step that wrote to it. It outlives
 * every incarnation of its node, like a real disk.
 */
final class SimDisk implements StorageEngine {
    private final MemoryEngine engine = new MemoryEngine();
    /** The keyspace byte of hints (see HintStore). */
    private static final byte HINT_KEYSPACE = 'h';
    private final List<byte[]> hintsWritten = new ArrayList<>();
    private final List<Entry> paxosWritten = new ArrayList<>();
    private long writes;
    /** The FORGETFUL_COMMITS canary: Paxos states are stored without the commits they list (and claim they dropped none). */
    boolean forgetCommits;

    @Override
    public byte[] get(byte[] key) {
        return engine.get(key);
    }

    @Override
    public void write(WriteBatch batch, Durability durability) {
        writes++;
        if (forgetCommits) {
            batch = withoutCommits(batch);
        }
        engine.write(batch, durability);
        for (WriteBatch.Mutation m : batch.mutations()) {
            if (m instanceof WriteBatch.Put p && p.key().length > 0 && p.key()[0] == HINT_KEYSPACE) {
                hintsWritten.add(p.value());
            }
            if (m instanceof WriteBatch.Put p && p.key().length > 0 && p.key()[0] == io.cairn.storage.Keyspace.PAXOS) {
                paxosWritten.add(new Entry(p.key(), p.value()));
            }
        }
    }

    private static WriteBatch withoutCommits(WriteBatch batch) {
        WriteBatch out = new WriteBatch();
        for (WriteBatch.Mutation m : batch.mutations()) {
            switch (m) {
                case WriteBatch.Put p when p.key().length > 7 && p.key()[0] == io.cairn.storage.Keyspace.PAXOS -> {
                    // The state's key: 'p' · namespace id (4 bytes) · partition (2 bytes) · user key.
                    byte[] userKey = java.util.Arrays.copyOfRange(p.key(), 7, p.key().length);
                    io.cairn.paxos.PaxosState s = io.cairn.paxos.PaxosState.decode(userKey, p.value());
                    out.put(p.key(), new io.cairn.paxos.PaxosState(s.promised(), s.ballot(), s.accepted(), s.committed(), List.of()).encode(userKey));
                }
                case WriteBatch.Put p -> out.put(p.key(), p.value());
                case WriteBatch.Delete d -> out.delete(d.key());
                case WriteBatch.DeleteRange r -> out.deleteRange(r.fromInclusive(), r.toExclusive());
            }
        }
        return out;
    }

    /** Values of hints stored since the last call: the invariants must see every version a node issued. */
    List<byte[]> takeHintsWritten() {
        List<byte[]> out = List.copyOf(hintsWritten);
        hintsWritten.clear();
        return out;
    }

    @Override
    public void syncWal() {
        writes++;
        engine.syncWal();
    }

    /** Paxos states stored since the last call: an accepted proposal carries a version its proposer issued. */
    List<Entry> takePaxosWritten() {
        List<Entry> out = List.copyOf(paxosWritten);
        paxosWritten.clear();
        return out;
    }

    @Override
    public List<Entry> scan(byte[] fromInclusive, byte[] toExclusive, int limit, long maxBytes) {
        return engine.scan(fromInclusive, toExclusive, limit, maxBytes);
    }

    @Override
    public void close() {
        // The disk stays: a crashed node's next incarnation opens the same one.
    }

    /** Power loss: writes not yet synced are gone. */
    void crash() {
        writes++;
        engine.crash();
    }

    long writes() {
        return writes;
    }
}
