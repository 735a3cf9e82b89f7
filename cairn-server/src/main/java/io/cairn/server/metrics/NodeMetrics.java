package io.cairn.server.metrics;

import io.cairn.cluster.HintBacklog;
import io.cairn.membership.Member;
import io.cairn.replica.ReplicaStats;
import io.cairn.server.cluster.ClusterDriver;
import io.cairn.server.cluster.PeerRequests;
import io.cairn.server.internode.InternodeTransport;
import io.cairn.server.internode.PeerStats;
import io.cairn.server.health.NodeHealth;
import io.cairn.server.http.HttpFrontEnd;
import io.cairn.server.rocks.RocksEngine;
import io.cairn.server.security.HttpTls;
import io.cairn.server.security.NodeTls;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.function.ToDoubleFunction;
import java.util.Map;

/**
 * The node's metrics, exported in Prometheus text format at {@code /metrics}.
 *
 * <p>Request timers are cached per (operation, status) so the hot path does one map lookup and
 * one histogram update. Storage, replica and queue figures are gauges read at scrape time.
 */
public final class NodeMetrics implements AutoCloseable {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ConcurrentHashMap<String, Timer> timers = new ConcurrentHashMap<>();
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private final Counter corruptReads;
    private final ConcurrentHashMap<String, Timer> peerTimers = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counter> peerErrors = new ConcurrentHashMap<>();

    public NodeMetrics() {
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        // Exported at zero from the start, so that an alert on their increase has a series to watch.
        for (String reason : new String[] {"memory", "connections", "deadline", "storage"}) {
            shedCounter(reason);
        }
        Gauge.builder("cairn.build.info", () -> 1).description("1, labelled with the build's version and the Java runtime")
                .tag("version", io.cairn.server.CairnNode.VERSION).tag("java", Runtime.version().toString()).strongReference(true).register(registry);
        corruptReads = Counter.builder("cairn.http.corrupt.reads").description("Reads that found a corrupt record and answered 500").register(registry);
    }

    /**
     * Histogram buckets for request latencies: the boundaries SLOs and alerts are written against
     * (13 per series, not the 80 of a percentile histogram).
     */
    static final Duration[] LATENCY_BUCKETS = {Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10),
            Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
            Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10)};

    /** Records one HTTP request by operation (get, put, delete, batch, head, ops) and status. */
    public void request(String op, int status, long nanos) {
        String k = op + ':' + status;
        Timer t = timers.get(k);
        if (t == null) {
            t = timers.computeIfAbsent(k, x -> Timer.builder("cairn.http.request.duration")
                    .description("HTTP requests by operation (route) and status, from the first byte to the answer")
                    .tag("op", op)
                    .tag("status", Integer.toString(status))
                    .serviceLevelObjectives(LATENCY_BUCKETS)
                    .register(registry));
        }
        t.record(nanos, TimeUnit.NANOSECONDS);
    }

    public void corruptRead() {
        corruptReads.increment();
    }

    private final ConcurrentHashMap<String, Counter> shed = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counter> timeouts = new ConcurrentHashMap<>();
    private Counter malformed;

    /**
     * A request refused before it ran, by reason: {@code memory} (over the in-flight budget),
     * {@code connections} (an operators' reserve connection asked for a data route), or
     * {@code deadline} (it waited past its deadline).
     */
    public void shed(String reason) {
        shedCounter(reason).increment();
    }

    private Counter shedCounter(String reason) {
        return shed.computeIfAbsent(reason, r -> Counter.builder("cairn.http.shed")
                .description("Requests refused with 503 before running, by reason").tag("reason", r).register(registry));
    }

    /** A connection timed out in {@code phase}: header, body, idle or unread (answers not read). */
    public void timeout(String phase) {
        timeouts.computeIfAbsent(phase, p -> Counter.builder("cairn.http.timeouts")
                .description("Connections timed out, by phase").tag("phase", p).register(registry)).increment();
    }

    private final ConcurrentHashMap<String, Counter> authCounters = new ConcurrentHashMap<>();
    // By result, without building a key per request: every authenticated request counts one.
    private final ConcurrentHashMap<String, Counter> lookups = new ConcurrentHashMap<>();

    /**
     * Where the authenticator counts: refusals ({@code cairn_auth_refusals_total} by status,
     * reason and route class) and token lookups ({@code cairn_auth_lookups_total} by result).
     */
    public io.cairn.server.security.Authenticator.Sink auth() {
        return new io.cairn.server.security.Authenticator.Sink() {
            @Override
            public void refused(int status, String reason, String routeClass) {
                authCounters.computeIfAbsent(status + "/" + reason + "/" + routeClass, k -> Counter.builder("cairn.auth.refusals")
                        .description("Requests refused for their credential: 401 (none, malformed, unknown, expired, revoked) or 403 (roles)")
                        .tag("status", Integer.toString(status)).tag("reason", reason).tag("route", routeClass).register(registry)).increment();
            }

            @Override
            public void lookup(String result) {
                lookups.computeIfAbsent(result, k -> Counter.builder("cairn.auth.lookups")
                        .description("Token lookups: cached (trusted cache entry), store (decided by a token-store read), unavailable (store out of reach), shed (too many lookups at once), refresh (a read ahead of a cache entry's end)")
                        .tag("result", result).register(registry)).increment();
            }
        };
    }

    /** A request the strict decoder refused (framing, syntax, version). */
    public void malformedRequest() {
        Counter c = malformed;
        if (c == null) {
            c = Counter.builder("cairn.http.malformed").description("Requests refused by the HTTP decoder as malformed").register(registry);
            malformed = c;
        }
        c.increment();
    }

    public void bindHttp(HttpFrontEnd http) {
        Gauge.builder("cairn.http.connections", http, HttpFrontEnd::connections).description("Open HTTP connections").register(registry);
        FunctionCounter.builder("cairn.http.connections.refused", http, HttpFrontEnd::refusedConnections)
                .description("Connections closed at accept: over the limit and the operators' reserve").register(registry);
        FunctionCounter.builder("cairn.http.connections.evicted", http, HttpFrontEnd::evictedConnections)
                .description("Connections that never sent a byte, closed to make room for a new one at the limit").register(registry);
        Gauge.builder("cairn.http.inflight.request.bytes", http, HttpFrontEnd::inflightRequestBytes)
                .description("Bytes reserved by requests between head and answer").baseUnit("bytes").register(registry);
        Gauge.builder("cairn.http.unflushed.response.bytes", http, HttpFrontEnd::unflushedResponseBytes)
                .description("Bytes of answers written but not yet taken by sockets").baseUnit("bytes").register(registry);
        HttpTls tls = http.tls();
        if (tls != null) {
            Gauge.builder("cairn.tls.certificate.expiry.seconds", tls, t -> secondsUntil(t.notAfter()))
                    .tag("certificate", "http").description("Seconds until this node's certificate expires (negative: expired)").register(registry);
            FunctionCounter.builder("cairn.tls.http.reloads", tls, HttpTls::reloads)
                    .description("Times a changed HTTPS certificate was loaded without a restart").register(registry);
            FunctionCounter.builder("cairn.tls.http.reload.failures", tls, HttpTls::reloadFailures)
                    .description("Changed HTTPS certificate files refused (the previous ones stay in use)").register(registry);
        }
    }

    /** Fatal errors per component, and whether the node is serving. */
    public void bindHealth(NodeHealth health) {
        for (String component : java.util.List.of("http", "cluster-core", "write-applier", "internode")) {
            FunctionCounter.builder("cairn.fatal.errors", health, h -> h.fatalCount(component))
                    .description("Fatal errors (Error, invariant violation, dead thread), by component").tag("component", component).register(registry);
        }
        Gauge.builder("cairn.stalled.threads", health, h -> h.stalls().size())
                .description("Event loops or core threads that have not run a watchdog probe within node.stallTimeout").register(registry);
    }

    public void bindStorage(RocksEngine engine) {
        storageGauge("cairn.storage.pending.compaction.bytes", "Bytes RocksDB estimates compaction must rewrite", engine, e -> e.property("rocksdb.estimate-pending-compaction-bytes"));
        storageGauge("cairn.storage.running.compactions", "Compactions running now", engine, e -> e.property("rocksdb.num-running-compactions"));
        storageGauge("cairn.storage.running.flushes", "Memtable flushes running now", engine, e -> e.property("rocksdb.num-running-flushes"));
        storageGauge("cairn.storage.write.stopped", "1 while RocksDB stops writes", engine, e -> e.property("rocksdb.is-write-stopped"));
        storageGauge("cairn.storage.delayed.write.bytes.per.second", "Write rate RocksDB throttles to, bytes/s (0 when not delayed)", engine,
                e -> e.property("rocksdb.actual-delayed-write-rate"));
        storageGauge("cairn.storage.memtable.bytes", "Size of all memtables", engine, e -> e.property("rocksdb.cur-size-all-mem-tables"));
        storageGauge("cairn.storage.sst.bytes", "Size of all live SST files", engine, e -> e.property("rocksdb.live-sst-files-size"));
        storageGauge("cairn.storage.estimated.keys", "RocksDB's estimate of stored keys (records, index entries, outcomes)", engine, e -> e.property("rocksdb.estimate-num-keys"));
        storageGauge("cairn.storage.block.cache.bytes", "Block cache usage", engine, e -> e.blockCacheUsageBytes());
        storageGauge("cairn.storage.l0.files", "Files at level 0", engine, e -> e.property("rocksdb.num-files-at-level0"));
        FunctionCounter.builder("cairn.storage.stall.seconds", engine, e -> e.stallMicros() / 1e6)
                .description("Time writes were stalled by RocksDB").register(registry);
    }

    private void storageGauge(String name, String description, RocksEngine engine, ToDoubleFunction<RocksEngine> f) {
        Gauge.builder(name, engine, f).description(description).register(registry);
    }

    public void bindReplica(ReplicaStats stats) {
        FunctionCounter.builder("cairn.records.corrupt", stats, ReplicaStats::corruptRecords).description("Records that failed their checksum").register(registry);
        FunctionCounter.builder("cairn.write.groups", stats, ReplicaStats::writeGroups).description("Group commits (one storage batch each)").register(registry);
        FunctionCounter.builder("cairn.write.requests", stats, ReplicaStats::writeRequests).description("Write requests applied").register(registry);
        FunctionCounter.builder("cairn.idempotency.replays", stats, ReplicaStats::idempotentReplays).description("Retries answered from a stored outcome").register(registry);
        Gauge.builder("cairn.idempotency.records", stats, ReplicaStats::idempotencyRecords).description("Idempotency outcomes held").register(registry);
        FunctionCounter.builder("cairn.ttl.expired.purged", stats, ReplicaStats::expiredRecordsPurged).description("Expired records removed by the sweeper").register(registry);
        FunctionCounter.builder("cairn.ttl.tombstones.purged", stats, ReplicaStats::tombstonesPurged).description("Tombstones removed after the purge grace").register(registry);
        FunctionCounter.builder("cairn.ttl.idempotency.purged", stats, ReplicaStats::idempotencyRecordsPurged).description("Idempotency outcomes removed after retention").register(registry);
        FunctionCounter.builder("cairn.ttl.stale.entries", stats, ReplicaStats::staleExpiryEntries).description("Expiry index entries left by overwrites and dropped").register(registry);
        Gauge.builder("cairn.ttl.sweep.backlog", stats, ReplicaStats::sweepBacklog).description("Due expiry entries not yet swept (capped at 100000)").register(registry);
        FunctionCounter.builder("cairn.ttl.purges.held", stats, ReplicaStats::purgesHeld)
                .description("Purges of tombstones and expired records the purge rule held back (not every replica known to hold them yet)")
                .register(registry);
        FunctionCounter.builder("cairn.scrub.records", stats, ReplicaStats::scrubbedRecords).description("Records whose checksum the scrub verified").register(registry);
        FunctionCounter.builder("cairn.scrub.bytes", stats, ReplicaStats::scrubbedBytes).baseUnit("bytes").description("Bytes the scrub read").register(registry);
        FunctionCounter.builder("cairn.scrub.passes", stats, ReplicaStats::scrubPasses).description("Completed scrub passes over every record").register(registry);
        FunctionCounter.builder("cairn.corrupt.found", stats, ReplicaStats::corruptFound)
                .description("Corrupt records the scrub found and quarantined (each distinct copy once)").register(registry);
        FunctionCounter.builder("cairn.corrupt.repaired", stats, ReplicaStats::corruptRepaired)
                .description("Corrupt records replaced by a healthy copy from another replica").register(registry);
    }

    /** The hybrid clock: peer timestamps refused by the max-offset rule, and how far the clock runs ahead of the wall clock. */
    public void bindClock(io.cairn.clock.HybridClock clock) {
        FunctionCounter.builder("cairn.clock.offset.refusals", clock, io.cairn.clock.HybridClock::refusals)
                .description("Peer timestamps (replica writes, hinted writes, read replies, hint hand-offs) refused for being more than"
                        + " cluster.maxClockOffset ahead of this node's clock").register(registry);
        Gauge.builder("cairn.clock.hlc.lead.seconds", clock, c -> c.leadMillis() / 1000.0)
                .description("How far this node's hybrid clock runs ahead of its wall clock").register(registry);
    }

    public void bindWriteQueue(IntSupplier depth) {
        Gauge.builder("cairn.write.queue.depth", depth, IntSupplier::getAsInt).description("Write requests waiting for the applier").register(registry);
    }

    /**
     * Cluster metrics: hint backlog per target (count, bytes, age of the oldest: the replica lag),
     * hint, repair and quorum counters, and each peer's transport figures. Read from the driver's
     * snapshot, which is at most a second old.
     */
    /** An elastic cluster's node: whether its metadata log server runs. */
    public void bindMetadata(io.cairn.server.cluster.ElasticMembership elastic) {
        Gauge.builder("cairn.metadata.server.down", elastic, e -> e.metadataServerDown() ? 1 : 0)
                .description("1 while this node's metadata log server should run and does not (the group has a member fewer; the node follows by polling)")
                .register(registry);
    }

    public void bindCluster(ClusterDriver driver) {
        this.cluster = driver;
        syncMembers();
        // Micrometer holds gauge state weakly: bind to the driver itself, which the node keeps.
        ClusterDriver s = driver;
        FunctionCounter.builder("cairn.internode.expired.drops", driver.transport(), InternodeTransport::expiredDrops)
                .description("Internode messages dropped because they outlived their budget (cluster.requestTimeout)").register(registry);
        FunctionCounter.builder("cairn.internode.bad.frames", driver.transport(), InternodeTransport::badFrames)
                .description("Incoming internode frames refused (length, checksum, undecodable or invalid payload); each closed its connection")
                .register(registry);
        FunctionCounter.builder("cairn.internode.bad.handshakes", driver.transport(), InternodeTransport::badHandshakes)
                .description("Incoming internode connections refused at the handshake").register(registry);
        FunctionCounter.builder("cairn.internode.unauthenticated.refusals", driver.transport(), InternodeTransport::unauthenticatedRefusals)
                .description("Internode connections closed at accept: too many others were still in their handshakes").register(registry);
        FunctionCounter.builder("cairn.internode.tls.refusals", driver.transport(), InternodeTransport::tlsRefusals)
                .description("Internode connections refused by mutual TLS: no certificate from the cluster CA, or one naming another member")
                .register(registry);
        NodeTls tls = driver.transport().tlsMaterial();
        if (tls != null) {
            Gauge.builder("cairn.tls.certificate.expiry.seconds", tls, t -> secondsUntil(t.notAfter()))
                    .tag("certificate", "node").description("Seconds until this node's certificate expires (negative: expired)").register(registry);
            Gauge.builder("cairn.tls.certificate.expiry.seconds", tls, t -> secondsUntil(t.caNotAfter()))
                    .tag("certificate", "ca").description("Seconds until the cluster CA's certificate expires (negative: expired)").register(registry);
            FunctionCounter.builder("cairn.tls.reloads", tls, NodeTls::reloads)
                    .description("Times changed certificate files were loaded without a restart").register(registry);
            FunctionCounter.builder("cairn.tls.reload.failures", tls, NodeTls::reloadFailures)
                    .description("Changed certificate files refused (the previous ones stay in use)").register(registry);
        }
        Gauge.builder("cairn.clock.unsafe", s, x -> x.clockReport().isUnsafe() ? 1 : 0)
                .description("1 while this node's clock is off by more than cluster.maxClockOffset and it refuses writes").register(registry);
        FunctionCounter.builder("cairn.hints.stored", s, x -> x.snapshot().hintsStored()).description("Hints stored for replicas that did not acknowledge").register(registry);
        FunctionCounter.builder("cairn.hints.replayed", s, x -> x.snapshot().hintsReplayed()).description("Hints handed off to their target").register(registry);
        FunctionCounter.builder("cairn.hints.dropped", s, x -> x.snapshot().hintsDropped()).description("Hints dropped after the hint window, found corrupt, or for a namespace that became serial").register(registry);
        FunctionCounter.builder("cairn.hints.failed", s, x -> x.snapshot().hintsFailed()).description("Hints the storage engine refused to store").register(registry);
        FunctionCounter.builder("cairn.read.repairs", s, x -> x.snapshot().readRepairs()).description("Replicas repaired by reads (blocking and background)").register(registry);
        FunctionCounter.builder("cairn.quorum.failures", s, x -> x.snapshot().quorumFailures()).description("Requests refused because too few replicas were reachable").register(registry);
        FunctionCounter.builder("cairn.writes.fallback", s, x -> x.snapshot().fallbackWrites())
                .description("Writes sent to a fallback node for a down home replica (sloppy quorum)").register(registry);
        FunctionCounter.builder("cairn.idempotency.cluster.replays", s, x -> x.snapshot().idempotencyReplays())
                .description("Retries a cluster coordinator answered from a replicated outcome").register(registry);
        FunctionCounter.builder("cairn.idempotency.unrecorded", s, x -> x.snapshot().idempotencyUnrecorded())
                .description("Idempotent requests whose outcome could not be stored at W").register(registry);
        FunctionCounter.builder("cairn.writes.outcome.unknown", s, x -> x.snapshot().outcomeUnknown()).description("Writes answered outcome_unknown (W not reached in time)").register(registry);
        FunctionCounter.builder("cairn.replica.held.behind", s, x -> x.snapshot().heldWhileBehind())
                .description("Replica writes and Paxos steps from a newer membership epoch held until this node applied it").register(registry);
        FunctionCounter.builder("cairn.replica.held.behind.expired", s, x -> x.snapshot().heldPastDeadline())
                .description("Of those, the ones still held at their deadline (refused then if the node was still behind)").register(registry);
        // Membership and partition moves (docs/operations.md, "Changing the members").
        Gauge.builder("cairn.metadata.epoch", s, ClusterDriver::epoch)
                .description("The newest membership epoch this node applied (a fixed cluster stays at 1)").register(registry);
        Gauge.builder("cairn.partitions.moving", s, ClusterDriver::partitionsMoving)
                .description("Partitions moving between replica sets at this node's epoch").register(registry);
        Gauge.builder("cairn.partitions.under.replicated", s, ClusterDriver::underReplicated)
                .description("Partitions with fewer than N replicas this node counts up (a replica down, or removed and not yet refilled)")
                .register(registry);
        FunctionCounter.builder("cairn.paxos.operations.started", s, x -> x.snapshot().paxos().started())
                .description("Conditional writes and serial reads this node coordinated (per-key Paxos)").register(registry);
        for (var outcome : java.util.List.<java.util.Map.Entry<String, java.util.function.ToDoubleFunction<ClusterDriver>>>of(
                java.util.Map.entry("committed", x -> x.snapshot().paxos().committed()),
                java.util.Map.entry("condition_failed", x -> x.snapshot().paxos().conditionFailed()),
                java.util.Map.entry("contention", x -> x.snapshot().paxos().contended()),
                java.util.Map.entry("outcome_unknown", x -> x.snapshot().paxos().unknown()))) {
            FunctionCounter.builder("cairn.paxos.operations", s, outcome.getValue()).tag("outcome", outcome.getKey())
                    .description("Paxos operations by how they ended (serial reads that answered are not counted here)").register(registry);
        }
        FunctionCounter.builder("cairn.paxos.rounds.retried", s, x -> x.snapshot().paxos().retries())
                .description("Paxos rounds that lost (a higher promise, or no majority in time) and started over after a backoff").register(registry);
        FunctionCounter.builder("cairn.paxos.operations.queued", s, x -> x.snapshot().paxos().queued())
                .description("Paxos operations that waited for another of this node's operations on their key to end before their first round")
                .register(registry);
        FunctionCounter.builder("cairn.paxos.phases.widened", s, x -> x.snapshot().paxos().widened())
                .description("Prepares and proposals sent to a bare majority of replicas that then went to the others too (a refusal, a failure, or no answer within the hedge)")
                .register(registry);
        FunctionCounter.builder("cairn.paxos.proposals.ruled.out", s, x -> x.snapshot().paxos().ruledOut())
                .description("Operations whose overtaken proposals a later round proved never chosen, so they decided afresh instead of answering outcome_unknown")
                .register(registry);
        FunctionCounter.builder("cairn.paxos.rule.out.retries", s, x -> x.snapshot().paxos().ruleOutRetries())
                .description("Rounds retried because a replica's refusal (a rival's higher ballot) kept them from ruling out an earlier "
                        + "proposal of their operation, instead of answering outcome_unknown")
                .register(registry);
        FunctionCounter.builder("cairn.paxos.stale.stamps", s, x -> x.snapshot().paxos().staleStamps())
                .description("Idempotent conditional or serial writes refused (503 contention, nothing written) because their key was written "
                        + "at or above the version stamped for them; their claim is restamped for the retry")
                .register(registry);
        FunctionCounter.builder("cairn.paxos.leased", s, x -> x.snapshot().paxos().leased())
                .description("Conditional or serial writes proposed under this node's lease on their key, skipping the prepare").register(registry);
        FunctionCounter.builder("cairn.paxos.leases.lost", s, x -> x.snapshot().paxos().leaseLost())
                .description("Writes proposed under a lease that another proposer or a plain write had overtaken; each ran a full round after")
                .register(registry);
        FunctionCounter.builder("cairn.paxos.answered.chosen", s, x -> x.snapshot().paxos().answeredChosen())
                .description("Writes of serial namespaces answered as soon as their record was chosen, the commit running behind the answer")
                .register(registry);
        FunctionCounter.builder("cairn.paxos.strays.finished", s, x -> x.snapshot().paxos().strays())
                .description("Records of serial namespaces that no Paxos round chose (plain writes from before the namespace was serial, or "
                        + "from a node that had not applied the change), found on some replicas and finished before a round decided on them")
                .register(registry);
        FunctionCounter.builder("cairn.paxos.rounds.finished", s, x -> x.snapshot().paxos().finishedForOthers())
                .description("Earlier rounds' accepted proposals this node's rounds found and finished first").register(registry);
        Gauge.builder("cairn.moves.streams.running", s, x -> x.snapshot().moves().streamsRunning())
                .description("Partitions this node is streaming in now").register(registry);
        FunctionCounter.builder("cairn.moves.streamed", s, x -> x.snapshot().moves().bytesStreamed()).baseUnit("bytes")
                .description("Record bytes this node received by partition streams and stored").register(registry);
        FunctionCounter.builder("cairn.moves.streamed.records", s, x -> x.snapshot().moves().recordsStreamed())
                .description("Records this node received by partition streams and stored").register(registry);
        FunctionCounter.builder("cairn.moves.streamed.paxos.states", s, x -> x.snapshot().moves().statesStreamed())
                .description("Paxos states of moving keys this node received by partition streams and joined into its own").register(registry);
        FunctionCounter.builder("cairn.moves.stream.errors", s, x -> x.snapshot().moves().streamErrors())
                .description("Stream chunks that failed (error answer, timeout, invalid chunk, failed store); each is retried").register(registry);
        FunctionCounter.builder("cairn.moves.streams.completed", s, x -> x.snapshot().moves().streamsCompleted())
                .description("Partitions this node finished streaming in").register(registry);
        FunctionCounter.builder("cairn.moves.chunks.served", s, x -> x.snapshot().moves().chunksServed())
                .description("Stream chunks this node sent as an owner").register(registry);
        FunctionCounter.builder("cairn.moves.partitions.dropped", s, x -> x.snapshot().moves().partitionsDropped())
                .description("Partitions whose records this node deleted after they moved away").register(registry);
        long bytesPerSecond = driver.exchangeSettings().maxBytesPerSecond();
        long cycle = driver.exchangeSettings().cycleMillis();
        Gauge.builder("cairn.repair.keys.differing", s, x -> x.snapshot().repair().differingKeys())
                .description("Records the last anti-entropy rounds found to repair and not yet repaired").register(registry);
        Gauge.builder("cairn.repair.segments.differing", s, x -> x.snapshot().repair().differingSegments())
                .description("Tree segments the last anti-entropy rounds found differing").register(registry);
        Gauge.builder("cairn.repair.bytes.pending", s, x -> x.snapshot().repair().bytesToRepair()).baseUnit("bytes")
                .description("About how many bytes those records hold").register(registry);
        Gauge.builder("cairn.repair.partitions.never.exchanged", s, x -> x.snapshot().repair().partitionsNeverExchanged())
                .description("Partitions with a replica pair that has not completed an exchange since start").register(registry);
        Gauge.builder("cairn.repair.oldest.exchange.age.seconds", s, x -> x.snapshot().repair().oldestExchangeAgeMillis() / 1000.0)
                .description("The longest any partition has gone without a completed exchange").register(registry);
        Gauge.builder("cairn.repair.eta.seconds", s, x -> x.snapshot().repair().etaMillis(bytesPerSecond, cycle) / 1000.0)
                .description("Estimated time to full convergence (0 when nothing is known to differ)").register(registry);
        FunctionCounter.builder("cairn.repair.rounds", s, x -> x.snapshot().repair().totals().rounds())
                .description("Anti-entropy rounds started").register(registry);
        FunctionCounter.builder("cairn.repair.rounds.clean", s, x -> x.snapshot().repair().totals().roundsClean())
                .description("Anti-entropy rounds that found (or left) nothing to repair").register(registry);
        FunctionCounter.builder("cairn.repair.rounds.failed", s, x -> x.snapshot().repair().totals().roundsFailed())
                .description("Anti-entropy rounds that failed (peer down, timeout, tree not built)").register(registry);
        FunctionCounter.builder("cairn.repair.keys.moved", s, x -> x.snapshot().repair().totals().keysPushed()).tag("direction", "pushed")
                .description("Records anti-entropy copied to another replica").register(registry);
        FunctionCounter.builder("cairn.repair.keys.moved", s, x -> x.snapshot().repair().totals().keysFetched()).tag("direction", "fetched")
                .description("Records anti-entropy copied to another replica").register(registry);
        FunctionCounter.builder("cairn.repair.bytes.moved", s, x -> x.snapshot().repair().totals().bytesMoved()).baseUnit("bytes")
                .description("Value bytes anti-entropy moved between replicas").register(registry);
        FunctionCounter.builder("cairn.repair.bytes.exchanged", s, x -> x.snapshot().repair().totals().bytesExchanged()).baseUnit("bytes")
                .description("Bytes the anti-entropy rounds this node started sent and received (trees, listings, records, framing)")
                .register(registry);
    }

    /** For certificate expiry gauges: negative once {@code instant} has passed. */
    private static double secondsUntil(Instant instant) {
        return Duration.between(Instant.now(), instant).toSeconds();
    }

    private static HintBacklog backlog(ClusterDriver.Snapshot s, int target) {
        return s.hints().getOrDefault(target, NO_HINTS);
    }

    private static final HintBacklog NO_HINTS = new HintBacklog(0, 0, 0);

    /** Per-peer request latency and errors, fed by the cluster driver. */
    private final Map<Integer, Timer> heartbeatTimers = new ConcurrentHashMap<>();

    public PeerRequests.Sink peerRequests() {
        return new PeerRequests.Sink() {
            @Override
            public void latency(int peer, String kind, long nanos) {
                peerTimers.computeIfAbsent(peer + ":" + kind, k -> Timer.builder("cairn.peer.requests")
                        .description("Internode requests by peer and kind, send to response")
                        .tag("peer", Integer.toString(peer)).tag("kind", kind)
                        .serviceLevelObjectives(LATENCY_BUCKETS)
                        .register(registry)).record(nanos, TimeUnit.NANOSECONDS);
            }

            @Override
            public void heartbeat(int peer, long intervalNanos) {
                heartbeatTimers.computeIfAbsent(peer, k -> Timer.builder("cairn.cluster.heartbeat.interval")
                        .description("Time between two heartbeats from a peer as this node handled them; far above cluster.heartbeatInterval means a stalled core (either side) or a slow network")
                        .tag("peer", Integer.toString(peer))
                        // Buckets, not client-side percentiles: Prometheus's timer with buckets drops
                        // those. A fine histogram gives p99 within a bucket's width (histogram_quantile).
                        .publishPercentileHistogram()
                        .minimumExpectedValue(Duration.ofMillis(10))
                        .maximumExpectedValue(Duration.ofSeconds(30))
                        .serviceLevelObjectives(Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2))
                        .register(registry)).record(intervalNanos, TimeUnit.NANOSECONDS);
            }

            @Override
            public void error(int peer, String kind, String reason) {
                peerErrors.computeIfAbsent(peer + ":" + kind + ":" + reason, k -> Counter.builder("cairn.peer.request.errors")
                        .description("Internode requests that failed, by peer, kind and reason (error, refused, timeout)")
                        .tag("peer", Integer.toString(peer)).tag("kind", kind).tag("reason", reason)
                        .register(registry)).increment();
            }
        };
    }

    public String scrape() {
        if (cluster != null) {
            syncMembers();
        }
        return registry.scrape();
    }

    // The cluster whose members have per-member meters (null on a single node), and those meters by
    // member id: they follow the membership, so a removed member's go away and a joined one's appear.
    private ClusterDriver cluster;
    private final Map<Integer, MemberMeters> memberMeters = new java.util.HashMap<>();

    /** A member's meters; {@code transport} once its transport figures are bound (the peer's stats exist). */
    private static final class MemberMeters {
        final java.util.List<io.micrometer.core.instrument.Meter> meters = new java.util.ArrayList<>();
        boolean transport;
    }

    /**
     * Binds per-member meters for the driver's current members and removes those of members no
     * longer in it (at bind time and before each scrape: membership changes while the node runs,
     * and an alert on {@code cairn_peer_alive == 0} must neither fire forever for a removed member
     * nor miss one that joined).
     */
    private synchronized void syncMembers() {
        ClusterDriver s = cluster;
        java.util.Set<Integer> current = new java.util.HashSet<>();
        for (Member m : s.members()) {
            current.add(m.id());
            MemberMeters bound = memberMeters.computeIfAbsent(m.id(), id -> bindMember(s, id));
            if (!bound.transport && m.id() != s.nodeId()) {
                bindPeerTransport(s, m.id(), bound);
            }
        }
        memberMeters.entrySet().removeIf(e -> {
            if (current.contains(e.getKey())) {
                return false;
            }
            e.getValue().meters.forEach(registry::remove);
            return true;
        });
    }

    private MemberMeters bindMember(ClusterDriver s, int id) {
        MemberMeters bound = new MemberMeters();
        String target = Integer.toString(id);
        // Micrometer holds gauge state weakly: bind to the driver itself, which the node keeps.
        bound.meters.add(Gauge.builder("cairn.hints.pending", s, x -> backlog(x.snapshot(), id).count()).tag("target", target)
                .description("Hints waiting to be handed to the target").register(registry));
        bound.meters.add(Gauge.builder("cairn.hints.pending.bytes", s, x -> backlog(x.snapshot(), id).bytes()).tag("target", target)
                .description("Bytes of hints waiting for the target").register(registry));
        bound.meters.add(Gauge.builder("cairn.hints.oldest.age.seconds", s, x -> x.snapshot().oldestHintAgeMillis(id) / 1000.0).tag("target", target)
                .description("Age of the oldest hint waiting for the target: how far behind that replica is").register(registry));
        bound.meters.add(Gauge.builder("cairn.peer.alive", s, x -> x.snapshot().alive().getOrDefault(id, false) ? 1 : 0).tag("peer", target)
                .description("1 while the failure detector considers the peer up").register(registry));
        if (id != s.nodeId()) {
            bound.meters.add(Gauge.builder("cairn.clock.peer.offset.seconds", s, x -> {
                        var o = x.clockReport().offsets().get(id);
                        return o == null ? Double.NaN : o.offsetMillis() / 1000.0;
                    }).tag("peer", target)
                    .description("The peer's clock minus this node's, from heartbeats (NaN without a recent measurement)").register(registry));
        }
        return bound;
    }

    private void bindPeerTransport(ClusterDriver s, int id, MemberMeters bound) {
        PeerStats ps = s.transport().stats(id);
        if (ps == null) {
            return; // Not a peer of the transport yet: bound at a later scrape.
        }
        bound.transport = true;
        String target = Integer.toString(id);
        bound.meters.add(FunctionCounter.builder("cairn.peer.messages.sent", ps, PeerStats::messagesSent).tag("peer", target)
                .description("Internode messages sent to the peer").register(registry));
        bound.meters.add(FunctionCounter.builder("cairn.peer.messages.received", ps, PeerStats::messagesReceived).tag("peer", target)
                .description("Internode messages received from the peer").register(registry));
        bound.meters.add(FunctionCounter.builder("cairn.peer.messages.dropped", ps, PeerStats::messagesDropped).tag("peer", target)
                .description("Messages to the peer dropped (queue full, cut, connection lost)").register(registry));
        bound.meters.add(Gauge.builder("cairn.peer.send.queue", ps, PeerStats::queueDepth).tag("peer", target)
                .description("Messages queued for the peer").register(registry));
        bound.meters.add(Gauge.builder("cairn.peer.connected", ps, p -> p.connected() ? 1 : 0).tag("peer", target)
                .description("1 while the outbound connection to the peer is up").register(registry));
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
