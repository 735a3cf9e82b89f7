package io.cairn.cluster;

import io.cairn.antientropy.PurgeLedger;
import io.cairn.clock.ClockMonitor;
import io.cairn.clock.HybridClock;
import io.cairn.error.ErrorCode;
import io.cairn.membership.Member;
import io.cairn.membership.Membership;
import io.cairn.invariant.Invariant;
import io.cairn.message.Message;
import io.cairn.message.Protocol;
import io.cairn.message.RequestIds;
import io.cairn.namespace.Namespace;
import io.cairn.placement.PartitionMap;
import io.cairn.placement.Quorum;
import io.cairn.replica.LocalStore;
import io.cairn.request.Answer;
import io.cairn.request.Op;
import io.cairn.request.OpResult;
import io.cairn.request.WriteOutcome;
import io.cairn.request.WriteRequest;
import io.cairn.storage.Durability;
import io.cairn.storage.StorageEngine;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * One node of a {@code quorum}-mode cluster, as pure logic over its ports: it coordinates client
 * requests ({@link Coordinator}), serves replica requests from peers, sends heartbeats to feed its
 * {@link FailureDetector}, keeps hints for unreachable replicas as a sloppy-quorum fallback, and
 * hands hints off to replicas that come back.
 *
 * <p><b>Clocks.</b> Heartbeats carry physical clock readings both ways, so the node's
 * {@link ClockMonitor} estimates its offset to every peer; while it finds the node's clock unsafe
 * ({@link #clockUnsafe()}), the coordinator refuses writes and the server takes the node out of
 * {@code /ready}. Every peer-supplied version is checked against the max offset where it enters:
 * replica writes and hint hand-offs in the local replica, hinted writes here, read replies in the
 * coordinator ({@link HybridClock#checkPeer}). Every message also carries its sender's hybrid
 * clock, which the node's clock moves past under the same bound ({@link #onMessage(int, long, Message)}).
 *
 * <p><b>Hostile input.</b> A message from a peer is validated before it is acted on (the codec
 * checks its form, this class and the coordinator its meaning: a namespace this node serves, a
 * hint target that is a member, a reply from the node the request went to); what fails is answered
 * with a refusal or dropped. Nothing a peer sends throws out of {@link #onMessage}.
 *
 * <p><b>Shards.</b> A node runs one of these per core shard ({@link Shard}, {@link ShardedNode}):
 * each shard coordinates the requests {@link ShardRouter} gives it, answers the replica requests
 * for its partitions, heartbeats every peer with its own sequence numbers (so its own failure
 * detector and clock monitor judge the peers), and keeps its own hints and version ceiling. Any
 * shard may coordinate any key: shards share the node's storage and hybrid clock, and two shards
 * writing one key are two coordinators, ordered by version like any two.
 *
 * <p>Every entry point ({@link #onMessage}, client calls, scheduled tasks) must be called from one
 * thread at a time; the driver (production event loop or simulator) guarantees it.
 */
public final class ClusterNode {
    static final int CLOCK_MEASUREMENT_HEARTBEATS = 5;
    private final int id;
    private final Shard shard;
    // The current membership; replaced as a whole by onMembership.
    private Membership membership;
    private final Set<Integer> memberIds = new HashSet<>();
    private final Map<Integer, Namespace> namespaces = new HashMap<>();
    // Per serial namespace, the epoch from which this node has held it serial without a break (for
    // those it already held serial when it started, the epoch it started at: it cannot know an
    // earlier one, and a later bound only refuses more). See staleForSerial.
    private final Map<Integer, Long> serialSince = new HashMap<>();
    private final ClusterSettings settings;
    private final Transport transport;
    private final Scheduler scheduler;
    private final LocalStore local;
    private final FailureDetector detector;
    private final HintStore hints;
    private final Coordinator coordinator;
    private final ClusterRequests requests;
    private final Exchanger exchanger;
    // Invariant: a target is in here while a replay round to it awaits responses.
    private final Map<Long, Hint> replaying = new HashMap<>();
    // Target → the id of its round in flight; a stale round's timeout must not end a newer one.
    private final Map<Integer, Long> replayTargets = new HashMap<>();
    // Targets whose current replay round had a hint refused (the next round waits for the periodic pass).
    private final Set<Integer> replayRefused = new HashSet<>();
    private final Map<Integer, Long> roundStartedAt = new HashMap<>();
    private final HybridClock clock;
    private final ClockMonitor clockMonitor;
    private final RequestIds ids;
    // The membership epoch this node is at; requests from any other are refused. Only grows.
    private long epoch;
    private long epochMismatches;
    // Hints of serial namespaces dropped at replay (see replayTo).
    private long hintsDroppedAsSerial;
    private final NodeEpochs epochs;
    private final Mover mover;
    private final PaxosAcceptor acceptor;
    private final Paxos paxos;
    private long newestEpochSeen;
    // When (physical ms) this node last applied an epoch while a peer had shown a newer one, or
    // first saw a newer one since it last caught up; 0 while it is not behind. See behindRefusal.
    private long behindSinceMillis;
    // Replica requests from a newer epoch for partitions this node takes no writes for at its own,
    // held until it applies that epoch (see behind, CatchUpHold).
    private final CatchUpHold held;
    private long hintsReplayed;
    private long hintsKeptForPeers;
    // Heartbeat sequences are this shard's residue modulo the shard count, so pongs find it.
    private long pingSequence;
    private boolean running;

    public ClusterNode(int id, List<Member> members, Namespace namespace, ClusterSettings settings, HybridClock clock,
                       Transport transport, Scheduler scheduler, LocalStore local, StorageEngine engine) {
        this(id, members, List.of(namespace), null, settings, clock, transport, scheduler, local, engine);
    }

    /** A node of a static member list: the first epoch. */
    public ClusterNode(int id, List<Member> members, List<Namespace> namespaces, Namespace outcomes, ClusterSettings settings, HybridClock clock,
                       Transport transport, Scheduler scheduler, LocalStore local, StorageEngine engine) {
        this(id, Membership.of(Message.FIRST_EPOCH, members, firstOf(namespaces).partitioner().partitions(), settings.replicationFactor()),
                namespaces, outcomes, settings, clock, transport, scheduler, local, engine);
    }

    private static Namespace firstOf(List<Namespace> namespaces) {
        if (namespaces.isEmpty()) {
            throw new IllegalArgumentException("a cluster node serves at least one namespace");
        }
        return namespaces.get(0);
    }

    /**
     * @param membership the membership the node starts at (later ones arrive through {@link #onMembership})
     * @param namespaces the data namespaces this node serves
     * @param outcomes   the namespace keeping idempotent requests' outcomes, or null when this
     *                   node refuses idempotent requests; all namespaces share one partition map,
     *                   so they must have the same partition count
     */
    public ClusterNode(int id, Membership membership, List<Namespace> namespaces, Namespace outcomes, ClusterSettings settings, HybridClock clock,
                       Transport transport, Scheduler scheduler, LocalStore local, StorageEngine engine) {
        this(id, Shard.ONLY, membership, namespaces, outcomes, settings, clock, transport, scheduler, local, engine);
    }

    /** Shard {@code shard} of a node whose purges nothing waits on (tests); see {@link ShardedNode}. */
    public ClusterNode(int id, Shard shard, Membership membership, List<Namespace> namespaces, Namespace outcomes, ClusterSettings settings,
                       HybridClock clock, Transport transport, Scheduler scheduler, LocalStore local, StorageEngine engine) {
        this(id, shard, membership, namespaces, outcomes, settings, clock, transport, scheduler, local, engine, new PurgeLedger());
    }

    /**
     * Shard {@code shard} of a node; see {@link ShardedNode}.
     *
     * @param ledger where exchanges publish what they confirmed, for the node's sweeper (the safe
     *               purge rule); shared by the node's shards
     */
    public ClusterNode(int id, Shard shard, Membership membership, List<Namespace> namespaces, Namespace outcomes, ClusterSettings settings,
                       HybridClock clock, Transport transport, Scheduler scheduler, LocalStore local, StorageEngine engine, PurgeLedger ledger) {
        this(id, shard, membership, namespaces, outcomes, settings, clock, transport, scheduler, local, engine, ledger,
                new NodeEpochs(shard.count(), membership.epoch()), Proposer.NONE);
    }

    /**
     * Shard {@code shard} of a node whose partitions can move.
     *
     * @param epochs   the epochs this node's shards and its peers applied, shared by the node's shards
     * @param proposer where moves report to the metadata log
     */
    public ClusterNode(int id, Shard shard, Membership membership, List<Namespace> namespaces, Namespace outcomes, ClusterSettings settings,
                       HybridClock clock, Transport transport, Scheduler scheduler, LocalStore local, StorageEngine engine, PurgeLedger ledger,
                       NodeEpochs epochs, Proposer proposer) {
        if (namespaces.isEmpty()) {
            throw new IllegalArgumentException("a cluster node serves at least one namespace");
        }
        Namespace namespace = namespaces.get(0);
        List<Namespace> served = new java.util.ArrayList<>(namespaces);
        if (outcomes != null) {
            served.add(outcomes);
        }
        for (Namespace ns : served) {
            // A namespace may have fewer partitions than the map (a system namespace kept on one
            // replica set, such as the tokens): its partition p is the map's partition p.
            if (ns.partitioner().partitions() > namespace.partitioner().partitions()) {
                throw new IllegalArgumentException("namespace " + ns.name() + " has more partitions than " + namespace.name()
                        + "; every namespace's partitions must be partitions of the one partition map");
            }
            if (this.namespaces.put(ns.id(), ns) != null) {
                throw new IllegalArgumentException("namespace id " + ns.id() + " given twice");
            }
        }
        this.id = id;
        this.shard = shard;
        this.pingSequence = shard.index();
        this.clock = clock;
        if (membership.map().partitions() != namespace.partitioner().partitions()
                || membership.map().replicationFactor() != Math.min(settings.replicationFactor(), membership.members().size())) {
            throw new IllegalArgumentException("the partition map does not fit the namespaces' partitions or the replication factor");
        }
        this.membership = membership;
        adoptNamespaces(membership);
        membership.members().forEach(m -> memberIds.add(m.id()));
        this.settings = settings;
        this.transport = transport;
        this.scheduler = scheduler;
        this.held = new CatchUpHold(scheduler, settings.coordinator().behindHoldBytes());
        this.local = local;
        this.detector = new FailureDetector(clock::physicalMillis, settings.phiThreshold(), settings.heartbeatIntervalMillis());
        this.hints = new HintStore(engine, local, clock::physicalMillis, settings.hintWindowMillis(), shard);
        PartitionMap map = membership.map();
        // The ceiling first: it moves the clock past every version issued before a crash.
        VersionCeiling versions = new VersionCeiling(engine, local, clock, shard);
        // A measurement counts for a few heartbeats: long enough to ride out a lost pong, short
        // enough that a clock that was fixed stops counting against the node soon.
        this.clockMonitor = new ClockMonitor(clock, CLOCK_MEASUREMENT_HEARTBEATS * settings.heartbeatIntervalMillis(), VersionCeiling.LEASE_MILLIS);
        this.epoch = map.epoch();
        this.newestEpochSeen = epoch;
        this.ids = new RequestIds(shard.firstAtLeast(Coordinator.requestIdSeed(clock)), shard.count());
        this.acceptor = new PaxosAcceptor(clock, local);
        this.paxos = new Paxos(id, clock, clockMonitor, versions, transport, scheduler, detector, ids, acceptor, () -> this.membership.map(),
                () -> this.epoch, nsId -> this.namespaces.get(nsId), settings.paxos());
        // A plain write of a key ends this node's lease on it: the lease's next proposal would carry
        // a version older than the write's (see Paxos, leases).
        this.coordinator = new Coordinator(id, map, clock, clockMonitor, versions, transport, scheduler, local, detector, hints, ids,
                settings.coordinator(), (ns, key) -> paxos.contested(ns.id(), key));
        this.requests = new ClusterRequests(coordinator, paxos, clock, outcomes, settings.coordinator().requestTimeoutMillis(),
                settings.paxos().timeoutMillis(), settings.hintWindowMillis(), settings.coordinator().maxBatchReadBytes());
        this.exchanger = new Exchanger(id, shard, this.namespaces, settings.antiEntropy(), settings.coordinator().requestTimeoutMillis(),
                transport, scheduler, local, ids, clock, detector, ledger, () -> this.membership.map(), () -> this.epoch);
        this.epochs = epochs;
        epochs.applied(shard.index(), epoch);
        this.mover = new Mover(id, shard, this.namespaces, settings.moves(), settings.coordinator().requestTimeoutMillis(), transport,
                scheduler, local, acceptor, ids, clock, detector, epochs, proposer, () -> this.membership);
    }

    /** Starts heartbeats and hint hand-off. */
    public void start() {
        running = true;
        scheduler.schedule(0, this::heartbeat);
        scheduler.schedule(settings.hintReplayIntervalMillis(), this::replayHints);
        exchanger.start();
        mover.start();
    }

    /** Stops scheduling new background work (the node is crashing or shutting down). */
    public void stop() {
        running = false;
        exchanger.stop();
        mover.stop();
    }

    /** What this shard's partition moves did so far. */
    public MoveStats moveStats() {
        return mover.stats();
    }

    /**
     * Queues anti-entropy rounds now with every other replica of this shard's partitions of
     * {@code ns} (all namespaces when null), or only of {@code partition} when it is not negative;
     * returns how many rounds were queued.
     */
    public int repairNow(Namespace ns, int partition) {
        return exchanger.runNow(ns, partition);
    }

    /** This shard's partitions as its exchanges last saw them. */
    public List<ExchangeStatus.Partition> exchangeStatus() {
        return exchanger.status();
    }

    public ExchangeStatus.Totals exchangeTotals() {
        return exchanger.totals();
    }

    /** Forced rounds not yet done (a {@link #repairNow} in progress). */
    public int repairsPending() {
        return exchanger.forcedPending();
    }

    public int id() {
        return id;
    }

    public Shard shard() {
        return shard;
    }

    Coordinator coordinator() {
        return coordinator;
    }

    HintStore hints() {
        return hints;
    }

    FailureDetector detector() {
        return detector;
    }

    /** Whether the failure detector counts {@code node} alive (this node always is). */
    public boolean isAlive(int node) {
        return node == id || detector.isAlive(node);
    }

    /** The failure detector's suspicion of {@code node} (phi; higher is more likely down). */
    public double phi(int node) {
        return detector.phi(node);
    }

    public CoordinatorStats coordinatorStats() {
        return coordinator.stats();
    }

    /** What this shard's Paxos proposers did. */
    public PaxosStats paxosStats() {
        return paxos.stats();
    }

    /** Paxos states this shard's replica found corrupt. */
    public long paxosCorruptStates() {
        return acceptor.corruptStates();
    }

    /** The partition map of the current membership. */
    public PartitionMap map() {
        return membership.map();
    }

    /** Pending hints per target (targets with none left out). */
    public Map<Integer, HintBacklog> hintBacklog() {
        return hints.backlog();
    }

    public long hintsPending() {
        return hints.pendingCount();
    }

    /** Hints on their way to storage (see {@link HintStore#addingCount}). */
    public long hintsBeingStored() {
        return hints.addingCount();
    }

    public long hintsStored() {
        return hints.storedCount();
    }

    /** Hints dropped past the hint window, found corrupt, or kept for a namespace that became serial. */
    public long hintsDropped() {
        return hints.droppedCount() + hintsDroppedAsSerial;
    }

    /** Hints the storage engine refused to store. */
    public long hintsFailed() {
        return hints.failedCount();
    }

    public ClockMonitor clockMonitor() {
        return clockMonitor;
    }

    /** Why this node's clock must not issue versions now (it refuses writes), or null. */
    public ClockMonitor.Unsafe clockUnsafe() {
        return clockMonitor.unsafe();
    }

    public long hintsReplayed() {
        return hintsReplayed;
    }

    /** Hints this node stored as a sloppy-quorum fallback, for writes other nodes coordinated. */
    public long hintsKeptForPeers() {
        return hintsKeptForPeers;
    }

    /**
     * Runs a client's write request — a put, a delete or a batch, optionally idempotent — at read
     * quorum {@code r} (for a batch's gets) and write quorum {@code w}; see {@link ClusterRequests}.
     */
    public void execute(WriteRequest request, Quorum r, Quorum w, Consumer<WriteOutcome> done) {
        OpResult.Failed refused = notCoordinating();
        if (refused != null) {
            done.accept(new WriteOutcome.Failed(refused.code(), refused.message()));
            return;
        }
        // The namespace as this shard's epoch defines it: its consistency class and limits are the ones that apply.
        Namespace ns = namespaces.get(request.namespace().id());
        if (ns == null) {
            done.accept(new WriteOutcome.Failed(ErrorCode.NAMESPACE_NOT_FOUND, unknownNamespace(request.namespace())));
            return;
        }
        requests.execute(ns == request.namespace() ? request : new WriteRequest(ns, request.ops(), request.idempotency(), request.after()), r, w, done);
    }

    /**
     * Why this node coordinates no client request now, or null: it left the cluster, or it has been
     * behind its peers' epoch too long (see {@link #behindRefusal}).
     */
    private OpResult.Failed notCoordinating() {
        if (!membership.isMember(id)) {
            return new OpResult.Failed(ErrorCode.NOT_A_MEMBER, notAMember(), java.util.Map.of());
        }
        String behind = behindRefusal();
        return behind == null ? null : new OpResult.Failed(ErrorCode.EPOCH_MISMATCH, behind, java.util.Map.of());
    }

    /**
     * Why a node that left the cluster (decommissioned, removed or replaced) coordinates nothing:
     * it holds no partitions and routes by an epoch it is no longer part of. Names a few members.
     */
    private String notAMember() {
        List<String> members = membership.members().stream().limit(3).map(Member::httpAddress).toList();
        return "node " + id + " is not a member of the cluster at membership epoch " + epoch
                + " (it was decommissioned, removed or replaced); send requests to a member" + (members.isEmpty() ? "" : ", such as " + String.join(", ", members));
    }

    private String unknownNamespace(Namespace ns) {
        return "node " + id + " does not serve namespace " + ns.name() + " (id " + ns.id() + ") at membership epoch " + epoch;
    }

    /** Idempotent requests answered from a stored outcome. */
    public long idempotencyReplays() {
        return requests.replays();
    }

    /** Idempotent requests whose outcome could not be stored at W (a retry may run them again). */
    public long idempotencyUnrecorded() {
        return requests.unrecorded();
    }

    public void put(Namespace ns, byte[] key, byte[] value, String contentType, long ttlMillis, Quorum w, Consumer<Answer> done) {
        coordinator.put(ns, key, value, contentType, ttlMillis, w, done);
    }

    public void delete(Namespace ns, byte[] key, Quorum w, Consumer<Answer> done) {
        coordinator.delete(ns, key, w, done);
    }

    /** A put stamped newer than the client's causal token {@code after} (see {@link WriteRequest#after}). */
    public void put(Namespace ns, byte[] key, byte[] value, String contentType, long ttlMillis, io.cairn.clock.Version after, Quorum w,
                    Consumer<Answer> done) {
        coordinator.put(ns, key, value, contentType, ttlMillis, after, w, done);
    }

    /** A delete stamped newer than the client's causal token {@code after}. */
    public void delete(Namespace ns, byte[] key, io.cairn.clock.Version after, Quorum w, Consumer<Answer> done) {
        coordinator.delete(ns, key, after, w, done);
    }

    public void get(Namespace asked, byte[] key, Quorum r, Consumer<Answer> done) {
        Namespace ns = namespaces.get(asked.id());
        OpResult.Failed refused = notCoordinating();
        if (refused != null) {
            done.accept(Answer.failed(refused.code(), refused.message(), refused.details()));
        } else if (ns == null) {
            done.accept(Answer.failed(ErrorCode.NAMESPACE_NOT_FOUND, unknownNamespace(asked), java.util.Map.of()));
        } else if (ns.serial()) {
            int n = membership.map().replicationFactor();
            if (r != null && (r.kind() == Quorum.Kind.COUNT ? r.count() : r.resolve(n)) < n / 2 + 1) {
                done.accept(Answer.failed(ErrorCode.INVALID_QUORUM, ClusterRequests.serialRefusal(ns, "r=" + r), java.util.Map.of()));
            } else {
                paxos.read(ns, key, done);
            }
        } else {
            coordinator.get(ns, key, r, done);
        }
    }

    /** A linearizable read (a Paxos round on the key; see {@link Paxos}). */
    public void serialGet(Namespace asked, byte[] key, Consumer<Answer> done) {
        Namespace ns = namespaces.get(asked.id());
        OpResult.Failed refused = notCoordinating();
        if (refused != null) {
            done.accept(Answer.failed(refused.code(), refused.message(), refused.details()));
            return;
        }
        if (ns == null) {
            done.accept(Answer.failed(ErrorCode.NAMESPACE_NOT_FOUND, unknownNamespace(asked), java.util.Map.of()));
            return;
        }
        paxos.read(ns, key, done);
    }

    /** A linearizable put or delete, under its condition (see {@link Paxos}). */
    public void serialWrite(Namespace ns, Op op, Consumer<Answer> done) {
        paxos.write(ns, op, done);
    }

    /**
     * Every home replica's stored copy of a key, for operators: no quorum and no repair; see
     * {@link Coordinator#inspect}.
     */
    public void inspect(Namespace ns, byte[] key, Consumer<List<ReplicaCopy>> done) {
        coordinator.inspect(ns, key, done);
    }

    /**
     * The cluster's membership changed: from now on this node routes by {@code next}'s partition
     * map, heartbeats its members, refuses requests from any other epoch and forgets what it knew
     * of nodes that left (liveness, clock offsets). Requests already running finish with the
     * replicas they started with. Hints for a node that left are dropped by the next replay pass
     * (its partitions are re-replicated by the membership change). Epochs only grow: an older or equal
     * one is a bug of whoever delivers memberships.
     */
    public void onMembership(Membership next) {
        Invariant.check(next.epoch() > epoch, "membership epoch %d after epoch %d", next.epoch(), epoch);
        Invariant.check(next.map().partitions() == membership.map().partitions(),
                "a membership with %d partitions, not %d", next.map().partitions(), membership.map().partitions());
        for (Member m : membership.members()) {
            if (!next.isMember(m.id())) {
                detector.forget(m.id());
                clockMonitor.forget(m.id());
            }
        }
        membership = next;
        epoch = next.epoch();
        newestEpochSeen = Math.max(newestEpochSeen, epoch);
        // Caught up, or at least moving: a node that applies epochs more slowly than they come (a
        // busy rebalance) is not one that cannot reach the log, so the clock starts again.
        behindSinceMillis = epoch >= newestEpochSeen ? 0 : Math.max(1, physicalNow());
        memberIds.clear();
        next.members().forEach(m -> memberIds.add(m.id()));
        adoptNamespaces(next);
        coordinator.onMembership(next.map());
        exchanger.onMembership(namespaces);
        mover.onMembership();
        epochs.applied(shard.index(), epoch);
        // Requests held for this epoch, or an older one: delivered now, checked again as any is.
        held.caughtUp(epoch, (from, m) -> deliver(from, m, false));
    }

    /**
     * Serves the user namespaces {@code m} defines, and the default namespace with the policy it
     * sets for it if any, with their policy of its epoch (a changed
     * consistency class or limit applies to requests this shard starts from now on). Namespaces
     * are never dropped, so their data stays served, moved and repaired.
     */
    private void adoptNamespaces(Membership m) {
        for (io.cairn.namespace.NamespaceSpec spec : m.namespaces()) {
            Namespace ns = spec.toNamespace(m.map().partitions());
            Namespace before = namespaces.get(ns.id());
            Invariant.check(before == null || before.name().equals(ns.name()), "namespace id %d is %s here and %s in epoch %d", ns.id(),
                    before == null ? "" : before.name(), ns.name(), m.epoch());
            adopt(ns, m.epoch());
        }
        if (m.defaultPolicy() != null) {
            // The default namespace's policy the cluster set: its default TTL and value limit
            // apply to requests this shard starts from now on, on every node alike.
            Namespace before = namespaces.get(Namespace.DEFAULT_ID);
            Namespace ns = m.defaultPolicy().toNamespace(m.map().partitions());
            Invariant.check(before != null && before.name().equals(ns.name()), "the default namespace's policy names %s", ns.name());
            adopt(ns, m.epoch());
        }
    }

    private void adopt(Namespace ns, long at) {
        Namespace before = namespaces.put(ns.id(), ns);
        if (!ns.serial()) {
            serialSince.remove(ns.id());
        } else if (before == null || !before.serial()) {
            serialSince.put(ns.id(), at);
        }
    }

    public Membership membership() {
        return membership;
    }

    public long epoch() {
        return epoch;
    }

    /** Requests refused because they came from another membership epoch. */
    public long epochMismatches() {
        return epochMismatches;
    }

    /** The newest membership epoch a peer has shown this node (its own when none newer). */
    public long newestEpochSeen() {
        return newestEpochSeen;
    }

    /**
     * Since when (this node's physical ms) it has applied no epoch while a peer had shown a newer
     * one; 0 while it is not behind. What {@code behindRefusal} counts from, for the node's
     * readiness to count from the same moment.
     */
    public long behindSinceMillis() {
        return newestEpochSeen > epoch ? behindSinceMillis : 0;
    }

    /** {@link #onMessage(int, long, Message)} with no clock heard (as 0): for tests that hand the core messages directly. */
    public void onMessage(int from, Message m) {
        onMessage(from, 0, m);
    }

    /**
     * Every message from a peer arrives here. First the node's clock moves past the sender's
     * ({@link HybridClock#observePeer}), so that the next version it issues is newer than any the
     * sender had issued or seen when it sent: a client's later write through this node then wins
     * over its earlier one through the sender. A sender clock beyond the max offset is refused
     * and counted there, and the message is still handled: the versions and ballots it carries
     * are checked where they are used. This node's own clock (a message to itself) is not a
     * peer's and is not observed. Then a request from another membership epoch is refused (naming
     * both epochs) before it is acted on; a response is routed by its protocol to the one table
     * awaiting it.
     *
     * @param senderClock the sender's hybrid clock when it sent the message (see
     *                    {@code MessageCodec.Clocked}); 0 when none was heard
     */
    public void onMessage(int from, long senderClock, Message m) {
        if (senderClock > 0 && from != id) {
            clock.observePeer(senderClock);
        }
        detector.heard(from);
        deliver(from, m, true);
    }

    /**
     * Acts on a message from {@code from}; {@code mayHold}: a replica request from a newer epoch
     * this node cannot take yet may be held until it catches up ({@link #holdWhileBehind}), else it
     * is refused.
     */
    private void deliver(int from, Message m, boolean mayHold) {
        switch (m) {
            case Message.WriteRequest w -> {
                int partition = partitionOf(w.namespaceId(), w.key());
                Message.Failure refused = epochRefusal(w.epoch(), partition);
                if (refused == null && mayHold && holdWhileBehind(from, w, w.epoch(), partition, w.key().length + w.record().value().length)) {
                    return;
                }
                if (refused == null) {
                    refused = behind(w.epoch(), partition);
                }
                if (refused == null && partition >= 0 && mover.dropped(partition)) {
                    refused = new Message.Failure(ErrorCode.EPOCH_MISMATCH, "partition " + partition + " moved away from node " + id
                            + " at epoch " + membership.map().since(partition) + "; the request is from epoch " + w.epoch());
                }
                if (refused == null) {
                    refused = outsidePaxos(w.protocol(), w.namespaceId(), w.epoch());
                }
                if (refused != null) {
                    transport.send(from, new Message.WriteResponse(w.protocol(), w.requestId(), false, refused));
                } else {
                    onWriteRequest(from, w);
                }
            }
            case Message.HintedWrite h -> {
                Message.Failure refused = epochRefusal(h.epoch(), partitionOf(h.namespaceId(), h.key()));
                if (refused == null) {
                    refused = outsidePaxos(Protocol.REPLICATION, h.namespaceId(), h.epoch());
                }
                if (refused != null) {
                    transport.send(from, new Message.WriteResponse(Protocol.REPLICATION, h.requestId(), false, refused));
                } else {
                    onHintedWrite(from, h);
                }
            }
            case Message.ReadRequest r -> {
                Message.Failure refused = epochRefusal(r.epoch(), partitionOf(r.namespaceId(), r.key()));
                if (refused == null) {
                    refused = outsidePaxos(r.protocol(), r.namespaceId(), r.epoch());
                }
                if (refused != null) {
                    transport.send(from, new Message.ReadResponse(r.protocol(), r.requestId(), null, refused));
                } else {
                    onReadRequest(from, r);
                }
            }
            case Message.WriteResponse w -> {
                switch (w.protocol()) {
                    case REPLICATION -> coordinator.onWriteResponse(from, w);
                    case REPAIR -> coordinator.onRepairResponse(from, w);
                    case HANDOFF -> onHandoffResponse(from, w);
                    case EXCHANGE_PUSH -> exchanger.onPushResponse(from, w);
                    case READ, INSPECTION, EXCHANGE, STREAM, PAXOS -> throw Invariant.violated("a write response of protocol %s", w.protocol());
                }
            }
            case Message.ReadResponse r -> {
                switch (r.protocol()) {
                    case READ -> coordinator.onReadResponse(from, r);
                    case INSPECTION -> coordinator.onInspectionResponse(from, r);
                    case EXCHANGE -> exchanger.onFetchResponse(from, r);
                    case REPLICATION, REPAIR, HANDOFF, EXCHANGE_PUSH, STREAM, PAXOS -> throw Invariant.violated("a read response of protocol %s", r.protocol());
                }
            }
            case Message.TreeRequest t -> {
                Message.Failure refused = epochRefusal(t.epoch(), t.partition());
                Namespace ns = namespaces.get(t.namespaceId());
                if (refused != null || ns == null) {
                    transport.send(from, new Message.TreeResponse(t.requestId(), null, refused != null ? refused
                            : new Message.Failure(ErrorCode.MALFORMED_REQUEST, "unknown namespace " + t.namespaceId())));
                } else {
                    exchanger.onTreeRequest(from, t, ns);
                }
            }
            case Message.KeysRequest k -> {
                Message.Failure refused = epochRefusal(k.epoch(), k.partition());
                Namespace ns = namespaces.get(k.namespaceId());
                if (refused != null || ns == null) {
                    transport.send(from, new Message.KeysResponse(k.requestId(), null, refused != null ? refused
                            : new Message.Failure(ErrorCode.MALFORMED_REQUEST, "unknown namespace " + k.namespaceId())));
                } else {
                    exchanger.onKeysRequest(from, k, ns);
                }
            }
            case Message.StreamRequest r -> {
                Message.Failure refused = epochRefusal(r.epoch(), r.partition());
                Namespace ns = namespaces.get(r.namespaceId());
                if (refused != null || ns == null || r.partition() >= ns.partitioner().partitions()) {
                    transport.send(from, Mover.failed(r, refused != null ? refused
                            : new Message.Failure(ErrorCode.MALFORMED_REQUEST, "no partition " + r.partition() + " of namespace " + r.namespaceId())));
                } else {
                    mover.onStreamRequest(from, r, ns);
                }
            }
            case Message.StreamResponse r -> mover.onStreamResponse(from, r);
            case Message.StateStreamResponse r -> mover.onStateStreamResponse(from, r);
            case Message.PaxosRequest r -> {
                int partition = partitionOf(r.namespaceId(), r.key());
                Message.Failure refused = epochRefusal(r.epoch(), partition);
                if (refused == null && mayHold && holdWhileBehind(from, r, r.epoch(), partition,
                        r.key().length + (r.record() == null ? 0 : r.record().value().length))) {
                    return;
                }
                if (refused == null) {
                    refused = behind(r.epoch(), partition);
                }
                if (refused == null) {
                    refused = staleForSerial(r.namespaceId(), r.epoch());
                }
                if (refused == null && partition >= 0 && mover.dropped(partition)) {
                    refused = new Message.Failure(ErrorCode.EPOCH_MISMATCH, "partition " + partition + " moved away from node " + id
                            + " at epoch " + membership.map().since(partition) + "; the request is from epoch " + r.epoch());
                }
                if (refused == null && partition < 0) {
                    refused = new Message.Failure(ErrorCode.MALFORMED_REQUEST, "unknown namespace " + r.namespaceId());
                }
                if (refused != null) {
                    transport.send(from, Message.PaxosResponse.failed(r.phase(), r.requestId(), refused));
                } else {
                    if (r.phase() == Message.PaxosRequest.Phase.PREPARE) {
                        // Another proposer runs a round of the key: this node's lease on it is overtaken.
                        paxos.contested(r.namespaceId(), r.key());
                    }
                    acceptor.onRequest(namespaces.get(r.namespaceId()), partition, r, response -> transport.send(from, response));
                }
            }
            case Message.PaxosResponse r -> paxos.onResponse(from, r);
            case Message.TreeResponse t -> exchanger.onTreeResponse(from, t);
            case Message.KeysResponse k -> exchanger.onKeysResponse(from, k);
            case Message.Ping p -> {
                // Liveness does not depend on membership: a ping from any epoch is answered.
                saw(p.epoch());
                if (memberIds.contains(from)) {
                    epochs.heard(from, p.epoch());
                }
                transport.send(from, new Message.Pong(p.sequence(), p.sentAtMillis(), physicalNow()));
            }
            case Message.Pong p -> {
                if (from != id && memberIds.contains(from) && shard.owns(p.sequence())) {
                    clockMonitor.onPong(from, p.pingSentAtMillis(), p.sentAtMillis());
                }
            }
        }
    }

    /**
     * The refusal for a request about {@code partition} from membership epoch {@code theirs}, or
     * null when the request may be served. A partition's assignment advances one step at a time,
     * and only once every member applied the step before (see {@code Mover}), so a request from
     * the epoch its previous step took effect or later, or from a newer epoch than this node's, was
     * routed by this step or an adjacent one, whose quorums intersect this step's. An older one is
     * refused, naming this node's epoch, so its coordinator learns it is behind.
     */
    private Message.Failure epochRefusal(long theirs, int partition) {
        saw(theirs);
        PartitionMap map = membership.map();
        if (theirs >= epoch || partition < 0 || partition >= map.partitions() || theirs >= map.previousSince(partition)) {
            return null;
        }
        epochMismatches++;
        return new Message.Failure(ErrorCode.EPOCH_MISMATCH, "the request is from membership epoch " + theirs + "; node " + id
                + " is at epoch " + epoch + ", where partition " + partition + " moved at epoch " + map.since(partition));
    }

    /**
     * The refusal of a write or a Paxos step from a newer epoch than this node's, for a partition
     * this node takes no writes for at its own epoch (it is a new replica of it there), or null. The
     * node is behind, and until it catches up it cannot know the partition is its own: its mover
     * would drop what it stored as a partition that is not (the simulator found a write taken this
     * way from a joint quorum deleted by a node cut off from the metadata log), so it takes nothing:
     * it holds the request until it catches up ({@link #holdWhileBehind}), and refuses it, counting
     * as a replica that did not answer, only when it cannot hold it or is still behind at its deadline.
     */
    private Message.Failure behind(long theirs, int partition) {
        if (!isBehindFor(theirs, partition)) {
            return null;
        }
        epochMismatches++;
        return new Message.Failure(ErrorCode.EPOCH_MISMATCH, "the request is from membership epoch " + theirs + "; node " + id
                + " is behind at epoch " + epoch + ", where it takes no writes for partition " + partition + ", until it catches up");
    }

    private boolean isBehindFor(long theirs, int partition) {
        return theirs > epoch && partition >= 0 && partition < membership.map().partitions() && !membership.map().takesWrites(partition, id);
    }

    /**
     * Holds {@code m}, a request {@link #behind} would refuse, until this node applies its epoch
     * {@code theirs} or for the request timeout, whichever comes first ({@link CatchUpHold}); then
     * it is delivered again. False when it need not wait (this node is not behind for it) or cannot:
     * the hold is full, or this node has been behind so long that it is cut off from the metadata
     * log ({@link #behindRefusal}), where waiting would only keep the coordinator waiting too.
     */
    private boolean holdWhileBehind(int from, Message m, long theirs, int partition, long bytes) {
        if (!isBehindFor(theirs, partition) || behindRefusal() != null) {
            return false;
        }
        return held.hold(from, m, theirs, bytes, settings.coordinator().requestTimeoutMillis(), (f, late) -> deliver(f, late, false));
    }

    /** Replica requests held now while this node catches up to their epoch. */
    public int heldWhileBehind() {
        return held.size();
    }

    /** Replica requests held since start while this node caught up to their epoch. */
    public long heldWhileBehindTotal() {
        return held.heldTotal();
    }

    /** Of those, the ones still held at their deadline. */
    public long heldPastDeadline() {
        return held.expiredTotal();
    }

    /**
     * The refusal of a plain replica request for a namespace that is {@code serial} at this node's
     * epoch, or null. There every record is chosen by a Paxos round, which reads and writes through
     * its own messages, so a coordinator's quorum write or read, its read repair or a hint handed
     * off can only come from a node that has not applied the change that made the namespace serial
     * (a restarted node, one cut off from the metadata log, or one a heartbeat behind). Taking them
     * would let a record no round chose onto a replica, where a later round could find it on one
     * replica of its majority and not on the next, and a read would answer a value no quorum has.
     * Refused, naming this node's epoch, it counts as a replica that did not answer. Anti-entropy
     * (copies of records the replicas already hold), streams and inspection are not refused.
     */
    private Message.Failure outsidePaxos(Protocol protocol, int namespaceId, long theirs) {
        Namespace ns = namespaces.get(namespaceId);
        if (ns == null || !ns.serial() || !(protocol == Protocol.REPLICATION || protocol == Protocol.REPAIR || protocol == Protocol.HANDOFF
                || protocol == Protocol.READ)) {
            return null;
        }
        epochMismatches++;
        return new Message.Failure(ErrorCode.EPOCH_MISMATCH, "namespace " + ns.name() + " is serial at membership epoch " + epoch + " on node " + id
                + ": its records are read and written only by Paxos rounds, and this " + protocol.name().toLowerCase(Locale.ROOT)
                + " request (from epoch " + theirs + ") is not one; its coordinator has not applied the change yet");
    }

    /**
     * The refusal of a Paxos step about a namespace that is {@code serial} here, from an epoch
     * before it became so, or null. Its proposer still holds the namespace {@code quorum}: there a
     * serial read answers the newest value a majority holds without finishing it, and the stray
     * rule is not applied, so a record a stale plain write left on the proposer's own replica (which
     * took it: the proposer is stale) could be answered by one read and be missing from the next
     * round's majority (the nemesis with a node cut off from the metadata log found exactly that).
     * Refused, naming this node's epoch, it counts as an acceptor that did not answer, so a
     * proposer that has not applied the change cannot complete a round in the namespace at all.
     */
    private Message.Failure staleForSerial(int namespaceId, long theirs) {
        Long since = serialSince.get(namespaceId);
        if (since == null || theirs >= since) {
            return null;
        }
        epochMismatches++;
        return new Message.Failure(ErrorCode.EPOCH_MISMATCH, "namespace " + namespaces.get(namespaceId).name() + " is serial on node " + id
                + " since membership epoch " + since + "; this Paxos request is from epoch " + theirs + ", whose coordinator has not applied"
                + " the change yet");
    }

    /** The partition of {@code key} in namespace {@code namespaceId}, or -1 for a namespace this node does not serve. */
    private int partitionOf(int namespaceId, byte[] key) {
        Namespace ns = namespaces.get(namespaceId);
        return ns == null ? -1 : ns.partitionOf(key);
    }

    /** An answer of the {@link Protocol#HANDOFF} protocol: the target took (or refused) a hint. */
    private void onHandoffResponse(int from, Message.WriteResponse w) {
        Hint h = replaying.get(w.requestId());
        if (h != null && h.target() == from) {
            replaying.remove(w.requestId());
            onHintResponse(h, w);
        }
    }

    private void onWriteRequest(int from, Message.WriteRequest w) {
        Namespace ns = namespaces.get(w.namespaceId());
        if (ns == null) {
            transport.send(from, new Message.WriteResponse(w.protocol(), w.requestId(), false,
                    new Message.Failure(ErrorCode.MALFORMED_REQUEST, "unknown namespace " + w.namespaceId())));
            return;
        }
        local.apply(ns, List.of(new Op.Apply(w.key(), w.record())), (results, failure) -> {
            boolean stored = failure == null && OpResult.stored(results.get(0));
            transport.send(from, new Message.WriteResponse(w.protocol(), w.requestId(), stored, failure == null ? null : Message.Failure.of(failure)));
        });
    }


    /**
     * Sloppy quorum: this node stands in for the unreachable home replica {@code h.target()}. The
     * hint is synced before the answer because the coordinator counts it toward W; the normal
     * hint replay hands it to the target once this node's failure detector sees it alive.
     */
    private void onHintedWrite(int from, Message.HintedWrite h) {
        long timestamp = h.record().version().timestamp();
        Message.Failure refused = !namespaces.containsKey(h.namespaceId())
                ? new Message.Failure(ErrorCode.MALFORMED_REQUEST, "unknown namespace " + h.namespaceId())
                : !memberIds.contains(h.target()) ? new Message.Failure(ErrorCode.MALFORMED_REQUEST, "hint target " + h.target() + " is not a member")
                : !clock.checkPeer(timestamp) ? new Message.Failure(ErrorCode.CLOCK_UNSAFE, "refused: " + clock.describe(timestamp))
                : null;
        if (refused != null) {
            transport.send(from, new Message.WriteResponse(Protocol.REPLICATION, h.requestId(), false, refused));
            return;
        }
        hints.add(h.target(), h.namespaceId(), h.key(), h.record(), Durability.SYNC, failure -> {
            if (failure == null) {
                hintsKeptForPeers++;
            }
            transport.send(from, new Message.WriteResponse(Protocol.REPLICATION, h.requestId(), failure == null,
                    failure == null ? null : Message.Failure.of(failure)));
        });
    }

    private void onReadRequest(int from, Message.ReadRequest r) {
        Namespace ns = namespaces.get(r.namespaceId());
        if (ns == null) {
            transport.send(from, new Message.ReadResponse(r.protocol(), r.requestId(), null,
                    new Message.Failure(ErrorCode.MALFORMED_REQUEST, "unknown namespace " + r.namespaceId())));
            return;
        }
        local.read(ns, r.key(), (stored, failure) -> transport.send(from,
                new Message.ReadResponse(r.protocol(), r.requestId(), failure == null ? stored : null, failure == null ? null : Message.Failure.of(failure))));
    }

    private void heartbeat() {
        if (!running) {
            return;
        }
        long seq = pingSequence;
        pingSequence += shard.count();
        // A node that left the cluster has no one to ping: its former peers no longer know it, and
        // refuse its connections.
        for (Member m : membership.isMember(id) ? membership.members() : List.<Member>of()) {
            if (m.id() != id) {
                // The node's epoch (every shard's), which is what the move barrier needs to know.
                transport.send(m.id(), new Message.Ping(Math.max(Message.FIRST_EPOCH, epochs.self()), seq, physicalNow()));
            }
        }
        scheduler.schedule(settings.heartbeatIntervalMillis(), this::heartbeat);
    }

    /** A peer showed {@code theirs}, its epoch. */
    private void saw(long theirs) {
        if (theirs > newestEpochSeen) {
            newestEpochSeen = theirs;
        }
        if (newestEpochSeen > epoch && behindSinceMillis == 0) {
            behindSinceMillis = Math.max(1, physicalNow());
        }
    }

    /**
     * Why this node coordinates no client request now, or null: peers have shown it a newer
     * membership epoch than the one it routes by, and for longer than the coordinator's behind
     * limit ({@link CoordinatorSettings#behindLimitMillis}) it has applied no epoch: it is cut off
     * from the metadata log (or its log stopped applying). Routing by an old epoch is safe for a partition whose replicas did not move
     * (its peers refuse the others), but what else the newer epochs changed it cannot know: a
     * namespace made serial, where its quorum reads at {@code r=1} would answer from its own replica
     * alone, a namespace's limits. A moment behind, as every node is while an epoch spreads, it
     * goes on serving.
     */
    private String behindRefusal() {
        if (behindSinceMillis == 0 || newestEpochSeen <= epoch
                || physicalNow() - behindSinceMillis <= settings.coordinator().behindLimitMillis()) {
            return null;
        }
        return "node " + id + " routes by membership epoch " + epoch + ", and its peers have shown epoch " + newestEpochSeen + " for "
                + (physicalNow() - behindSinceMillis) + " ms without it catching up (cut off from the metadata log?):"
                + " it coordinates nothing until it does; send the request to another member";
    }

    /** This node's physical clock as heartbeats carry it: a reading before 1970 is sent as 0 (and makes the node an outlier). */
    private long physicalNow() {
        return Math.max(0, clock.physicalMillis());
    }

    /**
     * Hands hints to targets that are up again, at most {@code hintReplayBatch} per target per
     * round, one round in flight per target: the throttle that keeps replay from starving
     * foreground traffic. Also drops hints past the hint window.
     */
    private void replayHints() {
        if (!running) {
            return;
        }
        hints.dropExpired();
        for (int target : hints.backlog().keySet()) {
            if (target != id && !memberIds.contains(target)) {
                hints.dropTarget(target); // It left the cluster; its partitions moved elsewhere.
                continue;
            }
            replayTo(target);
        }
        scheduler.schedule(settings.hintReplayIntervalMillis(), this::replayHints);
    }

    /**
     * Starts a replay round to {@code target} unless one is in flight or the target is down. A
     * round that completes early starts the next after {@code batch / rate} (see
     * {@link #onHintResponse}), so a backlog drains at up to the replay rate without waiting for
     * the periodic pass.
     */
    private void replayTo(int target) {
        // This node's own hints (its write path refused a write it coordinated) need no peer to be up.
        if (!running || replayTargets.containsKey(target) || (target != id && !detector.isAlive(target))) {
            return;
        }
        long roundId = ids.next(Protocol.HANDOFF);
        replayTargets.put(target, roundId);
        replayRefused.remove(target);
        roundStartedAt.put(target, clock.physicalMillis());
        hints.pending(target, settings.hintReplayBatch(), batch -> {
            if (!running || batch.isEmpty()) {
                replayTargets.remove(target, roundId);
                return;
            }
            Set<Long> round = new HashSet<>();
            for (Hint h : batch) {
                Namespace hns = namespaces.get(h.namespaceId());
                if (hns != null && !membership.map().takesWrites(hns.partitionOf(h.key()), target)) {
                    // The partition moved away from the target: its new replicas hold the write
                    // (joint quorums and streams), and the target dropped (or will drop) its copy.
                    hints.delivered(h);
                    continue;
                }
                if (hns != null && hns.serial()) {
                    // A plain write's record, kept before the namespace became serial or by a
                    // coordinator that had not applied that yet: no Paxos round chose it, and no
                    // replica takes it now (see outsidePaxos). Its write was answered before the
                    // change, by a quorum anti-entropy copies from, or never.
                    hints.delivered(h);
                    hintsDroppedAsSerial++;
                    continue;
                }
                long rid = ids.next(Protocol.HANDOFF);
                round.add(rid);
                replaying.put(rid, h);
                if (target == id) {
                    replayLocally(rid, h);
                } else {
                    transport.send(target, new Message.WriteRequest(Protocol.HANDOFF, epoch, rid, h.namespaceId(), h.key(), h.record()));
                }
            }
            // A round ends when it is answered or after a request timeout, whichever is first.
            scheduler.schedule(settings.coordinator().requestTimeoutMillis(), () -> {
                round.forEach(replaying::remove);
                replayTargets.remove(target, roundId);
            });
        });
    }

    /** Hands a hint for this node itself to its own replica, as if it had arrived from a peer. */
    private void replayLocally(long rid, Hint h) {
        Namespace ns = namespaces.get(h.namespaceId());
        if (ns == null) {
            return;
        }
        local.apply(ns, List.of(new Op.Apply(h.key(), h.record())), (results, failure) -> {
            Hint pending = replaying.remove(rid);
            if (pending != null) {
                onHintResponse(pending, new Message.WriteResponse(Protocol.HANDOFF, rid, failure == null && OpResult.stored(results.get(0)), null));
            }
        });
    }

    private void onHintResponse(Hint h, Message.WriteResponse w) {
        int target = h.target();
        if (w.stored()) {
            hints.delivered(h);
            hintsReplayed++;
        } else {
            replayRefused.add(target);
        }
        Long roundId = replayTargets.get(target);
        if (roundId != null && replaying.values().stream().noneMatch(x -> x.target() == target)) {
            if (replayRefused.contains(target)) {
                // A hint was refused (a failing disk, a record the target cannot take yet): the
                // next round waits for the periodic pass, not the rate, or the refusal would
                // repeat as fast as it comes back.
                replayTargets.remove(target, roundId);
                return;
            }
            // The round is answered. The target stays taken until the next round may start, so
            // the periodic pass cannot start a second chain of rounds beside this one.
            long elapsed = clock.physicalMillis() - roundStartedAt.getOrDefault(target, 0L);
            // Each shard hands off at its share of the node's replay rate.
            scheduler.schedule(Math.max(0, settings.minReplayRoundMillis() * shard.count() - elapsed), () -> {
                if (replayTargets.remove(target, roundId)) {
                    replayTo(target);
                }
            });
        }
    }
}
