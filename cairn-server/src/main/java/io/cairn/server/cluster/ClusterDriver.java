package io.cairn.server.cluster;

import io.cairn.clock.HybridClock;
import io.cairn.cluster.ClusterNode;
import io.cairn.cluster.MoveSettings;
import io.cairn.cluster.MoveStats;
import io.cairn.cluster.PaxosStats;
import io.cairn.cluster.NodeEpochs;
import io.cairn.cluster.Proposer;
import io.cairn.antientropy.PurgeLedger;
import io.cairn.cluster.ClusterSettings;
import io.cairn.cluster.ExchangeSettings;
import io.cairn.cluster.ExchangeStatus;
import io.cairn.cluster.CoordinatorSettings;
import io.cairn.cluster.HintBacklog;
import io.cairn.cluster.ReplicaCopy;
import io.cairn.cluster.Scheduler;
import io.cairn.cluster.Shard;
import io.cairn.cluster.ShardRouter;
import io.cairn.cluster.ShardedNode;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.invariant.Invariant;
import io.cairn.membership.Member;
import io.cairn.membership.Membership;
import io.cairn.message.Message;
import io.cairn.auth.TokenKeys;
import io.cairn.namespace.Namespace;
import io.cairn.placement.PartitionMap;
import io.cairn.record.Record;
import io.cairn.replica.LocalReplica;
import io.cairn.request.Answer;
import io.cairn.request.IdempotencyTag;
import io.cairn.request.Op;
import io.cairn.placement.Quorum;
import io.cairn.request.WriteOutcome;
import io.cairn.request.WriteRequest;
import io.cairn.server.config.NodeConfig;
import io.cairn.server.health.NodeHealth;
import io.cairn.server.http.Etags;
import io.cairn.server.internode.InternodeTransport;
import io.cairn.server.rocks.DelayableEngine;
import io.cairn.server.service.ClusterAdmin;
import io.cairn.server.service.KvService;
import io.cairn.server.service.NamespacedService;
import io.cairn.server.write.WritePath;
import io.cairn.storage.StorageEngine;
import io.netty.channel.DefaultEventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Runs this node's cluster core in production as {@code cluster.shards} core shards (see
 * {@link ShardedNode} for the rule, {@code docs/decisions/0008-sharded-core.md} for why): each
 * shard is a {@link ClusterNode} with a dedicated thread of its own (a Netty {@link DefaultEventLoop})
 * that executes every entry point of that shard — client requests routed to it, messages from
 * peers routed to it by the internode transport's lanes, its scheduled tasks and its storage
 * completions — so each shard is single-threaded exactly as under the simulator. The shards share
 * the transport, the storage threads, the engine and the hybrid clock, all thread-safe. A shard
 * whose thread stalls (a bug, a long GC of its work) stops only the keys it coordinates and the
 * heartbeats it sends; the others go on.
 */
public final class ClusterDriver implements KvService, NamespacedService, ClusterAdmin, AutoCloseable {
    /** The namespace holding replicated idempotency outcomes; same partitioning as the data. */
    public static final int IDEMPOTENCY_NAMESPACE_ID = 2;
    // How long an operator view waits for a shard's fresh snapshot before using its latest one.
    private static final long FRESH_SNAPSHOT_MILLIS = 250;

    private final NodeHealth health;
    private final NodeConfig.Cluster config;
    private final int nodeId;
    private final Namespace namespace;
    private final Namespace idempotency;
    private final Namespace tokens;
    private final ShardRouter router;
    // Filled in once each shard's node exists; messages for a shard not there yet are dropped
    // like any lost message (a peer may talk to us while we start).
    private final AtomicReferenceArray<CoreShard> shards;
    private final List<DefaultEventLoop> loops;
    private final InternodeTransport transport;
    private final LocalReplica replica;
    // The core's storage effects, off its threads; stopped after the shards.
    private final WritePathStore store;
    private final StorageEngine engine;
    private final PeerRequests.Sink peerSink;
    private final Proposer proposer;
    // The epochs the shards applied and the members showed in their heartbeats; set by startShards.
    private volatile NodeEpochs epochs;
    // The node's membership as of its last change; read from any thread.
    private volatile Membership membership;
    private final boolean faultInjection;
    // Each shard's latest snapshot (guarded by this array), and their merge, read from any thread.
    private final Snapshot[] shardSnapshots;
    private volatile Snapshot snapshot;
    // The clock verdict, refreshed with the snapshots; read by readiness and metrics.
    private final ClockReport clockReport;
    private final ExchangeSettings exchange;
    // Start-up settling: until every member was heard from (or the detection time passed), the
    // node counts unheard peers down and would refuse quorums it could soon serve, so it is not ready.
    private final long settleDeadlineNanos;
    private volatile boolean settled;

    /** One core shard as the driver runs it: its node and heartbeat times are touched on its thread only. */
    private final class CoreShard {
        final int index;
        final DefaultEventLoop loop;
        // Every task for the shard goes through here: an exception escaping the core is a bug
        // that would otherwise kill its thread (or, in a scheduled task, vanish); it is fatal.
        final Executor executor;
        final PeerRequests requests;
        final ClusterNode node;
        // Peer → when its last heartbeat to this shard was handled (System.nanoTime).
        final Map<Integer, Long> lastHeartbeatNanos = new HashMap<>();

        CoreShard(int index, DefaultEventLoop loop, Executor executor, PeerRequests requests, ClusterNode node) {
            this.index = index;
            this.loop = loop;
            this.executor = executor;
            this.requests = requests;
            this.node = node;
        }

        void onMessage(int from, long senderClock, Message m) {
            requests.onResponse(from, m);
            if (m instanceof Message.Ping) {
                heartbeatArrived(from);
            }
            node.onMessage(from, senderClock, m);
        }

        /**
         * Records the interval since the peer's previous heartbeat to this shard: it shows whether
         * the peer sends on time and this shard handles on time (a stalled core on either side
         * stretches it), which is what the peers' failure detectors see. With the same shard count
         * on both sides each shard hears one shard of the peer.
         */
        private void heartbeatArrived(int from) {
            long now = System.nanoTime();
            Long previous = lastHeartbeatNanos.put(from, now);
            if (previous != null) {
                peerSink.heartbeat(from, now - previous);
            }
        }

        Snapshot takeSnapshot() {
            Map<Integer, Boolean> alive = new TreeMap<>();
            Map<Integer, Boolean> down = new TreeMap<>();
            for (Member m : membership.members()) {
                boolean up = m.id() == nodeId || node.isAlive(m.id());
                alive.put(m.id(), up);
                down.put(m.id(), !up);
            }
            var stats = node.coordinatorStats();
            return new Snapshot(replica.clock().physicalMillis(), Map.copyOf(node.hintBacklog()), Map.copyOf(alive), Map.copyOf(down),
                    node.hintsStored(), node.hintsReplayed(), node.hintsDropped(), node.hintsFailed(), stats.readRepairs(),
                    stats.quorumFailures(), stats.outcomeUnknown(), stats.fallbackHints(), requests.inFlight(),
                    node.idempotencyReplays(), node.idempotencyUnrecorded(),
                    RepairSummary.of(node.exchangeStatus(), node.exchangeTotals(), node.repairsPending()), node.moveStats(),
                    PaxosStats.sum(List.of(node.paxosStats())), node.newestEpochSeen(), node.behindSinceMillis(),
                    node.heldWhileBehindTotal(), node.heldPastDeadline());
        }
    }

    /**
     * What the node's metrics and status report about the cluster, as of {@code takenAtMillis}:
     * the sum over its shards; a peer is alive when every shard's failure detector counts it so,
     * and down when every one counts it down (in between, shards disagree: one has noticed first).
     *
     * @param hints per target: pending hints, their bytes and the age of the oldest (the replica lag)
     * @param newestEpochSeen the newest membership epoch a peer has shown any shard (its heartbeats, its requests)
     * @param behindSinceMillis since when (physical ms) a shard has applied no epoch while a peer showed a newer one; 0: none is behind
     * @param heldWhileBehind   replica requests from a newer epoch held while this node caught up to it (cluster.behindHoldBytes)
     * @param heldPastDeadline  of those, the ones still held at their deadline (refused then if still behind)
     */
    public record Snapshot(long takenAtMillis, Map<Integer, HintBacklog> hints, Map<Integer, Boolean> alive, Map<Integer, Boolean> down,
                           long hintsStored, long hintsReplayed, long hintsDropped, long hintsFailed, long readRepairs,
                           long quorumFailures, long outcomeUnknown, long fallbackWrites, int requestsInFlight,
                           long idempotencyReplays, long idempotencyUnrecorded, RepairSummary repair, MoveStats moves, PaxosStats paxos,
                           long newestEpochSeen, long behindSinceMillis, long heldWhileBehind, long heldPastDeadline) {
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

        /** Two shards' snapshots as one: counts added, hint backlogs merged, a peer alive (down) only if both say so. */
        Snapshot plus(Snapshot o) {
            Map<Integer, HintBacklog> mergedHints = new TreeMap<>(hints);
            o.hints.forEach((target, b) -> mergedHints.merge(target, b, HintBacklog::plus));
            Map<Integer, Boolean> mergedAlive = new TreeMap<>(alive);
            o.alive.forEach((peer, up) -> mergedAlive.merge(peer, up, Boolean::logicalAnd));
            Map<Integer, Boolean> mergedDown = new TreeMap<>(down);
            o.down.forEach((peer, gone) -> mergedDown.merge(peer, gone, Boolean::logicalAnd));
            return new Snapshot(Math.max(takenAtMillis, o.takenAtMillis), Map.copyOf(mergedHints), Map.copyOf(mergedAlive), Map.copyOf(mergedDown),
                    hintsStored + o.hintsStored, hintsReplayed + o.hintsReplayed, hintsDropped + o.hintsDropped, hintsFailed + o.hintsFailed,
                    readRepairs + o.readRepairs, quorumFailures + o.quorumFailures, outcomeUnknown + o.outcomeUnknown,
                    fallbackWrites + o.fallbackWrites, requestsInFlight + o.requestsInFlight, idempotencyReplays + o.idempotencyReplays,
                    idempotencyUnrecorded + o.idempotencyUnrecorded, repair.plus(o.repair), moves.plus(o.moves), PaxosStats.sum(List.of(paxos, o.paxos)),
                    Math.max(newestEpochSeen, o.newestEpochSeen),
                    behindSinceMillis == 0 ? o.behindSinceMillis : o.behindSinceMillis == 0 ? behindSinceMillis
                            : Math.min(behindSinceMillis, o.behindSinceMillis),
                    heldWhileBehind + o.heldWhileBehind, heldPastDeadline + o.heldPastDeadline);
        }
    }

    /**
     * @param transportFactory builds the internode transport given the inbound handler and the
     *                         lanes (the shards' threads) inbound messages must be delivered on
     * @param peerSink         receives per-peer request latencies, errors and heartbeat intervals
     */
    public ClusterDriver(NodeConfig config, Namespace namespace, LocalReplica replica, WritePath writes, StorageEngine engine,
                         BiFunction<InternodeTransport.Inbound, InternodeTransport.Lanes, InternodeTransport> transportFactory,
                         PeerRequests.Sink peerSink, NodeHealth health, PurgeLedger ledger) {
        this(config, namespace, replica, writes, engine, transportFactory, peerSink, health, ledger,
                Membership.of(Message.FIRST_EPOCH, config.cluster().members(), namespace.partitioner().partitions(),
                        config.cluster().replicationFactor()), Proposer.NONE);
    }

    /**
     * @param first    the membership the node starts at (a fixed cluster's static list, or the metadata log's newest)
     * @param proposer where partition moves report to the metadata log
     */
    public ClusterDriver(NodeConfig config, Namespace namespace, LocalReplica replica, WritePath writes, StorageEngine engine,
                         BiFunction<InternodeTransport.Inbound, InternodeTransport.Lanes, InternodeTransport> transportFactory,
                         PeerRequests.Sink peerSink, NodeHealth health, PurgeLedger ledger, Membership first, Proposer proposer) {
        this.health = health;
        this.config = config.cluster();
        this.nodeId = config.nodeId();
        this.namespace = namespace;
        this.idempotency = new Namespace(IDEMPOTENCY_NAMESPACE_ID, "idempotency", namespace.partitioner(), 0);
        this.tokens = TokenKeys.namespace();
        this.replica = replica;
        this.engine = engine;
        this.peerSink = peerSink;
        this.faultInjection = config.cluster().faultInjection();
        NodeConfig.Cluster c = config.cluster();
        int count = c.shards();
        // About the silence after which the failure detector declares a peer down (docs/operations.md).
        this.settleDeadlineNanos = System.nanoTime() + (long) (c.phiThreshold() * 2.3 * c.heartbeatInterval().toNanos());
        // N as the starting membership places partitions: on an elastic cluster the metadata log's,
        // whatever this node's cluster.replicationFactor says (it only seeds a new cluster).
        ClusterSettings settings = new ClusterSettings(first.map().replicationFactor(), c.heartbeatInterval().toMillis(), c.phiThreshold(),
                c.hintWindow().toMillis(), c.hintReplayInterval().toMillis(), c.hintReplayBatch(), c.hintReplayRate(),
                new CoordinatorSettings(c.requestTimeout().toMillis(), c.readRepairTimeout().toMillis()).withSloppyQuorum(c.sloppyQuorum())
                        .withHintDelay(c.hintDelay().toMillis()).withBehindLimit(config.stallTimeout().toMillis())
                        .withMaxBatchReadBytes(config.limits().maxBatchReadBytes())
                        // Per node, split over the shards: each holds its own partitions' requests.
                        .withBehindHoldBytes(c.behindHoldBytes() / count));
        NodeConfig.AntiEntropy ae = config.antiEntropy();
        this.exchange = new ExchangeSettings(ae.enabled(), ae.cycle().toMillis(), ae.maxSegmentsPerRound(), ae.maxKeysPerRound(),
                ae.maxListingBytes(), ae.maxBytesPerSecond(), ae.maxInFlight(), config.ttl().purgeGrace().toMillis());
        settings = settings.withAntiEntropy(exchange).withPaxos(c.paxos());
        NodeConfig.Elastic el = config.elastic();
        settings = settings.withMoves(new MoveSettings(el.moveConcurrency(), (int) el.moveChunkBytes(), el.moveBytesPerSecond(),
                MoveSettings.DEFAULTS.tickMillis(), MoveSettings.DEFAULTS.retryMillis()));
        this.proposer = proposer;
        this.router = new ShardRouter(count, namespace.partitioner());
        this.shards = new AtomicReferenceArray<>(count);
        this.shardSnapshots = new Snapshot[count];
        this.membership = first;
        List<DefaultEventLoop> built = new ArrayList<>(count);
        List<Executor> executors = new ArrayList<>(count);
        for (int s = 0; s < count; s++) {
            int index = s;
            DefaultEventLoop loop = new DefaultEventLoop(r -> {
                Thread t = new Thread(r, "cairn-cluster-core-" + index);
                t.setDaemon(true);
                return t;
            });
            built.add(loop);
            executors.add(task -> loop.execute(guarded(task)));
        }
        this.loops = List.copyOf(built);
        InternodeTransport listening = null;
        WritePathStore storage = null;
        try {
            listening = transportFactory.apply(this::inbound, new InternodeTransport.Lanes(executors, router::ofMessage));
            this.transport = listening;
            this.clockReport = new ClockReport(nodeId, replica.clock(), count);
            storage = new WritePathStore(writes, replica, engine, health, c.requestTimeout().toMillis());
            this.store = storage;
            startShards(c, settings, first, executors, ledger);
        } catch (RuntimeException | Error e) {
            // A shard that cannot start (a corrupt ceiling, a port taken) leaves nothing running behind.
            if (listening != null) {
                listening.close();
            }
            loops.forEach(l -> l.shutdownGracefully(0, 0, TimeUnit.SECONDS));
            if (storage != null) {
                storage.close();
            }
            throw e;
        }
    }

    /** Builds every shard's node on its own thread, then starts them and their periodic snapshots. */
    private void startShards(NodeConfig.Cluster c, ClusterSettings settings, Membership first, List<Executor> executors, PurgeLedger ledger) {
        int count = loops.size();
        HybridClock clock = replica.clock();
        NodeEpochs epochs = new NodeEpochs(count, first.epoch());
        this.epochs = epochs;
        for (int s = 0; s < count; s++) {
            Shard shard = new Shard(s, count);
            DefaultEventLoop loop = loops.get(s);
            Executor executor = executors.get(s);
            PeerRequests requests = new PeerRequests(transport, peerSink, c.requestTimeout().toMillis());
            Scheduler scheduler = (delayMillis, task) -> {
                ScheduledFuture<?> f = loop.schedule(guarded(task), delayMillis, TimeUnit.MILLISECONDS);
                return () -> f.cancel(false);
            };
            ClusterNode node = call(loop, () -> new ClusterNode(nodeId, shard, first, List.of(namespace, tokens), idempotency, settings,
                    clock, requests, scheduler, store.on(executor), engine, ledger, epochs, proposer));
            shards.set(s, new CoreShard(s, loop, executor, requests, node));
        }
        for (int s = 0; s < count; s++) {
            CoreShard shard = shard(s);
            publish(s, call(shard.loop, shard::takeSnapshot));
            call(shard.loop, () -> {
                clockReport.update(shard.index, shard.node);
                return null;
            });
            shard.executor.execute(shard.node::start);
            shard.loop.scheduleAtFixedRate(guarded(() -> {
                shard.requests.sweep();
                publish(shard.index, shard.takeSnapshot());
                clockReport.update(shard.index, shard.node);
            }), 1, 1, TimeUnit.SECONDS);
        }
    }

    private CoreShard shard(int index) {
        return shards.get(index);
    }

    /** Where the transport hands each message, with its sender's clock, on the lane {@link ShardRouter#ofMessage} chose. */
    private void inbound(int from, long senderClock, Message m) {
        CoreShard shard = shards.get(router.ofMessage(m));
        if (shard != null) {
            shard.onMessage(from, senderClock, m);
        }
    }

    /** Takes in one shard's snapshot and republishes the node's. */
    private void publish(int shard, Snapshot part) {
        synchronized (shardSnapshots) {
            shardSnapshots[shard] = part;
            Snapshot merged = null;
            for (Snapshot p : shardSnapshots) {
                if (p != null) {
                    merged = merged == null ? p : merged.plus(p);
                }
            }
            snapshot = merged;
        }
    }

    /**
     * How long (ms) this node has applied no membership epoch while peers showed a newer one, as
     * its core shards count it (from the same moment as their refusal to coordinate; see
     * {@code ClusterNode.behindRefusal}); 0 when it is not behind. Read from the periodic snapshot,
     * but counted from when the shard fell behind, and 0 as soon as the node routes by the newest
     * epoch the snapshot shows, so it follows the data path within moments either way.
     */
    public long behindPeersMillis() {
        Snapshot now = snapshot;
        if (now == null || now.behindSinceMillis() == 0 || membership.epoch() >= now.newestEpochSeen()) {
            return 0;
        }
        return Math.max(0, replica.clock().physicalMillis() - now.behindSinceMillis());
    }

    /** The newest membership epoch a member showed this node in its heartbeats (0 before any was heard). */
    public long newestPeerEpoch() {
        NodeEpochs e = epochs;
        return e == null ? 0 : e.newestPeer();
    }

    /**
     * Every shard's snapshot taken now on its thread, merged; publishes what it got. A shard that
     * does not answer within {@link #FRESH_SNAPSHOT_MILLIS} (stalled or very busy) counts with its
     * latest periodic snapshot, so a view of the node never waits on one shard for long.
     */
    private CompletableFuture<Snapshot> freshAsync() {
        List<CompletableFuture<Void>> parts = new ArrayList<>();
        for (int s = 0; s < shards.length(); s++) {
            CoreShard shard = shard(s);
            parts.add(CompletableFuture.supplyAsync(shard::takeSnapshot, shard.executor)
                    .completeOnTimeout(null, FRESH_SNAPSHOT_MILLIS, TimeUnit.MILLISECONDS)
                    .thenAccept(p -> {
                        if (p != null) {
                            publish(shard.index, p);
                        }
                    }));
        }
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(v -> snapshot);
    }

    /**
     * The members this node has not yet heard from since it started, while it is settling: empty
     * once every member was alive in one snapshot, or once the failure detector's detection time
     * passed (a peer silent that long is down, and the node serves what the others allow). Until
     * then the node is not ready: a load balancer sending it requests would see quorums refused
     * that a settled node serves.
     */
    public List<Integer> waitingForPeers() {
        if (settled) {
            return List.of();
        }
        Snapshot now = snapshot;
        List<Integer> silent = new ArrayList<>();
        if (now != null) {
            now.alive().forEach((id, up) -> {
                if (!up) {
                    silent.add(id);
                }
            });
        } else {
            membership.members().forEach(m -> {
                if (m.id() != nodeId) {
                    silent.add(m.id());
                }
            });
        }
        if (silent.isEmpty() || System.nanoTime() - settleDeadlineNanos > 0) {
            settled = true;
            return List.of();
        }
        return silent;
    }

    /**
     * How many partitions this node could not serve at a majority quorum (for reads or for
     * writes) with the members its failure detector counts down, from the latest snapshot; 0
     * before the first. When it is every partition, the node is isolated: each request it
     * coordinates at the default quorums would fail, so it is not ready.
     */
    public int partitionsWithoutQuorum() {
        Snapshot now = snapshot;
        if (now == null) {
            return 0;
        }
        PartitionMap map = membership.map();
        // /ready is open and may be asked often: computed once per snapshot and map.
        QuorumReach cached = quorumReach;
        if (cached != null && cached.snapshot == now && cached.map == map) {
            return cached.partitionsWithout;
        }
        PartitionMap.Availability a = map.availabilityWithout(id -> id != nodeId && !now.alive().getOrDefault(id, false));
        java.util.Set<Integer> either = new java.util.HashSet<>(a.noQuorumReads());
        either.addAll(a.noQuorumWrites());
        quorumReach = new QuorumReach(now, map, either.size());
        return either.size();
    }

    private record QuorumReach(Snapshot snapshot, PartitionMap map, int partitionsWithout) {}

    private volatile QuorumReach quorumReach;

    /** Whether no partition has a majority of its replicas up as this node sees them (see {@link #partitionsWithoutQuorum}). */
    public boolean isolated() {
        return partitionsWithoutQuorum() == membership.map().partitions();
    }

    /** The latest snapshot, at most about a second old. */
    public Snapshot snapshot() {
        return snapshot;
    }

    /**
     * A snapshot taken now on every shard's thread, for operator requests; where a shard does not
     * get to it within 250 ms (a busy core must not hang the status page), its latest periodic one.
     */
    public Snapshot freshSnapshot() {
        try {
            return freshAsync().get(2 * FRESH_SNAPSHOT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return snapshot;
        } catch (TimeoutException e) {
            return snapshot;
        } catch (ExecutionException e) {
            // Taking a snapshot only reads the core's state; failing to is a bug on a core thread.
            health.fatal("cluster-core", e.getCause());
            throw new IllegalStateException("taking a snapshot of the cluster core failed", e.getCause());
        }
    }

    public int nodeId() {
        return nodeId;
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

    /** The membership this node routes by (every shard has applied it). */
    public Membership membership() {
        return membership;
    }

    /** The default namespace. */
    public Namespace defaultNamespace() {
        return namespace;
    }

    /** The epoch this node routes by. */
    public long epoch() {
        return membership.epoch();
    }

    /**
     * Partitions with fewer than N replicas this node's failure detector counts up (a replica
     * removed and not yet refilled, or one that is down); from the latest snapshot.
     */
    public int underReplicated() {
        Snapshot now = snapshot;
        PartitionMap map = membership.map();
        int n = map.replicationFactor();
        int count = 0;
        for (int p = 0; p < map.partitions(); p++) {
            int up = 0;
            for (int r : map.replicas(p)) {
                if (r == nodeId || (now != null && now.alive().getOrDefault(r, false))) {
                    up++;
                }
            }
            if (up < n) {
                count++;
            }
        }
        return count;
    }

    /** Partitions moving at this node's epoch. */
    public int partitionsMoving() {
        PartitionMap map = membership.map();
        int count = 0;
        for (int p = 0; p < map.partitions(); p++) {
            if (map.slot(p).moving()) {
                count++;
            }
        }
        return count;
    }

    /**
     * Moves the node to a newer membership (issue: elastic membership delivers these from the
     * metadata log): the transport starts talking to new members and stops talking to those that
     * left, then every shard takes the new epoch and partition map, on its thread. Returns when
     * every shard has it. Calls are serialized, so the shards take epochs in one order.
     */
    public synchronized void applyMembership(Membership next) {
        long current = call(shard(0).loop, () -> shard(0).node.epoch());
        if (next.epoch() <= current) {
            throw new IllegalArgumentException("membership epoch " + next.epoch() + " is not newer than " + current);
        }
        for (Member m : next.members()) {
            if (m.id() != nodeId) {
                transport.addPeer(m.id(), InetSocketAddress.createUnresolved(m.internodeHost(), m.internodePort()));
            }
        }
        for (int peer : transport.peers()) {
            if (!next.isMember(peer)) {
                transport.removePeer(peer);
            }
        }
        for (int s = 0; s < shards.length(); s++) {
            CoreShard shard = shard(s);
            call(shard.loop, () -> {
                shard.node.onMembership(next);
                return null;
            });
        }
        membership = next;
    }

    /**
     * Runs a task on a shard's thread and waits for it. What the task throws is rethrown as it is,
     * so an invariant violation stays one; a shard that does not run it in time (or has stopped)
     * is a {@link CoreUnavailable}.
     */
    private static <V> V call(DefaultEventLoop loop, Callable<V> task) {
        try {
            return loop.submit(task).get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
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
        } catch (TimeoutException | RejectedExecutionException e) {
            throw new CoreUnavailable("a cluster core shard did not run a task within 30 s: " + e, e);
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
        return write(namespace, ops, idempotency, r, w, deadlineNanos);
    }

    @Override
    public CompletableFuture<Answer> read(byte[] key, Quorum r, long deadlineNanos) {
        return read(namespace, key, r, deadlineNanos);
    }

    /** Why this node cannot list tokens from its own storage (it holds no replica of the auth namespace), or null when it can. */
    public String cannotListTokens() {
        int[] replicas = membership.map().replicas(0);
        for (int r : replicas) {
            if (r == nodeId) {
                return null;
            }
        }
        return "node " + nodeId + " holds no replica of the token store; list tokens on node " + java.util.Arrays.toString(replicas);
    }

    @Override
    public CompletableFuture<WriteOutcome> write(List<Op> ops, IdempotencyTag idempotency, Quorum r, Quorum w, io.cairn.clock.Version after,
                                                 long deadlineNanos) {
        return write(namespace, ops, idempotency, r, w, after, deadlineNanos);
    }

    @Override
    public CompletableFuture<WriteOutcome> write(Namespace namespace, List<Op> ops, IdempotencyTag idempotency, Quorum r, Quorum w,
                                                 long deadlineNanos) {
        return write(namespace, ops, idempotency, r, w, null, deadlineNanos);
    }

    @Override
    public CompletableFuture<WriteOutcome> write(Namespace namespace, List<Op> ops, IdempotencyTag idempotency, Quorum r, Quorum w,
                                                 io.cairn.clock.Version after, long deadlineNanos) {
        WriteRequest request = new WriteRequest(namespace, ops, idempotency, after);
        Quorum read = namespace.readQuorum(r, config.readQuorum());
        Quorum write = namespace.writeQuorum(w, config.writeQuorum());
        CoreShard shard = shard(router.ofRequest(request));
        return onCore(shard, deadlineNanos, () -> new WriteOutcome.Failed(ErrorCode.OVERLOADED, NOT_EXECUTED),
                done -> shard.node.execute(request, read, write, done));
    }

    @Override
    public CompletableFuture<Answer> read(Namespace namespace, byte[] key, Quorum r, long deadlineNanos) {
        Quorum read = namespace.readQuorum(r, config.readQuorum());
        CoreShard shard = shard(router.ofKey(key));
        return onCore(shard, deadlineNanos, () -> Answer.failed(ErrorCode.OVERLOADED, NOT_EXECUTED, Map.of()),
                done -> shard.node.get(namespace, key, read, done));
    }

    @Override
    public CompletableFuture<Answer> serialRead(byte[] key, long deadlineNanos) {
        return serialRead(namespace, key, deadlineNanos);
    }

    @Override
    public CompletableFuture<Answer> serialRead(Namespace namespace, byte[] key, long deadlineNanos) {
        CoreShard shard = shard(router.ofKey(key));
        return onCore(shard, deadlineNanos, () -> Answer.failed(ErrorCode.OVERLOADED, NOT_EXECUTED, Map.of()),
                done -> shard.node.serialGet(namespace, key, done));
    }

    private static final String NOT_EXECUTED = "the request waited past its deadline for the cluster core and was not executed";

    /**
     * Runs a client request on its shard's thread, unless the shard gets to it only after its
     * deadline: then it is refused as not executed, so a backed-up core never works on requests
     * whose clients have given up.
     */
    private static <T> CompletableFuture<T> onCore(CoreShard shard, long deadlineNanos, Supplier<T> late,
                                                   Consumer<Consumer<T>> request) {
        CompletableFuture<T> f = new CompletableFuture<>();
        shard.executor.execute(() -> {
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

    /** The shards' threads, for the watchdog. */
    public List<EventExecutor> coreExecutors() {
        return List.copyOf(loops);
    }

    public InternodeTransport transport() {
        return transport;
    }

    @Override
    public Map<String, Object> faults(Set<Integer> block, Long diskDelayMillis, Boolean metadataCut) {
        if (!faultInjection) {
            throw new CairnException(ErrorCode.ROUTE_NOT_FOUND,
                    "fault injection is disabled on this node (set cluster.faultInjection=true, for tests only)");
        }
        if (block != null) {
            for (int peer : block) {
                if (peer == nodeId || membership.members().stream().noneMatch(m -> m.id() == peer)) {
                    throw new CairnException(ErrorCode.INVALID_PARAMETER, "block: " + peer + " is not a peer of node " + nodeId);
                }
            }
            for (Member m : membership.members()) {
                if (m.id() != nodeId) {
                    if (block.contains(m.id())) {
                        transport.block(m.id());
                    } else {
                        transport.unblock(m.id());
                    }
                }
            }
        }
        if (metadataCut != null) {
            java.util.function.Consumer<Boolean> cut = metadataFault;
            if (cut == null) {
                throw new CairnException(ErrorCode.INVALID_PARAMETER, "metadata: node " + nodeId + " has no metadata log (a fixed cluster)");
            }
            cut.accept(metadataCut);
            metadataCutNow = metadataCut;
        }
        if (diskDelayMillis != null) {
            if (!(engine instanceof DelayableEngine disk)) {
                throw Invariant.violated("a node with fault injection on has a plain engine");
            }
            disk.setDelayMillis(diskDelayMillis);
        }
        List<Integer> blocked = membership.members().stream().map(Member::id)
                .filter(id -> id != nodeId && transport.stats(id).blocked()).toList();
        return Map.of("blocked", blocked, "diskDelayMillis", engine instanceof DelayableEngine d ? d.delayMillis() : 0,
                "metadataCut", metadataCutNow);
    }

    // The fault that holds this node's metadata log (an elastic node's), and whether it is in force.
    private volatile java.util.function.Consumer<Boolean> metadataFault;
    private volatile boolean metadataCutNow;

    /** How {@link #faults} cuts this node off from its metadata log and heals it (an elastic node sets it). */
    public void metadataFault(java.util.function.Consumer<Boolean> cut) {
        this.metadataFault = cut;
    }

    /**
     * The node's view of the cluster. Liveness and the counters are the merge of every shard's
     * (taken now); the phi values and clock offsets shown are shard 0's, whose heartbeats are
     * every shard's in kind.
     */
    @Override
    public CompletableFuture<Map<String, Object>> clusterView() {
        CoreShard first = shard(0);
        return freshAsync().thenApplyAsync(now -> {
            ClusterNode node = first.node;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("self", nodeId);
            m.put("shards", shards.length());
            PartitionMap map = node.map();
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
                boolean self = mem.id() == nodeId;
                e.put("alive", self || now.alive().getOrDefault(mem.id(), false));
                e.put("down", !self && now.down().getOrDefault(mem.id(), false));
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
            m.put("clockUnsafe", clockReport.unsafeReason());
            return m;
        }, first.executor);
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
        stats.put("heldWhileBehind", s.heldWhileBehind());
        stats.put("heldPastDeadline", s.heldPastDeadline());
        return stats;
    }

    @Override
    public CompletableFuture<Map<String, Object>> partitionView(int partition) {
        CoreShard first = shard(0);
        return freshAsync().thenApplyAsync(now -> {
            PartitionMap map = first.node.map();
            if (partition < 0 || partition >= map.partitions()) {
                return null;
            }
            return partitionMap(map, partition, now);
        }, first.executor);
    }

    private Map<String, Object> partitionMap(PartitionMap map, int partition, Snapshot now) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("partition", partition);
        m.put("epoch", map.epoch());
        m.put("shard", router.ofPartition(partition));
        List<Map<String, Object>> prefs = new ArrayList<>();
        int[] list = map.preferenceList(partition);
        for (int i = 0; i < list.length; i++) {
            int id = list[i];
            Member mem = membership.members().stream().filter(x -> x.id() == id).findFirst().orElseThrow();
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("id", id);
            e.put("zone", mem.zone());
            e.put("role", i < map.replicationFactor() ? "replica" : "fallback");
            e.put("alive", id == nodeId || now.alive().getOrDefault(id, false));
            prefs.add(e);
        }
        m.put("preferenceList", prefs);
        return m;
    }

    @Override
    public CompletableFuture<Map<String, Object>> keyView(String namespaceName, byte[] key) {
        Namespace ns = namespaceName == null ? namespace : namespaceNamed(namespaceName);
        CoreShard shard = shard(router.ofKey(key));
        CompletableFuture<Map<String, Object>> out = new CompletableFuture<>();
        freshAsync().thenAcceptAsync(now -> {
            int partition = ns.partitionOf(key);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("key", new String(key, StandardCharsets.UTF_8));
            m.put("namespace", ns.name());
            m.putAll(partitionMap(shard.node.map(), partition, now));
            shard.node.inspect(ns, key, copies -> {
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
        }, shard.executor).exceptionally(t -> {
            out.completeExceptionally(t);
            return null;
        });
        return out;
    }

    // ---------------------------------------------------------------- repair

    /** The namespaces this node exchanges, by name: the default and system ones, and the user namespaces of its epoch. */
    private List<Namespace> exchanged() {
        Membership m = membership;
        List<Namespace> all = new ArrayList<>(List.of(namespace, idempotency, tokens));
        m.namespaces().forEach(spec -> all.add(spec.toNamespace(m.map().partitions())));
        return all;
    }

    @Override
    public CompletableFuture<Map<String, Object>> repairView(String namespaceName, Integer partition, boolean all) {
        Namespace only = namespaceName == null ? null : namespaceNamed(namespaceName);
        requirePartition(only, partition);
        List<CompletableFuture<List<ExchangeStatus.Partition>>> parts = new ArrayList<>();
        for (int s = 0; s < shards.length(); s++) {
            CoreShard shard = shard(s);
            parts.add(CompletableFuture.supplyAsync(shard.node::exchangeStatus, shard.executor));
        }
        return freshAsync().thenCombine(CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)), (now, v) -> {
            List<ExchangeStatus.Partition> rows = new ArrayList<>();
            for (var part : parts) {
                for (ExchangeStatus.Partition p : part.join()) {
                    if ((only == null || p.namespace().equals(only.name())) && (partition == null || p.partition() == partition)) {
                        rows.add(p);
                    }
                }
            }
            rows.sort(java.util.Comparator.comparing(ExchangeStatus.Partition::namespace).thenComparingInt(ExchangeStatus.Partition::partition));
            RepairSummary summary = RepairSummary.of(rows, now.repair().totals(), now.repair().repairsQueued());
            Map<String, Object> m = repairMap(summary);
            List<Map<String, Object>> list = new ArrayList<>();
            for (ExchangeStatus.Partition p : rows) {
                long[] corrupt = replica.stats().corruptIn(namespaceNamed(p.namespace()).id(), p.partition());
                boolean settled = p.sinceLastExchangeMillis() >= 0 && p.differingSegments() == 0 && p.differingKeys() == 0 && p.errors().isEmpty()
                        && corrupt[0] == 0;
                if (!all && settled) {
                    continue;
                }
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("namespace", p.namespace());
                e.put("partition", p.partition());
                e.put("sinceLastExchangeMillis", p.sinceLastExchangeMillis() < 0 ? null : p.sinceLastExchangeMillis());
                e.put("differingSegments", p.differingSegments());
                e.put("differingKeys", p.differingKeys());
                e.put("bytesToRepair", p.bytesToRepair());
                e.put("corruptFound", corrupt[0]);
                e.put("corruptRepaired", corrupt[1]);
                e.put("errors", p.errors());
                list.add(e);
            }
            m.put("scrub", scrubMap(replica));
            m.put("partitionsShown", list);
            return m;
        });
    }

    /** The local replica's scrub, trees and purge rule figures. */
    public static Map<String, Object> scrubMap(LocalReplica replica) {
        var st = replica.stats();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("recordsChecked", st.scrubbedRecords());
        m.put("bytesChecked", st.scrubbedBytes());
        m.put("passes", st.scrubPasses());
        m.put("corruptFound", st.corruptFound());
        m.put("corruptRepaired", st.corruptRepaired());
        m.put("corruptReads", st.corruptRecords());
        if (replica.keepsTrees()) {
            m.put("treesReady", replica.trees().allReady());
            m.put("treeMismatches", replica.trees().mismatchedPartitions());
        }
        m.put("purgesHeld", st.purgesHeld());
        m.put("tombstonesPurged", st.tombstonesPurged());
        m.put("expiredPurged", st.expiredRecordsPurged());
        return m;
    }

    /** The repair backlog as {@code /admin/repair} and {@code /admin/status} show it. */
    public Map<String, Object> repairMap(RepairSummary r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("enabled", exchange.enabled());
        m.put("partitions", r.partitions());
        m.put("partitionsDiffering", r.partitionsDiffering());
        m.put("partitionsNeverExchanged", r.partitionsNeverExchanged());
        m.put("oldestExchangeAgeMillis", r.oldestExchangeAgeMillis());
        m.put("differingSegments", r.differingSegments());
        m.put("differingKeys", r.differingKeys());
        m.put("bytesToRepair", r.bytesToRepair());
        m.put("etaMillis", r.etaMillis(exchange.maxBytesPerSecond(), exchange.cycleMillis()));
        m.put("repairsQueued", r.repairsQueued());
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("rounds", r.totals().rounds());
        t.put("roundsClean", r.totals().roundsClean());
        t.put("roundsFailed", r.totals().roundsFailed());
        t.put("keysPushed", r.totals().keysPushed());
        t.put("keysFetched", r.totals().keysFetched());
        t.put("bytesMoved", r.totals().bytesMoved());
        t.put("bytesExchanged", r.totals().bytesExchanged());
        t.put("keysSkippedRecent", r.totals().keysSkippedRecent());
        m.put("sinceStart", t);
        return m;
    }

    @Override
    public CompletableFuture<Map<String, Object>> repairNow(String namespaceName, Integer partition) {
        Namespace only = namespaceName == null ? null : namespaceNamed(namespaceName);
        requirePartition(only, partition);
        List<CompletableFuture<Integer>> parts = new ArrayList<>();
        for (int s = 0; s < shards.length(); s++) {
            CoreShard shard = shard(s);
            parts.add(CompletableFuture.supplyAsync(() -> shard.node.repairNow(only, partition == null ? -1 : partition), shard.executor));
        }
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(v -> {
            int queued = parts.stream().mapToInt(CompletableFuture::join).sum();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("roundsQueued", queued);
            m.put("namespace", only == null ? null : only.name());
            m.put("partition", partition);
            return m;
        });
    }

    /** Refuses (invalid parameter) a partition that does not exist, in {@code only} or, when null, in any namespace. */
    private void requirePartition(Namespace only, Integer partition) {
        if (partition != null && (partition < 0 || partition >= namespace.partitioner().partitions()
                || (only != null && partition >= only.partitioner().partitions()))) {
            throw new CairnException(ErrorCode.INVALID_PARAMETER, "partition " + partition + " does not exist (0.."
                    + ((only != null ? only : namespace).partitioner().partitions() - 1) + ")");
        }
    }

    private Namespace namespaceNamed(String name) {
        for (Namespace ns : exchanged()) {
            if (ns.name().equals(name)) {
                return ns;
            }
        }
        throw new CairnException(ErrorCode.INVALID_PARAMETER, "no namespace '" + name + "'; this node has "
                + exchanged().stream().map(Namespace::name).toList());
    }

    public ExchangeSettings exchangeSettings() {
        return exchange;
    }

    @Override
    public void close() {
        try {
            for (int s = 0; s < shards.length(); s++) {
                CoreShard shard = shard(s);
                try {
                    call(shard.loop, () -> {
                        shard.node.stop();
                        return null;
                    });
                } catch (CoreUnavailable ignored) {
                    // Shutting down anyway: the shard stops with its loop below.
                }
            }
        } finally {
            transport.close();
            for (DefaultEventLoop loop : loops) {
                loop.shutdownGracefully(0, 2, TimeUnit.SECONDS);
            }
            for (DefaultEventLoop loop : loops) {
                loop.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
            store.close();
        }
    }
}
