package io.cairn.bench.jmh;

import io.cairn.clock.HybridClock;
import io.cairn.namespace.Namespace;
import io.cairn.placement.KeyHash;
import io.cairn.record.Record;
import io.cairn.record.RecordCodec;
import io.cairn.replica.LocalReplica;
import io.cairn.request.Condition;
import io.cairn.request.Limits;
import io.cairn.request.Op;
import io.cairn.request.WriteRequest;
import io.cairn.storage.Durability;
import io.cairn.storage.MemoryEngine;
import io.cairn.clock.Version;
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
 * JMH benchmarks of the core's per-request CPU costs: hashing a key to its partition, encoding
 * and verifying a record, issuing an HLC version, and evaluating a group of writes in the local
 * replica (on the in-memory engine, so storage I/O is excluded).
 *
 * <p>Run: {@code java -jar cairn-bench/target/cairn-bench-jmh.jar CoreBenchmark} (see docs/benchmarks.md).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
public class CoreBenchmark {
    @Param({"100", "1024"})
    int valueSize;

    private byte[] key;
    private byte[] value;
    private Record record;
    private byte[] encoded;
    private HybridClock clock;
    private LocalReplica replica;
    private Namespace ns;
    private List<WriteRequest> group;

    @Setup
    public void setup() {
        SplittableRandom random = new SplittableRandom(42);
        key = "user:123456:session".getBytes(StandardCharsets.UTF_8);
        value = new byte[valueSize];
        random.nextBytes(value);
        record = Record.value(new Version(Version.pack(1_800_000_000_000L, 3), 1), 0, "application/json", value);
        encoded = RecordCodec.encode(key, record);
        clock = new HybridClock(System::currentTimeMillis, 1);
        ns = Namespace.defaults(0);
        replica = new LocalReplica(new MemoryEngine(), new HybridClock(System::currentTimeMillis, 1), Durability.SYNC, 0, Limits.DEFAULTS);
        group = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            byte[] k = ("bench-" + random.nextInt(100_000)).getBytes(StandardCharsets.UTF_8);
            group.add(WriteRequest.of(ns, new Op.Put(k, value, null, Op.DEFAULT_TTL, Condition.NONE)));
        }
    }

    @Benchmark
    public long partitionHash() {
        return KeyHash.xxh64(key);
    }

    @Benchmark
    public byte[] encodeRecord() {
        return RecordCodec.encode(key, record);
    }

    @Benchmark
    public Record decodeAndVerifyRecord() {
        return RecordCodec.decode(key, encoded);
    }

    @Benchmark
    public long nextVersion() {
        return clock.nextTimestamp();
    }

    @Benchmark
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public Object applyGroupOf32Puts() {
        return replica.apply(group);
    }
}
