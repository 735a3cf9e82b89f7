package io.cairn.cluster;

import io.cairn.clock.HybridClock;
import io.cairn.replica.LocalStore;
import io.cairn.storage.Durability;
import io.cairn.storage.Keyspace;
import io.cairn.storage.StorageEngine;
import io.cairn.storage.StorageException;
import io.cairn.storage.WriteBatch;
import io.cairn.clock.Version;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * A durable upper bound on the versions a coordinator has issued, so that a restarted node never
 * issues a version at or below one it issued before its crash, even if its wall clock went back.
 *
 * <p><b>Why.</b> A coordinator stamps writes from its HLC, but the HLC high-water mark reaches disk
 * only inside the node's own replica batches. A node that coordinates keys it does not replicate
 * (or crashes before its local apply) restarts with an older mark; with the wall clock behind, its
 * next writes would get lower versions than its earlier ones — acknowledged, yet losing
 * last-writer-wins to the older values — or reuse a version for a different record, which
 * replicas can never reconcile. The deterministic simulator found both.
 *
 * <p><b>How.</b> Every version used is below a ceiling stored SYNC in the node's engine. The ceiling
 * is raised to the latest issued time plus {@link #LEASE_MILLIS} (never further than the max
 * clock offset plus a lease past the wall clock, see {@link #raisedMillis}) as a job on the storage lane
 * ({@link LocalStore#run}), never on the core's thread: ahead of time once issued versions pass
 * half the lease, so in steady state no write waits for it; and when a version reaches the ceiling
 * anyway (a slow disk, a clock jump), that write and every later one wait in order until the
 * raise is durable. That is one fsync per half lease of issued time. At start the clock observes
 * the ceiling. The cost: after a restart within a lease of the last write, or with the wall clock
 * set back, the clock runs up to one lease ahead of the wall clock; while that is more than the
 * max clock offset, peers would refuse the node's versions, so the node issues none until its
 * wall clock catches up ({@link io.cairn.clock.ClockMonitor}). A ceiling further ahead than the
 * max offset plus a lease means the wall clock went back: the same wait, with that reason.
 *
 * <p><b>Shards.</b> Each core shard issues versions from the node's one clock under a ceiling of
 * its own, stored under its own key (shard 0 under the key a node of one shard has always used).
 * At start every shard's clock observes the highest ceiling stored under any shard's key, of this
 * shard count or an earlier one, so no shard issues a version at or below one any shard issued
 * before a crash. Single-threaded, like its coordinator.
 */
public final class VersionCeiling {
    public static final long LEASE_MILLIS = 1_000;
    private static final String NAME = "version-ceiling";
    private static final byte[] KEY = Keyspace.meta(NAME);
    // Every shard's key sorts in [KEY, KEYS_END): "version-ceiling" and "version-ceiling/<shard>".
    private static final byte[] KEYS_END = Keyspace.meta(NAME + "0");

    private final LocalStore storage;
    private final HybridClock clock;
    private final byte[] key;
    // Invariant: every version handed to a caller is below ceiling, and ceiling is on disk.
    private long ceiling;
    // Versions issued at or above the ceiling, waiting (in issue order) for a raise to cover them.
    private final ArrayDeque<Waiter> waiting = new ArrayDeque<>();
    private boolean raising;
    private long raiseFailures;

    private record Waiter(Version version, Consumer<Version> use, Consumer<StorageException> failed) {}

    /** The ceiling of a node of one shard. */
    public VersionCeiling(StorageEngine engine, LocalStore storage, HybridClock clock) {
        this(engine, storage, clock, Shard.ONLY);
    }

    /**
     * Reads the stored ceilings from {@code engine} (once, before the node serves): the clock
     * observes the highest of every shard's; this shard starts from its own. Raises go through
     * {@code storage}.
     */
    public VersionCeiling(StorageEngine engine, LocalStore storage, HybridClock clock, Shard shard) {
        this.storage = storage;
        this.clock = clock;
        this.key = shard.index() == 0 ? KEY : Keyspace.meta(NAME + "/" + shard.index());
        long highest = 0;
        long own = 0;
        // Bounded: one key per shard index ever used, at most Shard.MAX_SHARDS.
        for (StorageEngine.Entry e : engine.scan(KEY, KEYS_END, Shard.MAX_SHARDS + 1)) {
            if (e.value().length != Long.BYTES) {
                throw new StorageException("the version ceiling under " + new String(e.key(), StandardCharsets.US_ASCII)
                        + " is " + e.value().length + " bytes, not 8: the node's metadata is corrupt");
            }
            long stored = ByteBuffer.wrap(e.value()).getLong();
            highest = Math.max(highest, stored);
            if (Arrays.equals(e.key(), key)) {
                own = stored;
            }
        }
        this.ceiling = own;
        clock.observe(highest);
    }

    /**
     * Issues a new version from the clock and hands it to {@code use} once the ceiling covers it
     * durably: at once in the common case, after a raise otherwise. If the raise fails,
     * {@code failed} gets the storage failure and the version is never used.
     */
    public void next(Consumer<Version> use, Consumer<StorageException> failed) {
        Version v = clock.next();
        if (waiting.isEmpty() && v.timestamp() < ceiling) {
            if (v.timestamp() >= ceiling - Version.pack(LEASE_MILLIS / 2, 0)) {
                raise(); // Ahead of time: later writes should not have to wait.
            }
            use.accept(v);
            return;
        }
        waiting.add(new Waiter(v, use, failed));
        raise();
    }

    /** Stores a new ceiling ({@link #raisedMillis}), unless a raise is in flight. */
    private void raise() {
        if (raising) {
            return;
        }
        raising = true;
        long raised = Version.pack(Math.min(raisedMillis(clock), Version.MAX_PHYSICAL_MILLIS), 0);
        storage.run(engine -> {
            engine.write(new WriteBatch().put(key, ByteBuffer.allocate(8).putLong(raised).array()), Durability.SYNC);
            return raised;
        }, (stored, failure) -> {
            raising = false;
            if (failure != null) {
                raiseFailures++;
                List<Waiter> refused = List.copyOf(waiting);
                waiting.clear();
                refused.forEach(w -> w.failed.accept(failure));
                return;
            }
            ceiling = Math.max(ceiling, stored);
            while (!waiting.isEmpty() && waiting.peek().version.timestamp() < ceiling) {
                Waiter w = waiting.poll();
                w.use.accept(w.version);
            }
            if (!waiting.isEmpty()) {
                raise(); // The raise took longer than a lease: the next one covers the rest.
            }
        });
    }

    /**
     * Where a raise puts the ceiling, in physical millis: one lease past the latest issued time,
     * but no further than the max offset plus a lease past the wall clock — yet always past the
     * latest issued time, which it must cover. The cap matters only while the clock runs more
     * than the max offset ahead of the wall clock (restarted within a lease, or the wall clock
     * went back): the node then refuses writes, but a serial read still takes a ballot, and
     * without the cap each such raise would carry the clock of the next restart yet another
     * lease ahead (the simulator found a node two leases ahead of every wall clock after two
     * quick restarts).
     */
    static long raisedMillis(HybridClock clock) {
        long lastMillis = clock.lastTimestamp() >>> Version.LOGICAL_BITS;
        long beyondBound = Math.max(0, clock.leadMillis() - clock.maxOffsetMillis());
        return Math.max(lastMillis + 1, lastMillis - beyondBound + LEASE_MILLIS);
    }

    /** The durable ceiling. */
    public long ceiling() {
        return ceiling;
    }

    /** Versions issued and waiting for a raise. */
    public int waiting() {
        return waiting.size();
    }

    /** Raises the engine refused (each failed the writes waiting for it). */
    public long raiseFailures() {
        return raiseFailures;
    }
}
