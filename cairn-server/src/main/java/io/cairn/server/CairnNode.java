package io.cairn.server;

import io.cairn.clock.HybridClock;
import io.cairn.invariant.Invariant;
import io.cairn.namespace.Namespace;
import io.cairn.antientropy.PurgeLedger;
import io.cairn.replica.LocalReplica;
import io.cairn.replica.ReplicaAntiEntropy;
import io.cairn.replica.ReplicaStats;
import io.cairn.membership.Member;
import io.cairn.server.cluster.ClusterDriver;
import io.cairn.server.cluster.ClusterNamespaces;
import io.cairn.server.service.LocalNamespaces;
import io.cairn.server.service.Namespaces;
import io.cairn.server.cluster.ElasticMembership;
import io.cairn.cluster.Proposer;
import io.cairn.membership.Membership;
import io.cairn.message.Message;
import io.cairn.server.config.NodeConfig;
import io.cairn.server.health.NodeHealth;
import io.cairn.server.health.Watchdog;
import io.cairn.server.internode.InternodeSettings;
import io.cairn.server.internode.InternodeTransport;
import io.cairn.server.http.HttpFrontEnd;
import io.cairn.server.http.HttpSettings;
import io.cairn.server.http.NodeApi;
import io.cairn.auth.TokenCache;
import io.cairn.server.security.AdminCredential;
import io.cairn.server.security.Authenticator;
import io.cairn.server.security.TokenAdmin;
import io.cairn.server.security.TokenStore;
import io.cairn.server.security.AuditLog;
import io.cairn.server.security.AuditSink;
import io.cairn.server.security.HttpTls;
import io.cairn.server.security.NodeTls;
import io.cairn.server.security.TlsProvider;
import io.cairn.server.service.KvService;
import io.cairn.server.service.LocalService;
import io.cairn.server.service.NamespacedService;
import io.cairn.auth.TokenKeys;
import io.cairn.server.metrics.NodeMetrics;
import io.cairn.server.rocks.DelayableEngine;
import io.cairn.server.rocks.RocksEngine;
import io.cairn.storage.StorageEngine;
import io.cairn.server.write.WritePath;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running Cairn node: opens storage, recovers the replica, starts the write path and the HTTP
 * front end, and shuts them down in reverse order.
 */
public final class CairnNode implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CairnNode.class);
    public static final String VERSION = versionOf();

    private final NodeConfig config;
    private final RocksEngine engine;
    private final LocalReplica replica;
    private final WritePath writes;
    private final NodeMetrics metrics;
    private final HttpFrontEnd http;
    private final ClusterDriver cluster; // null on a single node
    private final ElasticMembership elastic; // null unless the cluster's membership can change
    private final LocalService local; // null on a cluster
    private final NodeHealth health;
    private final Watchdog watchdog;
    private final Instant started = Instant.now();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean stalled;
    // RocksDB delays (or stops) writes: large requests are shed first (see http.largeRequestBytes).
    private volatile boolean throttled;
    private final Thread stallWatcher;
    // Bounds the audit events waiting for the disk; beyond it they are dropped and counted.
    private static final int AUDIT_QUEUE = 4096;
    private final AuditLog audit;
    // Null when authentication is off.
    private final TokenAdmin tokenAdmin;

    public static CairnNode start(NodeConfig config) throws InterruptedException {
        return new CairnNode(config, System::exit);
    }

    /** Starts a node whose fatal errors exit through {@code exit} rather than {@link System#exit} (tests). */
    public static CairnNode start(NodeConfig config, IntConsumer exit) throws InterruptedException {
        return new CairnNode(config, exit);
    }

    private CairnNode(NodeConfig given, IntConsumer exit) throws InterruptedException {
        this.health = new NodeHealth(given.exitOnFatalError(), exit);
        this.engine = new RocksEngine(given.dataDir().resolve("rocksdb"), given.rocks());
        // Whatever started, newest first, so a failed start stops it in reverse order.
        java.util.Deque<AutoCloseable> started = new java.util.ArrayDeque<>();
        try {
            // A cluster whose members have metadata addresses changes membership through the metadata
            // log, which also holds the settings every member must share: the node runs with the
            // cluster's values of those, so the log opens before anything that uses them.
            this.elastic = given.cluster().enabled() && ElasticMembership.configured(given)
                    ? ElasticMembership.open(given, Namespace.DEFAULT_PARTITIONS,
                            given.auth().enabled() ? given.auth().adminToken(given.dataDir(), given.cluster().tlsDir()) : null,
                            io.cairn.server.metadata.MetadataTls.load(given.cluster().tlsDir(), given.nodeId(), Clock.systemUTC()))
                    : null;
            if (elastic != null) {
                started.push(elastic);
            }
            NodeConfig config = elastic != null ? elastic.config() : given;
            this.config = config;
            this.audit = new AuditLog(config.audit().dir(config.dataDir()), config.audit().maxFileBytes(), config.audit().maxFiles(),
                    AUDIT_QUEUE, config.nodeId(), Clock.systemUTC());
            started.push(audit);
            HybridClock clock = new HybridClock(System::currentTimeMillis, config.nodeId(), config.cluster().maxClockOffset().toMillis());
            // Test clusters may slow their disk on demand (POST /admin/faults?diskDelay=...).
            StorageEngine data = config.cluster().faultInjection() ? new DelayableEngine(engine) : engine;
            // A cluster node keeps segment trees for anti-entropy, and purges only what its
            // exchanges confirmed every replica holds; a single node has no one to ask.
            PurgeLedger ledger = new PurgeLedger();
            // With anti-entropy turned off (antiEntropy.enabled=false) a cluster node keeps no
            // trees and purges by time alone, as before anti-entropy existed.
            ReplicaAntiEntropy antiEntropy = config.cluster().enabled() && config.antiEntropy().enabled()
                    ? new ReplicaAntiEntropy(true, ledger, config.antiEntropy().purgeRecheck().toMillis()) : ReplicaAntiEntropy.NONE;
            this.replica = new LocalReplica(data, clock, config.durability(), config.ttl().purgeGrace().toMillis(), config.limits(), antiEntropy);
            this.writes = new WritePath(replica, config.write().queueCapacity(), config.write().maxGroupSize(), config.write().maxGroupBytes(),
                    config.ttl().sweepInterval().toMillis(), config.ttl().sweepBatchSize(), config.antiEntropy().scrubBytesPerSecond(),
                    config.antiEntropy().scrubInterval().toMillis(), () -> stalled, health);
            started.push(writes);
            this.metrics = new NodeMetrics();
            metrics.bindHealth(health);
            metrics.bindStorage(engine);
            metrics.bindReplica(replica.stats());
            metrics.bindClock(clock);
            metrics.bindWriteQueue(writes::queueDepth);
            Namespace ns = Namespace.defaults(config.ttl().defaultTtl().toMillis());
            this.cluster = config.cluster().enabled() ? startCluster(config, ns, replica, writes, data, metrics, health, audit, ledger, elastic) : null;
            if (elastic != null) {
                elastic.follow(cluster);
                metrics.bindMetadata(elastic);
            }
            if (cluster != null) {
                started.push(cluster);
            }
            this.local = cluster == null ? new LocalService(ns, replica, writes, metrics) : null;
            if (local != null) {
                started.push(local);
            }
            KvService service = cluster != null ? cluster : local;
            Authenticator authenticator = null;
            if (config.auth().enabled()) {
                ClusterDriver c = cluster;
                NamespacedService node = c != null ? c : local;
                TokenStore store = new TokenStore(node.in(TokenKeys.namespace()), data, () -> c == null ? null : c.cannotListTokens());
                NodeConfig.Auth a = config.auth();
                AdminCredential admin = AdminCredential.open(a.adminToken(config.dataDir(), config.cluster().enabled() ? config.cluster().tlsDir() : null),
                        Clock.systemUTC(), audit);
                authenticator = new Authenticator(admin, store,
                        new TokenCache(a.maxCachedTokens(), a.tokenCacheTtl().toMillis(), a.unknownCacheTtl().toMillis()),
                        a.lookupTimeout().toMillis(), a.maxConcurrentLookups(), a.maxAuditedRefusalsPerSecond(), Clock.systemUTC(), () -> System.nanoTime() / 1_000_000L, audit, metrics.auth());
                this.tokenAdmin = new TokenAdmin(store, authenticator, admin, a.defaultTokenTtl(), a.maxTokenTtl(), Clock.systemUTC(), audit);
            } else {
                this.tokenAdmin = null;
            }
            NamespacedService everyNamespace = cluster != null ? cluster : local;
            Namespaces namespaces = cluster != null
                    ? new ClusterNamespaces(cluster, elastic, config.maxNamespaces(), config.elastic().metadataTimeout())
                    : LocalNamespaces.open(ns, local, config.maxNamespaces());
            NodeApi api = new NodeApi(config.limits(), service, cluster, metrics, config.idempotencyRetention(),
                    this::readiness, this::liveness, this::status, audit, authenticator, tokenAdmin,
                    config.auth().metricsOpen(), elastic, everyNamespace, namespaces);
            HttpTls httpTls = config.http().tls() ? HttpTls.load(config.http().tlsCert(), config.http().tlsKey(), Clock.systemUTC(), audit) : null;
            this.http = new HttpFrontEnd(config.http().host(), config.http().port(), config.http().ioThreads(),
                    config.http().limits(), api, metrics, health, () -> throttled, httpTls);
            started.push(http);
            metrics.bindHttp(http);
            this.watchdog = new Watchdog(health, config.stallTimeout());
            watchdog.watch("http", http.eventLoops());
            watchdog.watch("write-applier", writes.applierThread());
            if (cluster != null) {
                watchdog.watch("cluster-core", cluster.coreExecutors());
                watchdog.watch("internode", cluster.transport().eventLoops());
            }
        } catch (InterruptedException | RuntimeException e) {
            started.forEach(c -> closeAfterFailedStart(c, e));
            engine.close();
            throw e;
        }
        stallWatcher = new Thread(this::watchStalls, "cairn-stall-watch");
        stallWatcher.setDaemon(true);
        stallWatcher.start();
        log.atInfo().addKeyValue("node", config.nodeId()).addKeyValue("http", config.http().host() + ":" + http.port())
                .addKeyValue("https", config.http().tls()).addKeyValue("tlsProvider", TlsProvider.name())
                .addKeyValue("dataDir", config.dataDir().toAbsolutePath())
                .addKeyValue("durability", config.durability()).log("Cairn node started");
    }

    /** Joins the cluster: listens for peers on this node's internode address and starts the cluster core. */
    private static ClusterDriver startCluster(NodeConfig config, Namespace ns, LocalReplica replica, WritePath writes,
                                              StorageEngine engine, NodeMetrics metrics, NodeHealth health, AuditSink audit, PurgeLedger ledger,
                                              ElasticMembership elastic) {
        NodeConfig.Cluster c = config.cluster();
        Member self = c.members().stream().filter(m -> m.id() == config.nodeId()).findFirst().orElseThrow();
        Membership first = elastic != null ? elastic.membership()
                : Membership.of(Message.FIRST_EPOCH, c.members(), ns.partitioner().partitions(), c.replicationFactor());
        Map<Integer, InetSocketAddress> peers = new LinkedHashMap<>();
        for (Member m : first.members()) {
            peers.put(m.id(), InetSocketAddress.createUnresolved(m.internodeHost(), m.internodePort()));
        }
        // Read and checked before anything listens: a node with unusable certificates does not start.
        NodeTls tls = NodeTls.load(c.tlsDir(), config.nodeId(), Clock.systemUTC(), audit);
        ClusterDriver driver = new ClusterDriver(config, ns, replica, writes, engine,
                (inbound, lanes) -> new InternodeTransport(config.nodeId(), self.internodeHost(), self.internodePort(),
                        peers, replica.clock()::lastTimestamp, inbound, lanes, InternodeSettings.defaults().withMessageBudget(c.requestTimeout()), tls, audit),
                metrics.peerRequests(), health, ledger, first, elastic != null ? elastic.proposer() : Proposer.NONE);
        metrics.bindCluster(driver);
        log.atInfo().addKeyValue("node", config.nodeId()).addKeyValue("zone", self.zone())
                .addKeyValue("internode", self.internodeAddress()).addKeyValue("members", first.members().size())
                .addKeyValue("epoch", first.epoch())
                .addKeyValue("replicationFactor", c.replicationFactor()).addKeyValue("tlsDir", c.tlsDir()).log("joined cluster");
        return driver;
    }

    /**
     * Closes what a failed start had opened. The start's own failure is what the caller sees; an
     * invariant violation while closing rides along with it as suppressed, never dropped.
     */
    private static void closeAfterFailedStart(AutoCloseable c, Exception startFailure) {
        try {
            c.close();
        } catch (Exception e) {
            if (Invariant.violationIn(e) != null) {
                startFailure.addSuppressed(e);
            }
            log.atWarn().setCause(e).log("error while closing after a failed start");
        }
    }

    /** Polls RocksDB's write-stop flag so the write path can refuse fast instead of queueing behind a stall. */
    private void watchStalls() {
        while (!closed.get()) {
            stalled = engine.writesStopped();
            throttled = engine.writesThrottled();
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** The node's admin credential file, or null when authentication is off. */
    public java.nio.file.Path adminTokenFile() {
        return tokenAdmin == null ? null : tokenAdmin.adminFile();
    }

    public int httpPort() {
        return http.port();
    }

    public NodeConfig config() {
        return config;
    }

    public ReplicaStats stats() {
        return replica.stats();
    }

    boolean ready() {
        return !closed.get() && !writes.failed() && !engine.failed() && !stalled && health.serving()
                && (cluster == null || (cluster.clockUnsafe() == null && cluster.waitingForPeers().isEmpty() && !cluster.isolated()))
                && (elastic == null || (!elastic.removed() && applyingFor() <= config.stallTimeout().toNanos()
                        && cluster.behindPeersMillis() <= config.stallTimeout().toMillis()));
    }

    // Since when (System.nanoTime) the data path has been behind the newest epoch this node's
    // metadata log applied; 0 while it is not.
    private volatile long behindSinceNanos;

    /**
     * How long (ns) the data path (routing, namespaces) has been behind the newest epoch the
     * metadata log applied here, 0 when it is not: every epoch takes it a moment to reach every
     * core shard, but one that takes longer than {@code node.stallTimeout} leaves the node serving
     * from an old epoch (say, without a namespace created meanwhile), so it is not ready.
     */
    private long applyingFor() {
        if (cluster == null || elastic == null || cluster.membership().epoch() >= elastic.state().epoch()) {
            behindSinceNanos = 0;
            return 0;
        }
        long now = System.nanoTime();
        long since = behindSinceNanos;
        if (since == 0) {
            behindSinceNanos = now;
            return 0;
        }
        return now - since;
    }

    private Map<String, Object> readiness() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ready", ready());
        m.put("storageFailed", writes.failed() || engine.failed());
        m.put("storageStalled", stalled);
        m.put("shuttingDown", closed.get());
        m.put("fatalError", health.fatalReason());
        m.put("stalledThreads", health.stalls());
        if (cluster != null) {
            // Why this node refuses writes because of its clock (see ClockMonitor), or null.
            m.put("clockUnsafe", cluster.clockUnsafe());
            // Members not heard from yet while the node settles after its start.
            m.put("waitingForPeers", cluster.waitingForPeers());
            // Partitions it cannot reach a majority of replicas of; all of them: isolated, not ready.
            m.put("partitionsWithoutQuorum", cluster.partitionsWithoutQuorum());
            m.put("isolated", cluster.isolated());
        }
        if (elastic != null) {
            // A node that was decommissioned, removed or replaced serves nothing any more.
            m.put("removedFromCluster", elastic.removedFromCluster());
            m.put("epoch", elastic.state().epoch());
            // The epoch requests are routed by; below "epoch" for longer than node.stallTimeout: not ready.
            m.put("servingEpoch", cluster.membership().epoch());
            // The newest epoch a peer has shown; above "servingEpoch" for longer than
            // node.stallTimeout (this node cannot reach the metadata log to catch up): not ready.
            ClusterDriver.Snapshot snap = cluster.snapshot();
            m.put("newestPeerEpoch", snap == null ? null : snap.newestEpochSeen());
        }
        return m;
    }

    /** What /health reports: whether this process can recover without a restart. */
    private Map<String, Object> liveness() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", health.healthy() ? "ok" : "failed");
        if (!health.healthy()) {
            m.put("fatalError", health.fatalReason());
        }
        return m;
    }

    public NodeHealth health() {
        return health;
    }

    /** The cluster core's shard threads (tests); empty on a single node. */
    public java.util.List<io.netty.util.concurrent.EventExecutor> clusterCoreExecutors() {
        return cluster == null ? java.util.List.of() : cluster.coreExecutors();
    }

    /** The HTTP front end, for tests that need its event loops. */
    public HttpFrontEnd httpFrontEnd() {
        return http;
    }

    private Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("nodeId", config.nodeId());
        m.put("version", VERSION);
        m.put("startedAt", started.toString());
        m.put("uptimeSeconds", Duration.between(started, Instant.now()).toSeconds());
        m.put("ready", ready());
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("http", config.http().host() + ":" + http.port());
        cfg.put("dataDir", config.dataDir().toAbsolutePath().toString());
        cfg.put("durability", config.durability().name().toLowerCase(java.util.Locale.ROOT));
        cfg.put("maxKeyBytes", config.limits().maxKeyBytes());
        cfg.put("maxValueBytes", config.limits().maxValueBytes());
        cfg.put("maxBatchOperations", config.limits().maxBatchOperations());
        cfg.put("maxBatchBodyBytes", config.limits().maxBatchBodyBytes());
        cfg.put("maxBatchReadBytes", config.limits().maxBatchReadBytes());
        cfg.put("defaultTtl", config.ttl().defaultTtl().isZero() ? "none" : config.ttl().defaultTtl().toString());
        cfg.put("purgeGrace", config.ttl().purgeGrace().toString());
        cfg.put("idempotencyRetention", config.idempotencyRetention().toString());
        cfg.put("requestTimeout", config.http().requestTimeout().toString());
        HttpSettings hl = config.http().limits();
        cfg.put("maxConnections", hl.maxConnections());
        cfg.put("maxInflightBytes", hl.maxInflightBytes());
        cfg.put("maxUnflushedBytes", hl.maxUnflushedBytes());
        cfg.put("writeQueueCapacity", config.write().queueCapacity());
        Map<String, Object> auth = new LinkedHashMap<>();
        auth.put("enabled", config.auth().enabled());
        if (config.auth().enabled()) {
            auth.put("adminTokenFile", tokenAdmin.adminFile().toAbsolutePath().toString());
            auth.put("tokenCacheTtl", config.auth().tokenCacheTtl().toString());
            auth.put("metricsOpen", config.auth().metricsOpen());
        }
        cfg.put("auth", auth);
        m.put("config", cfg);
        Map<String, Object> storage = new LinkedHashMap<>();
        storage.put("engine", "rocksdb");
        storage.put("estimatedKeys", engine.property("rocksdb.estimate-num-keys"));
        storage.put("sstBytes", engine.property("rocksdb.live-sst-files-size"));
        storage.put("memtableBytes", engine.property("rocksdb.cur-size-all-mem-tables"));
        storage.put("pendingCompactionBytes", engine.property("rocksdb.estimate-pending-compaction-bytes"));
        storage.put("runningCompactions", engine.property("rocksdb.num-running-compactions"));
        storage.put("writeStopped", stalled);
        storage.put("stallMicros", engine.stallMicros());
        storage.put("blockCacheBytes", engine.blockCacheUsageBytes());
        storage.put("corruptRecords", replica.stats().corruptRecords());
        m.put("storage", storage);
        Map<String, Object> https = new LinkedHashMap<>();
        HttpTls httpTls = http.tls();
        https.put("enabled", httpTls != null);
        if (httpTls != null) {
            https.putAll(certificateStatus(httpTls.notAfter(), httpTls.reloads(), httpTls.reloadFailures()));
        }
        m.put("https", https);
        Map<String, Object> backlog = new LinkedHashMap<>();
        backlog.put("writeQueue", writes.queueDepth());
        backlog.put("ttlSweep", replica.stats().sweepBacklog());
        backlog.put("idempotencyRecords", replica.stats().idempotencyRecords());
        backlog.put("httpConnections", http.connections());
        backlog.put("httpInflightRequestBytes", http.inflightRequestBytes());
        backlog.put("httpUnflushedResponseBytes", http.unflushedResponseBytes());
        if (cluster != null) {
            ClusterDriver.Snapshot snap = cluster.freshSnapshot();
            backlog.put("hintsPending", snap.hintsPending());
            backlog.put("hintBytesPending", snap.hintBytesPending());
            // Hints are what replicas missed: the oldest one is how far the furthest-behind replica lags.
            backlog.put("replicaLagMillis", snap.oldestHintAgeMillis());
            Map<String, Object> cl = new LinkedHashMap<>();
            cl.put("members", config.cluster().members().size());
            cl.put("replicationFactor", config.cluster().replicationFactor());
            cl.put("readQuorum", config.cluster().readQuorum().toString());
            cl.put("writeQuorum", config.cluster().writeQuorum().toString());
            cl.put("peersAlive", snap.alive().entrySet().stream().filter(e -> e.getKey() != config.nodeId() && e.getValue()).count());
            NodeTls tls = cluster.transport().tlsMaterial();
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("mutualTls", tls != null);
            if (tls != null) {
                t.putAll(certificateStatus(tls.notAfter(), tls.reloads(), tls.reloadFailures()));
                t.put("caNotAfter", tls.caNotAfter().toString());
            }
            t.put("refusals", cluster.transport().tlsRefusals());
            cl.put("internodeTls", t);
            cl.putAll(ClusterDriver.statsMap(snap));
            m.put("cluster", cl);
        }
        // Anti-entropy's backlog (cluster) and the scrub (every node); details in /admin/repair.
        Map<String, Object> repair = new LinkedHashMap<>();
        if (cluster != null) {
            repair.putAll(cluster.repairMap(cluster.snapshot().repair()));
        }
        repair.put("scrub", ClusterDriver.scrubMap(replica));
        m.put("repair", repair);
        m.put("backlogs", backlog);
        return m;
    }

    /** A certificate in use as /admin/status shows it: when it expires, and how its files were reloaded. */
    private static Map<String, Object> certificateStatus(Instant notAfter, long reloads, long reloadFailures) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("certificateNotAfter", notAfter.toString());
        m.put("certificateExpiresInSeconds", Duration.between(Instant.now(), notAfter).toSeconds());
        m.put("reloads", reloads);
        m.put("reloadFailures", reloadFailures);
        return m;
    }

    @Override
    public void close() {
        stop(true);
    }

    /**
     * Stops without waiting for the HTTP requests in flight: their connections are cut, as a
     * crash would cut them (for tests that need a node to stop mid-request); the rest stops as
     * {@link #close} does.
     */
    public void stopNow() {
        stop(false);
    }

    private void stop(boolean drain) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        log.atInfo().addKeyValue("node", config.nodeId()).log("Cairn node stopping");
        watchdog.close();
        http.close(drain);
        if (cluster != null) {
            cluster.close();
        }
        if (elastic != null) {
            elastic.close();
        }
        if (local != null) {
            local.close();
        }
        writes.close();
        if (!writes.failed() && health.healthy()) {
            // Nothing writes any more: the trees as they stand are exactly the data, so the next
            // start can skip rebuilding them.
            try {
                replica.persistTrees();
            } catch (RuntimeException e) {
                log.atWarn().setCause(e).log("could not store the anti-entropy trees; the next start rebuilds them");
            }
        }
        stallWatcher.interrupt();
        metrics.close();
        engine.close();
        audit.close();
        log.atInfo().addKeyValue("node", config.nodeId()).log("Cairn node stopped");
    }

    private static String versionOf() {
        String v = CairnNode.class.getPackage().getImplementationVersion();
        return v != null ? v : "0.1.0-SNAPSHOT";
    }
}
