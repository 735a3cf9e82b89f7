package io.cairn.server.cluster;

import io.cairn.clock.HybridClock;
import io.cairn.cluster.ClusterNode;
import io.cairn.cluster.ClusterSettings;
import io.cairn.cluster.ReplicaCopy;
import io.cairn.cluster.CoordinatorSettings;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.cluster.HintBacklog;
import io.cairn.membership.Member;
import io.cairn.membership.Membership;
import io.cairn.message.Message;
import io.cairn.namespace.Namespace;
import io.cairn.placement.PartitionMap;
import io.cairn.request.Quorum;
import io.cairn.request.IdempotencyTag;
import io.cairn.record.Record;
import io.cairn.request.Answer;
import io.cairn.request.Op;
import io.cairn.request.WriteOutcome;
import io.cairn.request.WriteRequest;
import io.cairn.replica.LocalReplica;
import io.cairn.cluster.Scheduler;
import io.cairn.server.config.NodeConfig;
import io.cairn.server.health.NodeHealth;
import io.cairn.server.service.ClusterAdmin;
import io.cairn.server.service.KvService;
import io.cairn.server.http.Etags;
import io.cairn.server.internode.InternodeTransport;
import io.cairn.server.rocks.DelayableEngine;
import io.cairn.invariant.Invariant;
import io.cairn.server.write.WritePath;
import io.cairn.storage.StorageEngine;
import io.netty.channel.DefaultEventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.HashMap;

/**
 * Runs this node's {@link ClusterNode} in production: one dedicated core thread (a Netty
 * {@link DefaultEventLoop}) executes every core entry point — client requests from the HTTP front
 * end, messages from the internode transport, scheduled tasks and local write completions — so
 * the core stays single-threaded exactly as under the simulator.
 */
public final class ClusterDriver implements KvService, ClusterAdmin, AutoCloseable {
    /** The namespace holding replicated idempotency outcomes; same partitioning as the data. */
    public static final int IDEMPOTENCY_NAMESPACE_ID = 2;

    private final DefaultEventLoop coreLoop = new DefaultEventLoop(r -> {
        Thread t = new Thread(r, "cairn-cluster-core");
        t.setDaemon(true);
        return t;
    });
    // Every task for the core goes through here: an exception escaping the core is a bug that
    // would otherwise kill its thread (or, in a scheduled task, vanish); it is reported as fatal.
    private final Executor core = task -> coreLoop.execute(guarded(task));
    private final NodeHealth health;
    private final NodeConfig.Cluster config;
    private final Namespace namespace;
    private final Namespace idempotency;
    private final ClusterNode node;
    private final InternodeTransport transport;
    private final PeerRequests peerRequests;
    private final LocalReplica replica;
    // The core's storage effects, off its thread; stopped after the core.
    private final WritePathStore store;
    private final StorageEngine engine;
    // The node's membership as of its last change; read from any thread.
    private volatile Membership membership;
    // Peer → when its last heartbeat was handled (System.nanoTime); core thread only.
    private final Map<Integer, Long> lastHeartbeatNanos = new HashMap<>();
    private final boolean faultInjection;
    // Replaced every second on the core thread; read by metrics and status from any thread.
    private volatile Snapshot snapshot;
    // The clock verdict, refreshed with the snapshot; read by readiness and metrics.
    private final ClockReport clockReport;

    /**
     * What the node's metrics and status report about the cluster, as of {@code takenAtMillis}.
     *
     * @param hints per target: pending hints, their bytes and the age of the oldest (the replica lag)
     */
    public record Snapshot(long takenAtMillis, Map<Integer, HintBacklog> hints, Map<Integer, Boolean> alive,
                           long hintsStored, long hintsReplayed, long hintsDropped, long hintsFailed, long readRepairs,
                           long quorumFailures, long outcomeUnknown, long fallbackWrites, int requestsInFlight,
                           long idempotencyReplays, long idempotencyUnrecorded) {
        public long hintsPending() {
            return hints.values().stream().mapToLong(HintBacklog::count).sum();
        }

        public long hintBytesPending() {
            return hints.values().stream().mapToLong(HintBacklog::bytes).sum();
        }

        /** Age of the oldest pending hint for {@code target}, 0 when none. */
        public long oldestHintAgeMillis(int target) {
            HintBacklog b = hints.get(target);
            return b == null || b.count() == 0 ? 0 : Math.max(0, takenAtMillis - b.oldestMillis());
        }

        public long oldestHintAgeMillis() {
            return hints.keySet().stream().mapToLong(this::oldestHintAgeMillis).max().orElse(0);
        }
    }

    /**
     * @param transportFactory builds the internode transport given the inbound handler and the
     *                         executor inbound messages must be delivered on
     * @param peerSink         receives per-peer request latencies and errors
     */
    public ClusterDriver(NodeConfig config, Namespace namespace, LocalReplica replica, WritePath writes, StorageEngine engine,
                         BiFunction<BiConsumer<Integer, Message>, Executor, InternodeTransport> transportFactory,
                         PeerRequests.Sink peerSink, NodeHealth health) {
        this.health = health;
        this.config = config.cluster();
        this.namespace = namespace;
        this.idempotency = new Namespace(IDEMPOTENCY_NAMESPACE_ID, "idempotency", namespace.partitioner(), 0);
        this.replica = replica;
        this.engine = engine;
        this.faultInjection = config.cluster().faultInjection();
        NodeConfig.Cluster c = config.cluster();
        ClusterSettings settings = new ClusterSettings(c.replicationFactor(), c.heartbeatInterval().toMillis(), c.phiThreshold(),
                c.hintWindow().toMillis(), c.hintReplayInterval().toMillis(), c.hintReplayBatch(), c.hintReplayRate(),
                new CoordinatorSettings(c.requestTimeout().toMillis(), c.readRepairTimeout().toMillis()).withSloppyQuorum(c.sloppyQuorum()));
        Holder holder = new Holder();
        this.transport = transportFactory.apply((from, m) -> {
            PeerRequests pr = holder.requests;
            if (pr != null) {
                pr.onResponse(from, m);
            }
            // Peers may talk to us before the node exists (a restart while they are sending);
            // such early messages are dropped like any lost message.
            ClusterNode n = holder.node;
            if (n != null) {
                if (m instanceof Message.Ping) {
                    heartbeatArrived(from, peerSink);
                }
                n.onMessage(from, m);
            }
        }, core);
        this.peerRequests = new PeerRequests(transport, peerSink, c.requestTimeout().toMillis());
        holder.requests = peerRequests;
        HybridClock clock = replica.clock();
        this.clockReport = new ClockReport(config.nodeId(), clock);
        Scheduler scheduler = (delayMillis, task) -> {
            ScheduledFuture<?> f = coreLoop.schedule(guarded(task), delayMillis, TimeUnit.MILLISECONDS);
            return () -> f.cancel(false);
        };
        this.store = new WritePathStore(writes, replica, engine, core, health, c.requestTimeout().toMillis());
        this.node = call(() -> new ClusterNode(config.nodeId(), c.members(), List.of(namespace), idempotency, settings, clock, peerRequests, scheduler,
                store, engine));
        holder.node = node;
        this.membership = node.membership();
        this.snapshot = call(this::takeSnapshot);
        call(() -> {
            clockReport.update(node);
            return null;
        });
        core.execute(node::start);
        coreLoop.scheduleAtFixedRate(guarded(() -> {
            peerRequests.sweep();
            snapshot = takeSnapshot();
            clockReport.update(node);
        }), 1, 1, TimeUnit.SECONDS);
    }

    /**
     * Records the interval since the peer's previous heartbeat, on the core's thread: it shows
     * whether the peer sends on time and this core handles on time (a stalled core on either side
     * stretches it), which is what the peers' failure detectors see.
     */
    private void heartbeatArrived(int from, PeerRequests.Sink sink) {
        long now = System.nanoTime();
        Long previous = lastHeartbeatNanos.put(from, now);
        if (previous != null) {
            sink.heartbeat(from, now - previous);
        }
    }

    /** Lets the transport's inbound handler reach what is constructed after the transport. */
    private static final class Holder {
        volatile ClusterNode node;
        volatile PeerRequests requests;
    }

    private Snapshot takeSnapshot() {
        Map<Integer, Boolean> alive = new java.util.TreeMap<>();
        for (Member m : membership.members()) {
            alive.put(m.id(), m.id() == node.id() || node.isAlive(m.id()));
        }
        var stats = node.coordinatorStats();
        return new Snapshot(replica.clock().physicalMillis(), Map.copyOf(node.hintBacklog()), Map.copyOf(alive),
                node.hintsStored(), node.hintsReplayed(), node.hintsDropped(), node.hintsFailed(), stats.readRepairs(),
                stats.quorumFailures(), stats.outcomeUnknown(), stats.fallbackHints(), peerRequests.inFlight(),
                node.idempotencyReplays(), node.idempotencyUnrecorded());
    }

    /** The latest snapshot, at most about a second old. */
    public Snapshot snapshot() {
        return snapshot;
    }

    /**
     * A snapshot taken now on the core thread, for operator requests; the latest periodic one if
     * the core does not get to it within 250 ms (a busy core must not hang the status page).
     */
    public Snapshot freshSnapshot() {
        try {
            Snapshot s = coreLoop.submit(this::takeSnapshot).get(250, TimeUnit.MILLISECONDS);
            snapshot = s;
            return s;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return snapshot;
        } catch (java.util.concurrent.TimeoutException e) {
            return snapshot;
        } catch (java.util.concurrent.ExecutionException e) {
            // Taking a snapshot only reads the core's state; failing to is a bug on the core thread.
            health.fatal("cluster-core", e.getCause());
            throw new IllegalStateException("taking a snapshot of the cluster core failed", e.getCause());
        }
    }

    public int nodeId() {
        return node.id();
    }

    /** Why this node refuses writes because of its clock (it is then out of /ready), or null; at most about a second old. */
    public String clockUnsafe() {
        return clockReport.unsafeReason();
    }

    public ClockReport clockReport() {
        return clockReport;
    }

    /** The members at the node's current epoch. */
    public List<Member> members() {
        return membership.members();
    }

    /**
     * Moves the node to a newer membership (issue: elastic membership delivers these from the
     * metadata log): the transport starts talking to new members and stops talking to those that
     * left, then the core takes the new epoch and partition map, on its thread. Returns when the
     * core has it.
     */
    public void applyMembership(Membership next) {
        call(() -> {
            if (next.epoch() <= node.epoch()) {
                throw new IllegalArgumentException("membership epoch " + next.epoch() + " is not newer than " + node.epoch());
            }
            for (Member m : next.members()) {
                if (m.id() != node.id()) {
                    transport.addPeer(m.id(), InetSocketAddress.createUnresolved(m.internodeHost(), m.internodePort()));
                }
            }
            for (int peer : transport.peers()) {
                if (!next.isMember(peer)) {
                    transport.removePeer(peer);
                }
            }
            node.onMembership(next);
            membership = next;
            return null;
        });
    }

    /**
     * Runs a task on the core thread and waits for it. What the task throws is rethrown as it is,
     * so an invariant violation stays one; a core that does not run it in time (or has stopped)
     * is a {@link CoreUnavailable}.
     */
    private <V> V call(java.util.concurrent.Callable<V> task) {
        try {
            return coreLoop.submit(task).get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException("cluster core failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CoreUnavailable("interrupted while waiting for the cluster core", e);
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.RejectedExecutionException e) {
            throw new CoreUnavailable("the cluster core did not run a task within 30 s: " + e, e);
        }
    }

    /** The core thread did not run a task: it is stopped, or too busy to within the wait. */
    private static final class CoreUnavailable extends RuntimeException {
        CoreUnavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    @Override
    public boolean replicated() {
        return true;
    }

    @Override
    public CompletableFuture<WriteOutcome> write(List<Op> ops, IdempotencyTag idempotency, Quorum r, Quorum w, long deadlineNanos) {
        WriteRequest request = new WriteRequest(namespace, ops, idempotency);
        Quorum read = r != null ? r : config.readQuorum();
        Quorum write = w != null ? w : config.writeQuorum();
        return onCore(deadlineNanos, () -> new WriteOutcome.Failed(ErrorCode.OVERLOADED, NOT_EXECUTED),
                done -> node.execute(request, read, write, done));
    }

    @Override
    public CompletableFuture<Answer> read(byte[] key, Quorum r, long deadlineNanos) {
        Quorum read = r != null ? r : config.readQuorum();
        return onCore(deadlineNanos, () -> Answer.failed(ErrorCode.OVERLOADED, NOT_EXECUTED, Map.of()),
                done -> node.get(namespace, key, read, done));
    }

    private static final String NOT_EXECUTED = "the request waited past its deadline for the cluster core and was not executed";

    /**
     * Runs a client request on the core thread, unless the core gets to it only after its
     * deadline: then it is refused as not executed, so a backed-up core never works on requests
     * whose clients have given up.
     */
    private <T> CompletableFuture<T> onCore(long deadlineNanos, java.util.function.Supplier<T> late,
                                            java.util.function.Consumer<java.util.function.Consumer<T>> request) {
        CompletableFuture<T> f = new CompletableFuture<>();
        core.execute(() -> {
            if (KvService.expired(deadlineNanos)) {
                f.complete(late.get());
                return;
            }
            request.accept(f::complete);
        });
        return f;
    }

    private Runnable guarded(Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (Throwable t) {
                health.fatal("cluster-core", t);
                throw t;
            }
        };
    }

    /** The core thread's executor, for the watchdog. */
    public io.netty.util.concurrent.EventExecutor coreExecutor() {
        return coreLoop;
    }

    public InternodeTransport transport() {
        return transport;
    }

    @Override
    public Map<String, Object> faults(java.util.Set<Integer> block, Long diskDelayMillis) {
        if (!faultInjection) {
            throw new CairnException(ErrorCode.ROUTE_NOT_FOUND,
                    "fault injection is disabled on this node (set cluster.faultInjection=true, for tests only)");
        }
        if (block != null) {
            for (int peer : block) {
                if (peer == node.id() || membership.members().stream().noneMatch(m -> m.id() == peer)) {
                    throw new CairnException(ErrorCode.INVALID_PARAMETER, "block: " + peer + " is not a peer of node " + node.id());
                }
            }
            for (Member m : membership.members()) {
                if (m.id() != node.id()) {
                    if (block.contains(m.id())) {
                        transport.block(m.id());
                    } else {
                        transport.unblock(m.id());
                    }
                }
            }
        }
        if (diskDelayMillis != null) {
            if (!(engine instanceof DelayableEngine disk)) {
                throw Invariant.violated("a node with fault injection on has a plain engine");
            }
            disk.setDelayMillis(diskDelayMillis);
        }
        List<Integer> blocked = membership.members().stream().map(Member::id)
                .filter(id -> id != node.id() && transport.stats(id).blocked()).toList();
        return Map.of("blocked", blocked, "diskDelayMillis", engine instanceof DelayableEngine d ? d.delayMillis() : 0);
    }

    @Override
    public CompletableFuture<Map<String, Object>> clusterView() {
        return CompletableFuture.supplyAsync(() -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("self", node.id());
            PartitionMap map = node.map();
            Snapshot now = takeSnapshot();
            List<Map<String, Object>> members = new ArrayList<>();
            List<Integer> ids = membership.members().stream().map(Member::id).toList();
            int[] counts = map.replicaCounts(ids);
            for (int i = 0; i < membership.members().size(); i++) {
                Member mem = membership.members().get(i);
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("id", mem.id());
                e.put("zone", mem.zone());
                e.put("http", mem.httpAddress());
                e.put("internode", mem.internodeAddress());
                boolean self = mem.id() == node.id();
                e.put("alive", self || node.isAlive(mem.id()));
                double phi = node.phi(mem.id());
                e.put("phi", self ? 0.0 : Double.isInfinite(phi) ? "never heard" : Math.round(phi * 100) / 100.0);
                e.put("partitionsReplicated", counts[i]);
                HintBacklog b = now.hints().get(mem.id());
                e.put("hintsPending", b == null ? 0 : b.count());
                e.put("hintBytesPending", b == null ? 0 : b.bytes());
                e.put("oldestHintAgeMillis", now.oldestHintAgeMillis(mem.id()));
                if (!self) {
                    var ps = transport.stats(mem.id());
                    e.put("connected", ps.connected());
                    e.put("blocked", ps.blocked());
                    e.put("sendQueue", ps.queueDepth());
                    e.put("messagesDropped", ps.messagesDropped());
                    var offset = node.clockMonitor().offsets().get(mem.id());
                    e.put("clockOffsetMillis", offset == null ? null : offset.offsetMillis());
                }
                members.add(e);
            }
            m.put("members", members);
            Map<String, Object> pm = new LinkedHashMap<>();
            pm.put("epoch", map.epoch());
            pm.put("namespace", namespace.name());
            pm.put("partitions", map.partitions());
            pm.put("replicationFactor", map.replicationFactor());
            pm.put("readQuorum", config.readQuorum().toString());
            pm.put("writeQuorum", config.writeQuorum().toString());
            m.put("partitionMap", pm);
            m.put("stats", statsMap(now));
            var unsafe = node.clockUnsafe();
            m.put("clockUnsafe", unsafe == null ? null : unsafe.reason());
            return m;
        }, core);
    }

    /** The cluster counters as reported by /admin/cluster and /admin/status. */
    public static Map<String, Object> statsMap(Snapshot s) {
        Map<String, Object> stats = new LinkedHashMap<>();
        stats.put("hintsPending", s.hintsPending());
        stats.put("hintBytesPending", s.hintBytesPending());
        stats.put("oldestHintAgeMillis", s.oldestHintAgeMillis());
        stats.put("hintsStored", s.hintsStored());
        stats.put("hintsReplayed", s.hintsReplayed());
        stats.put("hintsDropped", s.hintsDropped());
        stats.put("hintsFailed", s.hintsFailed());
        stats.put("readRepairs", s.readRepairs());
        stats.put("quorumFailures", s.quorumFailures());
        stats.put("outcomeUnknown", s.outcomeUnknown());
        stats.put("fallbackWrites", s.fallbackWrites());
        stats.put("idempotencyReplays", s.idempotencyReplays());
        stats.put("idempotencyUnrecorded", s.idempotencyUnrecorded());
        stats.put("peerRequestsInFlight", s.requestsInFlight());
        return stats;
    }

    @Override
    public CompletableFuture<Map<String, Object>> partitionView(int partition) {
        return CompletableFuture.supplyAsync(() -> {
            PartitionMap map = node.map();
            if (partition < 0 || partition >= map.partitions()) {
                return null;
            }
            return partitionMap(partition);
        }, core);
    }

    private Map<String, Object> partitionMap(int partition) {
        PartitionMap map = node.map();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("partition", partition);
        m.put("epoch", map.epoch());
        List<Map<String, Object>> prefs = new ArrayList<>();
        int[] list = map.preferenceList(partition);
        for (int i = 0; i < list.length; i++) {
            int id = list[i];
            Member mem = membership.members().stream().filter(x -> x.id() == id).findFirst().orElseThrow();
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("id", id);
            e.put("zone", mem.zone());
            e.put("role", i < map.replicationFactor() ? "replica" : "fallback");
            e.put("alive", id == node.id() || node.isAlive(id));
            prefs.add(e);
        }
        m.put("preferenceList", prefs);
        return m;
    }

    @Override
    public CompletableFuture<Map<String, Object>> keyView(byte[] key) {
        CompletableFuture<Map<String, Object>> out = new CompletableFuture<>();
        core.execute(() -> {
            int partition = namespace.partitionOf(key);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("key", new String(key, StandardCharsets.UTF_8));
            m.putAll(partitionMap(partition));
            node.inspect(namespace, key, copies -> {
                List<Map<String, Object>> replicas = new ArrayList<>();
                for (ReplicaCopy copy : copies) {
                    Map<String, Object> e = new LinkedHashMap<>();
                    e.put("id", copy.replica());
                    if (copy.error() != null) {
                        e.put("error", copy.error());
                    } else if (copy.record() == null) {
                        e.put("state", "absent");
                    } else {
                        Record r = copy.record();
                        e.put("etag", Etags.of(r.version()));
                        e.put("state", r.tombstone() ? "tombstone" : r.isExpiredAt(replica.clock().physicalMillis()) ? "expired" : "live");
                        e.put("versionTime", r.version().instant().toString());
                    }
                    replicas.add(e);
                }
                m.put("replicas", replicas);
                out.complete(m);
            });
        });
        return out;
    }

    @Override
    public void close() {
        try {
            call(() -> {
                node.stop();
                return null;
            });
        } catch (CoreUnavailable ignored) {
            // Shutting down anyway: the core stops with its loop below.
        } finally {
            transport.close();
            coreLoop.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
            store.close();
        }
    }
}
