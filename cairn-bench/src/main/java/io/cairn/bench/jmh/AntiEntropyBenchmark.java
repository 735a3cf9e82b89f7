package io.cairn.bench.jmh;

import io.cairn.antientropy.PurgeGate;
import io.cairn.antientropy.SegmentTree;
import io.cairn.clock.HybridClock;
import io.cairn.clock.Version;
import io.cairn.namespace.Namespace;
import io.cairn.record.Record;
import io.cairn.replica.LocalReplica;
import io.cairn.replica.ReplicaAntiEntropy;
import io.cairn.request.Limits;
import io.cairn.request.Op;
import io.cairn.request.WriteRequest;
import io.cairn.storage.Durability;
import io.cairn.storage.MemoryEngine;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What keeping segment trees costs a replica's write path: a group of 32 replica writes
 * ({@code Op.Apply}, as every cluster write is) applied by the local replica on the in-memory
 * engine with trees kept and without, and the entry hash alone. Storage I/O is excluded, so the
 * difference is the CPU the trees add per write, to compare with the few microseconds an fsync'd
 * group commit costs per write.
 *
 * <p>Run: {@code java -jar cairn-bench/target/cairn-bench-jmh.jar AntiEntropyBenchmark}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
public class AntiEntropyBenchmark {
    private static final int GROUP = 32;

    @Param({"100", "1024"})
    int valueSize;

    @Param({"false", "true"})
    boolean trees;

    private LocalReplica replica;
    private Namespace ns;
    private byte[][] keys;
    private byte[] value;
    private long next = Version.pack(1_800_000_000_000L, 0);
    private Record record;

    @Setup
    public void setup() {
        SplittableRandom random = new SplittableRandom(42);
        ns = Namespace.defaults(0);
        value = new byte[valueSize];
        random.nextBytes(value);
        keys = new byte[10_000][];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = ("user:" + i + ":session").getBytes(StandardCharsets.UTF_8);
        }
        replica = new LocalReplica(new MemoryEngine(), new HybridClock(System::currentTimeMillis, 1), Durability.SYNC, 60_000, Limits.DEFAULTS,
                trees ? new ReplicaAntiEntropy(true, PurgeGate.ALONE, 60_000) : ReplicaAntiEntropy.NONE);
        while (!replica.scrub(10_000, Long.MAX_VALUE).passEnded()) {
            // builds the (empty) trees
        }
        record = Record.value(new Version(next, 2), Record.NO_EXPIRY, "application/json", value);
    }

    /** 32 replica writes, each replacing an earlier version of its key (the common case: the old hash is XORed out). */
    @Benchmark
    public int applyGroupOf32() {
        List<WriteRequest> group = new ArrayList<>(GROUP);
        for (int i = 0; i < GROUP; i++) {
            next++;
            byte[] key = keys[(int) (next % keys.length)];
            group.add(WriteRequest.of(ns, new Op.Apply(key, Record.value(new Version(next, 2), Record.NO_EXPIRY, "application/json", value))));
        }
        return replica.apply(group).size();
    }

    @Benchmark
    public long entryHash() {
        return SegmentTree.entryHash(keys[0], record);
    }
}
