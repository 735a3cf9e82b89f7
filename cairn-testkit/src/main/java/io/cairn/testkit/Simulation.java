package io.cairn.testkit;

import io.cairn.antientropy.SegmentKeys;
import io.cairn.antientropy.TreeKeeper;
import io.cairn.antientropy.PurgeGate;
import io.cairn.antientropy.PurgeLedger;
import io.cairn.clock.HybridClock;
import io.cairn.cluster.ClusterNode;
import io.cairn.cluster.NodeEpochs;
import io.cairn.cluster.Proposer;
import io.cairn.invariant.Invariant;
import io.cairn.metadata.ClusterMetadata;
import io.cairn.metadata.ClusterState;
import io.cairn.metadata.MetadataCommand;
import io.cairn.metadata.Reports;
import io.cairn.metadata.MemberRecord;
import io.cairn.metadata.NodeState;
import io.cairn.metadata.Plan;
import io.cairn.error.ErrorCode;
import io.cairn.membership.Member;
import io.cairn.message.MessageCodec;
import io.cairn.namespace.Consistency;
import io.cairn.namespace.Namespace;
import io.cairn.namespace.NamespaceSpec;
import io.cairn.placement.Partitioner;
import io.cairn.membership.Membership;
import io.cairn.message.Message;
import io.cairn.placement.PartitionMap;
import io.cairn.placement.Placement;
import io.cairn.placement.Quorum;
import io.cairn.record.Record;
import io.cairn.replica.LocalReplica;
import io.cairn.replica.LocalStore;
import io.cairn.replica.ReplicaAntiEntropy;
import io.cairn.request.IdempotencyTag;
import io.cairn.request.Answer;
import io.cairn.request.Condition;
import io.cairn.request.Limits;
import io.cairn.request.Op;
import io.cairn.request.OpResult;
import io.cairn.request.WriteOutcome;
import io.cairn.request.WriteRequest;
import io.cairn.cluster.Scheduler;
import io.cairn.cluster.ShardedNode;
import io.cairn.storage.Durability;
import io.cairn.storage.StorageEngine;
import io.cairn.storage.StorageException;
import io.cairn.storage.WriteBatch;
import io.cairn.storage.Keyspace;
import io.cairn.record.CorruptRecordException;
import io.cairn.cluster.Transport;
import io.cairn.clock.Version;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A whole {@code quorum}-mode Cairn cluster simulated in one thread from one seed, in the manner
 * of FoundationDB's and TigerBeetle's simulators: the real core code ({@link ClusterNode},
 * coordinator, replicas, hints, failure detector) runs unmodified over simulated ports.
 *
 * <p><b>Model.</b> Virtual time is an {@link EventLoop}. Each node has a {@link SimDisk} (the
 * in-memory engine with its crash model), a {@link SimClock} with its own skew and jumps, and, per
 * incarnation, an HLC, a {@link LocalReplica} (SYNC durability) behind {@code LocalStore.direct},
 * and a {@link ShardedNode} (1 to {@value #MAX_SIM_SHARDS} {@link ClusterNode} shards, the count
 * drawn anew at each start) whose transport is the {@link SimNetwork} and whose scheduler is the
 * event loop. Every message is encoded with {@link MessageCodec} on send (with the sender's hybrid
 * clock, which the receiver moves past) and decoded on delivery, so the codec is exercised too.
 * The network loses, duplicates and delays messages (delays reorder them), and partitions form and heal, symmetric or one way; a member may forge records stamped
 * far in the future. Clocks are skewed within the max clock offset, and step beyond it for a while
 * (time synchronisation steps them back). Nodes crash (unsynced writes lost; their scheduled tasks, in-flight
 * callbacks and messages addressed to them discarded by incarnation number) and restart on the
 * same disk. Which faults a seed uses, and the cluster's shape and timing knobs, are drawn from the
 * seed ({@link Knobs}, {@link FaultPoint}); one seed in three runs with sloppy quorum.
 *
 * <p><b>Phases.</b> (1) Workload: clients issue puts, deletes and gets at random R/W against random
 * coordinators while the nemesis injects faults. (2) Heal: faults stop, partitions heal, every node
 * restarts; the run continues until every request is answered, every failure detector sees every
 * peer and every hint backlog is empty, as long as it keeps making progress. (3) Final reads: one read at R=all of every key,
 * whose read repair stands in for anti-entropy (a later stage), then inspection of every replica.
 *
 * <p>Beside the clients, a {@link TokenWorkload} creates, revokes and looks up tokens in the
 * {@code auth} namespace (one partition, strict quorum), and holds lookups to the revocation
 * promise.
 *
 * <p><b>Checks.</b> After every step, {@link Invariants} on the nodes the step touched (the clock
 * invariants among them); a broken invariant ends the run. After the run, {@link HistoryChecker}: lost writes, read-your-writes,
 * convergence, integrity.
 *
 * <p><b>Determinism.</b> One {@link SplittableRandom} makes every choice, in event order; nothing
 * reads real time, starts threads or iterates a hash-ordered collection. The same seed gives the
 * same trace hash.
 */
public final class Simulation {
    static final long EPOCH_MILLIS = 1_700_000_000_000L;
    /** The node that the canaries break. */
    static final int CANARY_NODE = 1;
    /** Clients of the compare-and-swap workload ({@link CasWorkload}). */
    static final int CAS_CLIENTS = 4;
    private static final long MAX_STEPS = 10_000_000;
    private static final int FINAL_READ_ATTEMPTS = 5;
    private static final long HEAL_WINDOW_MILLIS = 5_000;
    private static final long MAX_HEAL_MILLIS = 30 * 60_000;
    /** How long a membership change may take to finish once faults stop. */
    private static final long MEMBERSHIP_SETTLE_MILLIS = 120_000;
    private static final long MEMBERSHIP_SETTLE_CAP_MILLIS = 900_000;
    /** Spare nodes of a membership-change run: started when they join or replace a node. */
    private static final int SPARES = 2;
    // Anti-entropy's knobs come from a stream of their own (see Knobs.draw).
    private static final long EXCHANGE_STREAM = 0xAE_57EAL;
    /** How often a node's applier runs its background work (scrub step, sweep) between writes. */
    private static final long MAINTENANCE_MILLIS = 200;
    /** How long a held-back purge waits before the purge rule is asked again. */
    private static final long PURGE_RECHECK_MILLIS = 1_000;
    /** After faults stop, anti-entropy alone must make the replicas agree within this many exchange cycles. */
    private static final int CONVERGENCE_CYCLES = 8;
    private static final String CONTENT_TYPE = "text/plain";
    private static final long SLOPPY_STREAM = 0x510BB1L;
    // Shard counts come from a stream of their own, so drawing them leaves every other draw as it was.
    private static final long SHARD_STREAM = 0x5A4D5L;
    private static final long REPORT_STREAM = 0x2E9027L;
    // The namespace class change's draws (when, which laggard, how late) come from a stream of their own.
    private static final long FLIP_STREAM = 0xF11B5L;
    /** Picks the cluster's moves.window (partitions still to stream into one node at once), apart from every other stream. */
    private static final long WINDOW_STREAM = 0x3191D0L;
    private static final int MAX_NAMESPACES = 16;
    /** The most core shards a simulated node runs. */
    static final int MAX_SIM_SHARDS = 3;
    /** The namespace id the server gives replicated idempotency outcomes. */
    private static final int OUTCOMES_NAMESPACE_ID = 2;
    /** Outcomes outlive the run: expiry is not what the idempotency checker tests. */
    private static final long RETENTION_MILLIS = 24 * 3_600_000L;
    private static final String IDEMPOTENT_KEY_PREFIX = "ik";
    private static final String BATCH_KEY_PREFIX = "bk";

    private enum Phase { WORKLOAD, HEAL, FINAL }

    /**
     * An idempotent put: every retry sends the same one. Some are conditional (on the version the
     * client last saw the key at, or create-only), so they run as Paxos rounds on the stamp their
     * claim keeps.
     */
    private record IdempotentRequest(String idempotencyKey, String key, String name, byte[] value, Condition condition) {}

    private static final class Client {
        final int id;
        final String ownKey;
        int sequence;
        int idempotentSequence;
        // The causal token a client library would carry: the newest version its own key was
        // acknowledged at. Every write of its own key passes it, so the next write is stamped above.
        Version ownToken;
        // The client's latest idempotent request, which its next idempotent turn may retry.
        IdempotentRequest lastIdempotent;
        // The version each of its idempotent keys was last written at, as answered to this client.
        final Map<String, Version> idempotentSeen = new java.util.HashMap<>();

        Client(int id, String ownKey) {
            this.id = id;
            this.ownKey = ownKey;
        }
    }

    private final SimulationConfig config;
    private final SplittableRandom random;
    private final SplittableRandom shardCounts;
    private final SplittableRandom reportIntervals;
    private final Knobs knobs;
    private final Buggify buggify;
    private final Trace trace;
    private final EventLoop loop = new EventLoop();
    private final Namespace namespace;
    private final Namespace outcomes;
    // A user namespace of the serial class: the CAS workload sends it plain requests (see CasWorkload).
    private final Namespace serial;
    // A user namespace that is quorum until the CAS workload is under way and then changes to
    // serial in a new epoch (an operator's entry in membership-change runs), which every live node applies at once
    // but one, the laggard, applies late (cut off from the metadata log), either within the
    // coordinators' behind limit or past it. See flipToSerial.
    private final Namespace flip;
    private final NamespaceSpec flipSerial;
    private final SplittableRandom flips;
    // The epoch in which the flip namespace became serial; 0 before.
    private long flipEpoch;
    // The node that has not applied the flip yet; null when every live node has.
    private SimNode laggard;
    private final TokenWorkload tokens;
    // When nodes left for good (their disks with them), for excusing writes only they may have held.
    private final List<Long> retiredAt = new ArrayList<>();
    // Null in canary runs whose breakage is elsewhere.
    private final CasWorkload cas;
    // Value → the versions at which replicas were asked to store it, for idempotent puts' keys.
    private final Map<String, Set<Version>> idempotentApplies = new TreeMap<>();
    // Value → every version at which a Paxos proposal of it was sent (conditional idempotent puts).
    private final Map<String, Set<Version>> idempotentProposals = new TreeMap<>();
    private final List<Member> members = new ArrayList<>();
    private final PartitionMap placement;
    // Membership-change runs: what the metadata log says (null in other runs, whose membership is static).
    private ClusterState meta;
    private final List<Member> spares = new ArrayList<>();
    // The newest membership epoch (same members throughout; see FaultPoint.EPOCH_CHANGE).
    private long epoch = Message.FIRST_EPOCH;
    // Index = node id - 1.
    private final SimNode[] nodes;
    private final SimNetwork network;
    private final History history = new History();
    private final List<String> keys = new ArrayList<>();
    private final List<String> sharedKeys = new ArrayList<>();
    private final Client[] clients;
    private final Invariants invariants;
    private final Counters counters = new Counters();
    private final List<Violation> violations = new ArrayList<>();
    private final List<SimNode> touched = new ArrayList<>();
    private Phase phase = Phase.WORKLOAD;
    private long nextOperationId;
    private int operationsIssued;

    private Simulation(SimulationConfig config) {
        this.config = config;
        this.random = new SplittableRandom(config.seed());
        this.shardCounts = new SplittableRandom(config.seed() ^ SHARD_STREAM);
        this.reportIntervals = new SplittableRandom(config.seed() ^ REPORT_STREAM);
        SplittableRandom exchange = new SplittableRandom(config.seed() ^ EXCHANGE_STREAM);
        Knobs drawn = Knobs.draw(random, exchange, config.scale(), drawsSloppyQuorum(config.seed()));
        this.knobs = switch (config.canary()) {
            case NO_EXCHANGES -> drawn.diverging(false, false);
            case PURGE_BY_TIME -> drawn.diverging(true, true);
            default -> drawn;
        };
        this.buggify = new Buggify(random);
        if (knobs.loseHints()) {
            boolean canary = config.canary() == SimulationConfig.Canary.NO_EXCHANGES || config.canary() == SimulationConfig.Canary.PURGE_BY_TIME;
            buggify.enable(FaultPoint.HINTS_LOST, canary ? 1.0 : FaultPoint.HINTS_LOST.probability);
            if (canary) {
                buggify.enable(FaultPoint.NODE_CRASH, 0.6);
            }
        }
        if (config.canary() == SimulationConfig.Canary.ASYNC_DURABILITY) {
            // Aim the crashes at the broken node, right after it acknowledged something.
            buggify.enable(FaultPoint.NODE_CRASH, FaultPoint.NODE_CRASH.probability);
            buggify.enable(FaultPoint.CRASH_AFTER_ACK, 0.5);
            buggify.enable(FaultPoint.CRASH_LOSES_SENDS, 1.0);
            buggify.enable(FaultPoint.QUICK_RESTART, FaultPoint.QUICK_RESTART.probability);
        }
        if (config.canary() == SimulationConfig.Canary.STREAM_NOTHING) {
            // Many membership changes, and nodes cut off from the metadata log while they run.
            buggify.enable(FaultPoint.EPOCH_CHANGE, 0.5);
            buggify.enable(FaultPoint.PARTITION, 0.5);
        }
        if (config.canary() == SimulationConfig.Canary.NO_CLOCK_BOUND) {
            buggify.enable(FaultPoint.HOSTILE_RECORD, 0.1);
        }
        this.trace = new Trace(config.verbose());
        this.namespace = new Namespace(Namespace.DEFAULT_ID, Namespace.DEFAULT_NAME, new Partitioner(knobs.partitions()), 0);
        this.outcomes = new Namespace(OUTCOMES_NAMESPACE_ID, "idempotency", new Partitioner(knobs.partitions()), 0);
        NamespaceSpec serialSpec = new NamespaceSpec(NamespaceSpec.FIRST_USER_ID, "serial", Consistency.SERIAL, null, null, 0, 0);
        this.serial = serialSpec.toNamespace(knobs.partitions());
        this.flipSerial = new NamespaceSpec(NamespaceSpec.FIRST_USER_ID + 1, "flip", Consistency.SERIAL, null, null, 0, 0);
        NamespaceSpec flipQuorum = new NamespaceSpec(flipSerial.id(), flipSerial.name(), Consistency.QUORUM, null, null, 0, 0);
        this.flip = flipQuorum.toNamespace(knobs.partitions());
        this.flips = new SplittableRandom(config.seed() ^ FLIP_STREAM);
        for (int id = 1; id <= knobs.nodes(); id++) {
            members.add(new Member(id, "z" + ((id - 1) % knobs.zones()), "sim-" + id + ":80", "sim-" + id + ":7000"));
        }
        this.placement = Placement.compute(1, members, knobs.partitions(), knobs.replicationFactor());
        if (config.membershipChanges()) {
            // The user namespaces are defined in the metadata log, as a cluster's are (ids 16 and 17, in this order).
            ClusterState state = ClusterState.bootstrap(members, knobs.partitions(), knobs.replicationFactor());
            for (NamespaceSpec spec : List.of(serialSpec, flipQuorum)) {
                state = ClusterMetadata.apply(state, new MetadataCommand.PutNamespace(spec, MAX_NAMESPACES)).state();
            }
            Invariant.check(state.namespaces().equals(List.of(serialSpec, flipQuorum)), "the log defines %s", state.namespaces());
            // A narrow window queues most of a change's partitions behind the few moving; a wide one moves them all at once.
            long[] windows = {1, 2, 4, 64};
            long window = windows[new SplittableRandom(config.seed() ^ WINDOW_STREAM).nextInt(windows.length)];
            state = ClusterMetadata.apply(state, new MetadataCommand.SetSettings(new java.util.TreeMap<>(
                    java.util.Map.of(ClusterMetadata.MOVE_WINDOW_SETTING, Long.toString(window))), true)).state();
            Invariant.check(ClusterMetadata.moveWindow(state) == window, "the log records moves.window %s", window);
            this.meta = state;
            for (int id = knobs.nodes() + 1; id <= knobs.nodes() + SPARES; id++) {
                spares.add(new Member(id, "z" + ((id - 1) % knobs.zones()), "sim-" + id + ":80", "sim-" + id + ":7000"));
            }
        }
        this.nodes = new SimNode[knobs.nodes() + spares.size()];
        List<Member> all = new ArrayList<>(members);
        all.addAll(spares);
        for (Member m : all) {
            long skew = knobs.clockSkewMillis() == 0 ? 0 : random.nextLong(-knobs.clockSkewMillis(), knobs.clockSkewMillis() + 1);
            Durability durability = config.canary() == SimulationConfig.Canary.ASYNC_DURABILITY && m.id() == CANARY_NODE
                    ? Durability.ASYNC : Durability.SYNC;
            nodes[m.id() - 1] = new SimNode(m.id(), m, new SimClock(loop, EPOCH_MILLIS, skew), durability);
            nodes[m.id() - 1].inactive = spares.contains(m);
            nodes[m.id() - 1].disk.forgetCommits = config.canary() == SimulationConfig.Canary.FORGETFUL_COMMITS;
        }
        this.clients = new Client[knobs.clients()];
        for (int c = 0; c < clients.length; c++) {
            clients[c] = new Client(c, "sw" + c);
            keys.add(clients[c].ownKey);
            history.declareSingleWriter(clients[c].ownKey, c);
        }
        for (int k = 0; k < knobs.sharedKeys(); k++) {
            sharedKeys.add("mw" + k);
            keys.add("mw" + k);
        }
        this.invariants = new Invariants(namespace, keys, loop::now, knobs.maxClockOffsetMillis());
        for (SimNode n : nodes) {
            invariants.register(n);
        }
        invariants.stampedAheadBy(r -> !r.tombstone() && r.value() != null && isIdempotentValue(new String(r.value(), StandardCharsets.UTF_8)));
        if (meta != null) {
            invariants.holdsBy((node, key) -> map().takesWrites(namespace.partitionOf(key), node));
        }
        this.network = new SimNetwork(loop, random, buggify, trace, counters, invariants, nodes, knobs.maxDelayMillis(),
                this::maybeCrashAfterAck);
        network.onProposal = this::noteIdempotentProposal;
        this.tokens = new TokenWorkload(config.seed(), loop, (r, request) -> {
            SimNode n = nodes[r.nextInt(nodes.length)];
            if (!n.up) {
                return false;
            }
            touched.add(n);
            request.accept(n);
            return true;
        }, counters, violations::add);
        boolean casRun = config.canary() == SimulationConfig.Canary.NONE || config.canary() == SimulationConfig.Canary.SKIP_PREPARE_READ
                || config.canary() == SimulationConfig.Canary.FORGETFUL_COMMITS || config.canary() == SimulationConfig.Canary.STALE_SERIAL_PROPOSER;
        boolean staleCanary = config.canary() == SimulationConfig.Canary.STALE_SERIAL_PROPOSER;
        this.cas = !casRun ? null : new CasWorkload(config.seed(), loop, namespace, serial, flip, CAS_CLIENTS,
                new CasWorkload.Coordinators() {
                    @Override
                    public boolean on(SplittableRandom r, boolean atLaggard, Consumer<SimNode> request) {
                        SimNode lagging = laggard;
                        SimNode n;
                        if (atLaggard && lagging != null && r.nextInt(4) < (staleCanary ? 3 : 2)) {
                            n = lagging;
                            count("cas.atLaggard");
                            trace.line(loop.now(), () -> "the next cas request goes through the laggard " + lagging);
                        } else {
                            boolean aimAtCanary = config.canary() != SimulationConfig.Canary.NONE && !staleCanary && r.nextBoolean();
                            n = aimAtCanary ? nodes[CANARY_NODE - 1] : nodes[r.nextInt(nodes.length)];
                        }
                        if (!n.up) {
                            return false;
                        }
                        touched.add(n);
                        request.accept(n);
                        return true;
                    }

                    @Override
                    public boolean lagging() {
                        return laggard != null;
                    }
                }, counters, trace);
    }

    /** A turn of the token workload while clients run; canary runs leave it out (their breakage is elsewhere). */
    private void tokenTurn() {
        if (phase != Phase.WORKLOAD) {
            return;
        }
        loop.schedule(tokens.turn(), -1, 0, this::tokenTurn);
    }

    /** One seed in three runs with sloppy quorum, decided apart from the run's random stream. */
    static boolean drawsSloppyQuorum(long seed) {
        return new SplittableRandom(seed ^ SLOPPY_STREAM).nextInt(3) == 0;
    }

    /** Runs one seed to the end and checks it. */
    public static SimulationResult run(SimulationConfig config) {
        return new Simulation(config).execute();
    }

    private SimulationResult execute() {
        trace.mix(config.seed(), config.scale().ordinal(), config.canary().ordinal(), 0);
        trace.line(0, () -> "seed " + Seeds.hex(config.seed()) + " " + knobs + " canary=" + config.canary());
        trace.line(0, () -> "faults enabled: " + buggify.enabled() + "; clock offsets " + describeOffsets());
        List<HistoryChecker.FinalState> finals = null;
        try {
            for (SimNode n : nodes) {
                if (!n.inactive) {
                    start(n);
                }
            }
            for (Client c : clients) {
                loop.schedule(random.nextLong(knobs.maxThinkMillis() + 1), -1, 0, () -> clientTurn(c));
            }
            loop.schedule(knobs.nemesisIntervalMillis(), -1, 0, this::nemesis);
            if (config.canary() == SimulationConfig.Canary.NONE) {
                loop.schedule(0, -1, 0, this::tokenTurn);
            }
            if (cas != null) {
                cas.start();
                loop.schedule(1_000 + flips.nextLong(knobs.workloadMillis() / 2), -1, 0, this::flipToSerial);
            }
            run(knobs.workloadMillis(), () -> false);
            if (cas != null) {
                cas.stop();
            }
            heal();
            finals = finalReads();
        } catch (SimulationFailure f) {
            violations.add(f.violation);
        }
        if (finals != null) {
            excuseWritesLostWithTheirDisks();
            HistoryChecker checker = new HistoryChecker(history, knobs.replicationFactor(), loop.now(), config.membershipChanges());
            violations.addAll(checker.lostWrites(finals));
            violations.addAll(checker.readYourWrites());
            violations.addAll(checker.convergence(finals));
            violations.addAll(checker.integrity());
            violations.addAll(new IdempotencyChecker(history, idempotentApplies, idempotentProposals).check(loop.now()));
            if (cas != null) {
                violations.addAll(cas.check(loop.now()));
            }
            long inversions = checker.versionInversions();
            counters.put("versionInversions", inversions);
            if (inversions > 0) {
                violations.add(new Violation(Violation.Kind.CAUSALITY, loop.now(), inversions + " acknowledged writes of a single-writer key "
                        + "were stamped below an earlier acknowledged write of the same client, although each carried the client's causal token"));
            }
        }
        collectCounters();
        trace.line(loop.now(), () -> "end: " + counters + (violations.isEmpty() ? "" : " VIOLATIONS " + violations));
        String shape = knobs + " canary=" + config.canary() + " faults=" + buggify.enabled();
        return new SimulationResult(config, config.seed(), shape, trace.hash(), List.copyOf(violations),
                counters.snapshot(), history, trace.lines());
    }

    /**
     * A write acknowledged by fewer than a majority of its replicas may have been on just the disks
     * of nodes that later left for good (a remove or a replace of a dead node), before anything
     * copied it elsewhere: then it is gone, as N copies promised only to W of them. Such writes
     * count as unknown (they may or may not survive); writes at W = majority must survive, since
     * one change at a time leaves a majority of every partition's replicas.
     */
    private void excuseWritesLostWithTheirDisks() {
        int majority = knobs.replicationFactor() / 2 + 1;
        for (Operation op : history.operations()) {
            if ((op.kind == Operation.Kind.PUT || op.kind == Operation.Kind.DELETE) && op.acknowledged() && op.quorumSize < majority
                    && retiredAt.stream().anyMatch(t -> t >= op.completedAt)) {
                op.outcome = Operation.Outcome.UNKNOWN;
                op.error = "acknowledged at w=" + op.quorumSize + " before a node left for good: it may have been on its disk only";
                count("ops.excusedWithLostDisk");
            }
        }
    }

    // ---------------------------------------------------------------- event loop

    /** Runs events due by {@code until}; returns early (true) once {@code done} holds. */
    private boolean run(long until, BooleanSupplier done) {
        while (true) {
            if (done.getAsBoolean()) {
                return true;
            }
            if (loop.steps() > MAX_STEPS) {
                throw new SimulationFailure(new Violation(Violation.Kind.LIVENESS, loop.now(),
                        "the run exceeded " + MAX_STEPS + " events (a message or timer storm)"));
            }
            EventLoop.Event e = loop.next(until);
            if (e == null) {
                loop.advanceTo(until);
                return done.getAsBoolean();
            }
            dispatch(e);
        }
    }

    private void dispatch(EventLoop.Event e) {
        SimNode owner = e.node >= 0 ? nodes[e.node] : null;
        if (owner != null && (!owner.up || owner.incarnation != e.incarnation)) {
            count("events.discarded");
            return;
        }
        trace.mix(e.time, e.sequence, e.node, e.incarnation);
        touched.clear();
        if (owner != null) {
            touched.add(owner);
        }
        try {
            e.action.run();
        } catch (SimulationFailure f) {
            throw f;
        } catch (RuntimeException | AssertionError ex) {
            throw new SimulationFailure(new Violation(Violation.Kind.EXCEPTION, loop.now(),
                    "core code threw " + ex + " at " + Arrays.toString(Arrays.copyOf(ex.getStackTrace(), Math.min(8, ex.getStackTrace().length)))));
        }
        for (SimNode n : touched) {
            invariants.afterStep(n);
        }
    }

    // ---------------------------------------------------------------- nodes

    private void start(SimNode n) {
        int incarnation = n.incarnation;
        boolean unbounded = config.canary() == SimulationConfig.Canary.NO_CLOCK_BOUND && n.id == CANARY_NODE;
        n.hlc = new HybridClock(n.clock, n.id, unbounded ? HybridClock.NO_BOUND : knobs.maxClockOffsetMillis());
        PurgeLedger ledger = new PurgeLedger();
        PurgeGate gate = config.canary() == SimulationConfig.Canary.PURGE_BY_TIME ? PurgeGate.ALONE : ledger;
        n.replica = new LocalReplica(n.disk, n.hlc, n.durability, knobs.purgeGraceMillis(), Limits.DEFAULTS,
                new ReplicaAntiEntropy(true, gate, PURGE_RECHECK_MILLIS));
        Transport transport = (to, m) -> {
            if (config.canary() == SimulationConfig.Canary.SKIP_PREPARE_READ && to == CANARY_NODE && m instanceof Message.PaxosResponse r
                    && r.phase() == Message.PaxosRequest.Phase.PREPARE && r.ok()) {
                // The canary's proposer hears the promise and nothing it carries.
                m = new Message.PaxosResponse(r.phase(), r.requestId(), true, r.promised(), null, null, null, List.of(), null, null, null);
            }
            if (config.canary() == SimulationConfig.Canary.FORGETFUL_COMMITS && m instanceof Message.PaxosResponse r
                    && r.phase() == Message.PaxosRequest.Phase.PROPOSE && r.ok() && random.nextInt(10) < 3) {
                // To expose it, three in ten acceptances are lost: proposals are chosen without their
                // proposers knowing, and overtaken, far more often than message loss alone makes them.
                return;
            }
            if (config.canary() == SimulationConfig.Canary.STALE_SERIAL_PROPOSER && n == laggard && m instanceof Message.PaxosRequest r
                    && r.namespaceId() == flip.id()) {
                // The canary's replicas take the laggard's Paxos steps as if it had applied the change.
                m = new Message.PaxosRequest(r.phase(), Math.max(r.epoch(), flipEpoch), r.requestId(), r.namespaceId(), r.key(), r.ballot(),
                        r.record(), r.next(), r.expected());
            }
            if (config.canary() == SimulationConfig.Canary.STREAM_NOTHING && m instanceof Message.StreamRequest r) {
                // The canary's owners stream nothing: the answer comes back at once, empty and done (made
                // up here, it never crossed the network: no clock heard).
                Message empty = r.part() == Message.StreamRequest.Part.RECORDS ? new Message.StreamResponse(r.requestId(), List.of(), true, null)
                        : new Message.StateStreamResponse(r.requestId(), List.of(), true, null);
                loop.schedule(1, n.id - 1, incarnation, () -> n.cluster.onMessage(to, 0, empty));
                return;
            }
            network.send(n, incarnation, to, m);
        };
        Scheduler scheduler = (delay, task) -> {
            n.requireLive(incarnation, "scheduled a task");
            EventLoop.Event e = loop.schedule(delay, n.id - 1, incarnation, task);
            return () -> e.cancelled = true;
        };
        // A node starts at the cluster's newest epoch, as one that persisted it or caught up would.
        Membership membership = meta != null ? meta.membership() : staticMembership(epoch);
        // Every start draws the node's shard count anew: nodes of one cluster run different counts,
        // and a restart may change a node's count, adopting the hints and ceilings of other counts.
        int shards = 1 + shardCounts.nextInt(MAX_SIM_SHARDS);
        if (shards > 1) {
            counters.add("shards.multi");
        }
        if (n.cluster != null && n.cluster.shards().size() != shards) {
            counters.add("shards.changed");
        }
        // As production's ReportBatcher: move reports wait up to a report interval (drawn per
        // start, 0-1 000 ms) and leave gathered (Reports.coalesce); a crash loses what waits.
        long reportInterval = reportIntervals.nextInt(4) == 0 ? 0 : reportIntervals.nextLong(1_000);
        List<MetadataCommand> waiting = new ArrayList<>();
        Consumer<MetadataCommand> toLog = command -> {
            if (!network.reachesMajority(n.id, activeIds())) {
                count("metadata.unreachable");
                return; // Cut off from the log's majority: the report is lost, and sent again later.
            }
            // To the log's leader and back: a few milliseconds.
            loop.schedule(1 + random.nextLong(30), -1, 0, () -> applyToLog(command, n + " reports"));
        };
        Proposer proposer = meta == null ? Proposer.NONE : command -> {
            n.requireLive(incarnation, "proposed to the metadata log");
            boolean report = command instanceof MetadataCommand.StreamsDone || command instanceof MetadataCommand.Finish;
            if (!report || reportInterval == 0) {
                toLog.accept(command);
                return;
            }
            waiting.add(command);
            if (waiting.size() == 1) {
                loop.schedule(reportInterval, -1, 0, () -> {
                    if (!n.up || n.incarnation != incarnation) {
                        return;
                    }
                    List<MetadataCommand> gathered = Reports.coalesce(waiting);
                    if (gathered.size() < waiting.size()) {
                        count("metadata.reports.gathered");
                    }
                    waiting.clear();
                    gathered.forEach(toLog);
                });
            }
        };
        n.cluster = new ShardedNode(n.id, shards, membership, List.of(namespace, tokens.namespace(), serial, flip), outcomes, knobs.settings(), n.hlc, transport,
                scheduler, localStore(n, scheduler), n.disk, ledger, proposer);
        n.up = true;
        n.cluster.start();
        scheduler.schedule(MAINTENANCE_MILLIS, () -> maintain(n, scheduler));
        trace.mix(loop.now(), n.id, n.incarnation, 0x57A27);
        trace.line(loop.now(), () -> n + " starts; HLC at " + n.hlc.lastTimestamp() + ", " + n.cluster.hintsPending() + " hints");
        touched.add(n);
    }

    /**
     * The node's disk as the core sees it, built on {@code LocalStore.direct}. Writes: under
     * SLOW_DISK a write is applied (and durable) at once but acknowledged a little later, as group
     * commit does, and a crash in between drops the acknowledgement; WRITE_REFUSED fails one without
     * touching the disk, as a stalled or failing write path would. Reads run on a later event (0-20
     * ms later under SLOW_DISK), in any order, as a pool of reader threads does; READ_ERROR fails
     * one. Storage jobs run one after another on the node's storage lane, each on a later event
     * (0-20 ms under SLOW_DISK, 0.2-1.5 s under STALLED_DISK, the jobs behind it waiting); a crash
     * loses the jobs not yet run, as it loses a storage thread's queue.
     */
    private LocalStore localStore(SimNode n, Scheduler scheduler) {
        LocalStore direct = LocalStore.direct(n.replica, n.disk);
        n.storageLaneFreeAt = loop.now();
        return new LocalStore() {
            @Override
            public void apply(Namespace ns, List<Op> ops, Applied done) {
                noteIdempotentApplies(ns, ops);
                if (buggify.fires(FaultPoint.WRITE_REFUSED)) {
                    done.accept(null, new StorageException("injected: the write path refused the batch"));
                    return;
                }
                direct.apply(ns, ops, (results, failure) -> {
                    if (buggify.fires(FaultPoint.SLOW_DISK)) {
                        scheduler.schedule(1 + random.nextLong(20), () -> done.accept(results, failure));
                    } else {
                        done.accept(results, failure);
                    }
                });
            }

            @Override
            public void read(Namespace ns, byte[] key, Read done) {
                long delay = buggify.fires(FaultPoint.SLOW_DISK) ? 1 + random.nextLong(20) : 0;
                scheduler.schedule(delay, () -> {
                    if (buggify.fires(FaultPoint.READ_ERROR)) {
                        done.accept(null, new StorageException("injected: the read failed"));
                    } else {
                        direct.read(ns, key, done);
                    }
                });
            }

            @Override
            public void summary(Namespace ns, int partition, int[] branches, Completed<TreeKeeper.Snapshot> done) {
                // An in-memory read, as the production reader threads do it: on a later event.
                scheduler.schedule(0, () -> direct.summary(ns, partition, branches, done));
            }

            @Override
            public void segmentKeys(Namespace ns, int partition, int[] segments, long maxBytes, Completed<SegmentKeys> done) {
                long delay = buggify.fires(FaultPoint.SLOW_DISK) ? 1 + random.nextLong(20) : 0;
                scheduler.schedule(delay, () -> {
                    if (buggify.fires(FaultPoint.READ_ERROR)) {
                        done.accept(null, new StorageException("injected: the scan failed"));
                    } else {
                        direct.segmentKeys(ns, partition, segments, maxBytes, done);
                    }
                });
            }

            @Override
            public void dropPartition(Namespace ns, int partition, int maxRecords, java.util.function.BooleanSupplier proceed, Completed<Boolean> done) {
                // On the storage lane, like the production store's.
                n.storageLaneFreeAt = Math.max(n.storageLaneFreeAt, loop.now());
                scheduler.schedule(n.storageLaneFreeAt - loop.now(), () -> direct.dropPartition(ns, partition, maxRecords, proceed, done));
            }

            @Override
            public <T> void run(Job<T> job, Completed<T> done) {
                long service = buggify.fires(FaultPoint.STALLED_DISK) ? 200 + random.nextLong(1_300)
                        : buggify.fires(FaultPoint.SLOW_DISK) ? 1 + random.nextLong(20) : 0;
                n.storageLaneFreeAt = Math.max(n.storageLaneFreeAt, loop.now()) + service;
                count("storage.jobs");
                scheduler.schedule(n.storageLaneFreeAt - loop.now(), () -> direct.run(job, done));
            }
        };
    }

    /**
     * The applier's background work between writes, as the production write path runs it: a scrub
     * step (which also builds the trees after a start) and a sweep.
     */
    private void maintain(SimNode n, Scheduler scheduler) {
        n.replica.scrub(256, 1 << 20);
        if (phase != Phase.FINAL) {
            // The final checks compare what operators' inspections report with the disks: no purges under them.
            n.replica.sweep(64, 64);
        }
        scheduler.schedule(MAINTENANCE_MILLIS, () -> maintain(n, scheduler));
    }

    /** Which values of idempotent puts were proposed through Paxos, and at what versions. */
    private void noteIdempotentProposal(Message.PaxosRequest r) {
        if (r.namespaceId() == namespace.id() && !r.record().tombstone() && new String(r.key(), StandardCharsets.UTF_8).startsWith(IDEMPOTENT_KEY_PREFIX)) {
            idempotentProposals.computeIfAbsent(new String(r.record().value(), StandardCharsets.UTF_8), v -> new TreeSet<>()).add(r.record().version());
        }
    }

    /** Which values of idempotent puts replicas were asked to store, and at what versions. */
    private void noteIdempotentApplies(Namespace ns, List<Op> ops) {
        if (ns.id() != namespace.id()) {
            return;
        }
        for (Op op : ops) {
            if (op instanceof Op.Apply a && !a.record().tombstone()
                    && new String(a.key(), StandardCharsets.UTF_8).startsWith(IDEMPOTENT_KEY_PREFIX)) {
                idempotentApplies.computeIfAbsent(new String(a.record().value(), StandardCharsets.UTF_8), v -> new TreeSet<>())
                        .add(a.record().version());
            }
        }
    }

    private void crash(SimNode n, String why) {
        if (!n.up) {
            return;
        }
        n.foldCounters();
        n.cluster.stop();
        n.up = false;
        if (laggard == n) {
            laggard = null; // It restarts at the newest epoch, as a node that catches up on start does.
        }
        n.incarnation++;
        n.crashes++;
        n.disk.crash();
        count("crashes");
        if (knobs.loseHints() && phase == Phase.WORKLOAD && buggify.fires(FaultPoint.HINTS_LOST)) {
            // The hints went with the crash (a lost file, a replaced disk): the writes they held
            // are missing on their targets with nobody left to remember them.
            WriteBatch wipe = new WriteBatch();
            for (StorageEngine.Entry e : n.disk.scan(new byte[] {'h'}, new byte[] {'h' + 1}, Integer.MAX_VALUE)) {
                wipe.delete(e.key());
            }
            if (!wipe.isEmpty()) {
                n.disk.write(wipe, Durability.SYNC);
                counters.add("hints.lostInCrashes");
                trace.line(loop.now(), () -> n + " loses its hints");
            }
        }
        trace.mix(loop.now(), n.id, n.incarnation, 0xC2A5);
        trace.line(loop.now(), () -> n + " crashes (" + why + ")");
        List<Operation> orphaned = new ArrayList<>(n.pending);
        n.pending.clear();
        for (Operation op : orphaned) {
            op.outcome = Operation.Outcome.UNKNOWN;
            op.error = "the coordinator crashed";
            finish(op);
        }
        if (phase == Phase.WORKLOAD) {
            long downtime = buggify.fires(FaultPoint.QUICK_RESTART) ? 50 + random.nextLong(451) : 1_000 + random.nextLong(9_001);
            if (knobs.loseHints() && (config.canary() == SimulationConfig.Canary.PURGE_BY_TIME || random.nextInt(5) == 0)) {
                // Down past the hint window and the purge grace: only anti-entropy brings it back,
                // and the purge rule must keep the others' tombstones until it has.
                downtime = Knobs.SHORT_GRACE_MILLIS + 5_000 + random.nextLong(15_001);
                count("longDowntimes");
            }
            loop.schedule(downtime, -1, 0, () -> {
                if (!n.up && !n.inactive && phase == Phase.WORKLOAD) {
                    restart(n);
                }
            });
        }
    }

    private void restart(SimNode n) {
        start(n);
        invariants.afterRestart(n);
    }

    // ---------------------------------------------------------------- faults

    /** The CRASH_AFTER_ACK fault point: the node that just acknowledged a write loses power right after. */
    private void maybeCrashAfterAck(SimNode n) {
        boolean aimed = config.canary() != SimulationConfig.Canary.ASYNC_DURABILITY || n.id == CANARY_NODE;
        if (phase != Phase.WORKLOAD || !aimed || !buggify.fires(FaultPoint.CRASH_AFTER_ACK)) {
            return;
        }
        int incarnation = n.incarnation;
        loop.schedule(random.nextLong(4), -1, 0, () -> {
            if (n.up && n.incarnation == incarnation && phase == Phase.WORKLOAD && down() < knobs.maxDown()) {
                touched.add(n);
                crash(n, "crash after acknowledging a write");
            }
        });
    }

    private int down() {
        int down = 0;
        for (SimNode n : nodes) {
            down += n.up || n.inactive ? 0 : 1;
        }
        return down;
    }

    /** Every so often: maybe a partition, a crash, a clock jump. */
    private void nemesis() {
        if (phase != Phase.WORKLOAD) {
            return;
        }
        if (laggard != null && config.canary() == SimulationConfig.Canary.STALE_SERIAL_PROPOSER) {
            // The canary's lag runs without new faults: what breaks is the rule it removed, not the faults.
            loop.schedule(knobs.nemesisIntervalMillis(), -1, 0, this::nemesis);
            return;
        }
        if (!network.partitioned() && buggify.fires(FaultPoint.PARTITION)) {
            network.partition();
        }
        if (buggify.fires(FaultPoint.NODE_CRASH)) {
            int down = down();
            SimNode victim = config.canary() == SimulationConfig.Canary.ASYNC_DURABILITY && random.nextBoolean()
                    ? nodes[CANARY_NODE - 1] : nodes[random.nextInt(nodes.length)];
            if (victim.up && down < knobs.maxDown()) {
                touched.add(victim);
                crash(victim, "nemesis");
            }
        }
        if (buggify.fires(FaultPoint.CLOCK_JUMP)) {
            SimNode n = nodes[random.nextInt(nodes.length)];
            long size = random.nextBoolean() ? 1 + random.nextLong(50) : 100 + random.nextLong(4_901);
            stepClock(n, random.nextBoolean() ? size : -size, size >= 100 ? 1_000 + random.nextLong(9_001) : -1);
            count("clockJumps");
        }
        if (buggify.fires(FaultPoint.CLOCK_OUTLIER)) {
            SimNode n = nodes[random.nextInt(nodes.length)];
            long size = knobs.maxClockOffsetMillis() * (1 + random.nextLong(3)) + 1 + random.nextLong(knobs.maxClockOffsetMillis());
            stepClock(n, random.nextBoolean() ? size : -size, 2_000 + random.nextLong(8_001));
            count("clockOutliers");
        }
        if (buggify.fires(FaultPoint.EPOCH_CHANGE)) {
            if (meta != null) {
                changeMembership();
            } else {
                changeEpoch();
            }
        }
        long interval = knobs.nemesisIntervalMillis();
        loop.schedule(interval / 2 + random.nextLong(interval + 1), -1, 0, this::nemesis);
    }

    /**
     * The cluster moves to the next epoch; each live node hears of it within a second, in no set
     * order, but the laggard (cut off from the metadata log until its lag ends).
     */
    private void changeEpoch() {
        epoch++;
        long next = epoch;
        Membership membership = staticMembership(next);
        count("epochChanges");
        trace.line(loop.now(), () -> "the cluster moves to epoch " + next);
        for (SimNode n : nodes) {
            if (n.up && n != laggard) {
                loop.schedule(random.nextLong(1_000), n.id - 1, n.incarnation, () -> {
                    if (n.cluster.epoch() < next) {
                        trace.line(loop.now(), () -> n + " moves to epoch " + next);
                        n.cluster.onMembership(membership);
                    }
                });
            }
        }
    }

    /** A run without membership changes: the same members at every epoch, and the flip namespace serial from its change on. */
    private Membership staticMembership(long at) {
        return new Membership(at, members, Placement.compute(at, members, knobs.partitions(), knobs.replicationFactor()), 0, false,
                flipEpoch != 0 && at >= flipEpoch ? List.of(flipSerial) : List.of());
    }

    /**
     * The flip namespace changes from quorum to serial in a new epoch. Every live node applies it at
     * once, but one replica of the workload's flip keys (all in one partition), the laggard, which applies nothing
     * for a while (cut off from the metadata log): 300 ms to 4.3 s in three runs of five (within
     * the coordinators' behind limit, where it still coordinates), 5.5 to 12.5 s in the others
     * (past it). The CAS workload starts on the namespace's keys from here, half of its requests
     * through the laggard while it lags: its plain writes may leave records on its own replica
     * alone, and its serial reads and conditional writes run as in a quorum namespace, which the
     * other replicas must refuse ({@code ClusterNode.staleForSerial}) for the keys' histories to
     * stay linearizable.
     */
    private void flipToSerial() {
        if (phase != Phase.WORKLOAD) {
            return;
        }
        int partition = cas.flipPartition();
        List<SimNode> candidates = Arrays.stream(nodes).filter(n -> n.up && !n.inactive && map().takesWrites(partition, n.id)).toList();
        if (config.canary() == SimulationConfig.Canary.STALE_SERIAL_PROPOSER
                && (network.partitioned() || candidates.size() < knobs.replicationFactor())) {
            loop.schedule(500, -1, 0, this::flipToSerial); // The canary's change waits for every replica of the keys to be up and reachable.
            return;
        }
        SimNode lagging = candidates.isEmpty() ? null : candidates.get(flips.nextInt(candidates.size()));
        long lagMillis = config.canary() == SimulationConfig.Canary.STALE_SERIAL_PROPOSER ? 3_500 + flips.nextLong(1_301)
                : flips.nextInt(5) < 3 ? 300 + flips.nextLong(4_001) : 5_500 + flips.nextLong(7_001);
        laggard = lagging;
        Membership membership;
        if (meta == null) {
            epoch++;
            flipEpoch = epoch;
            membership = staticMembership(epoch);
        } else {
            // An operator's change through the log, which every member but the laggard applies at
            // once (not within applyToLog's 300 ms: two replicas a moment behind may both take a
            // plain write, as documented, which is not what this scenario is about).
            ClusterMetadata.Result r = applyToLog(new MetadataCommand.PutNamespace(flipSerial, MAX_NAMESPACES), "an operator");
            Invariant.check(!r.refused(), "the change of flip to serial was refused: %s", r.refusal());
            flipEpoch = meta.epoch();
            membership = meta.membership();
        }
        for (SimNode n : nodes) {
            if (n.up && !n.inactive && n != lagging && n.cluster.epoch() < membership.epoch()) {
                n.cluster.onMembership(membership);
                touched.add(n);
            }
        }
        count("flip.changes");
        trace.line(loop.now(), () -> "namespace flip becomes serial at epoch " + flipEpoch
                + (lagging == null ? "" : "; " + lagging + " applies it " + lagMillis + " ms late"));
        cas.onFlipped();
        if (lagging == null) {
            return;
        }
        counters.put("flip.lagMillis", lagMillis);
        loop.schedule(lagMillis, lagging.id - 1, lagging.incarnation, () -> {
            laggard = null;
            trace.line(loop.now(), () -> lagging + " may catch up again");
            touched.add(lagging);
            if (meta != null) {
                catchUp(lagging);
            } else if (lagging.cluster.epoch() < epoch) {
                lagging.cluster.onMembership(staticMembership(epoch));
            }
        });
    }

    /**
     * Steps a node's physical clock by {@code deltaMillis}; with {@code correctAfterMillis >= 0},
     * time synchronisation steps it back to its skew that much later.
     */
    private void stepClock(SimNode n, long deltaMillis, long correctAfterMillis) {
        invariants.beforeClockStep(n);
        n.clock.jump(deltaMillis);
        trace.mix(loop.now(), n.id, deltaMillis, 0xC10C);
        trace.line(loop.now(), () -> "n" + n.id + " clock jumps " + deltaMillis + "ms (offset now " + n.clock.offsetMillis() + "ms)");
        if (correctAfterMillis >= 0) {
            loop.schedule(correctAfterMillis, -1, 0, () -> correctClock(n));
        }
    }

    private void correctClock(SimNode n) {
        invariants.beforeClockStep(n);
        n.clock.correct();
        trace.mix(loop.now(), n.id, n.clock.offsetMillis(), 0xC0EC);
        trace.line(loop.now(), () -> "n" + n.id + " clock corrected (offset now " + n.clock.offsetMillis() + "ms)");
    }

    // ---------------------------------------------------------------- clients

    private void clientTurn(Client c) {
        if (phase != Phase.WORKLOAD || operationsIssued >= knobs.maxOperations()) {
            return;
        }
        int idempotentPercent = config.canary() == SimulationConfig.Canary.FORGETFUL_IDEMPOTENCY ? 50 : 12;
        int turn = random.nextInt(100);
        if (turn < idempotentPercent) {
            idempotentTurn(c);
            return;
        }
        if (turn < idempotentPercent + (config.canary() == SimulationConfig.Canary.UNORDERED_BATCH ? 40 : 5)) {
            batchTurn(c);
            return;
        }
        Operation.Kind kind;
        String key;
        if (random.nextInt(100) < 45) {
            kind = random.nextInt(100) < 85 ? Operation.Kind.PUT : Operation.Kind.DELETE;
            key = sharedKeys.isEmpty() || random.nextInt(10) < 7 ? c.ownKey : sharedKeys.get(random.nextInt(sharedKeys.size()));
        } else {
            kind = Operation.Kind.GET;
            key = keys.get(random.nextInt(keys.size()));
        }
        int roll = random.nextInt(100);
        Quorum quorum = roll < 30 ? Quorum.ONE : roll < 75 ? Quorum.MAJORITY : Quorum.ALL;
        // A canary run sends half the traffic through the broken node, so that its fault shows.
        boolean aimAtCanary = config.canary() != SimulationConfig.Canary.NONE && random.nextBoolean();
        SimNode coordinator = aimAtCanary ? nodes[CANARY_NODE - 1] : nodes[random.nextInt(nodes.length)];
        if (!coordinator.up && random.nextInt(10) < 8) {
            // Connection refused: most clients move on to another node at once.
            coordinator = nodes[random.nextInt(nodes.length)];
        }
        byte[] value = kind == Operation.Kind.PUT ? bytes(key + "/c" + c.id + "/" + c.sequence++) : null;
        issue(c.id, kind, key, value, quorum, coordinator, key.equals(c.ownKey) ? c.ownToken : null);
    }

    /**
     * An idempotent put: half the time a retry of the client's latest one (through any node, as a
     * client whose connection broke would), sometimes the same key with another request (a client
     * bug the server must refuse), otherwise a new request.
     */
    /** Whether a value is one an idempotent request writes (see {@link #idempotentTurn}). */
    private static boolean isIdempotentValue(String value) {
        return value.startsWith(NEW_REQUEST_VALUE) || value.startsWith(REUSED_KEY_VALUE);
    }

    // How an idempotent request's value starts: a new request, or another request on a used key.
    private static final String NEW_REQUEST_VALUE = "idem/";
    private static final String REUSED_KEY_VALUE = "reuse/";

    private void idempotentTurn(Client c) {
        int roll = random.nextInt(100);
        IdempotentRequest request;
        if (c.lastIdempotent != null && roll < 50) {
            request = c.lastIdempotent;
        } else if (c.lastIdempotent != null && roll < 60) {
            String name = REUSED_KEY_VALUE + "c" + c.id + "/" + c.idempotentSequence++;
            request = new IdempotentRequest(c.lastIdempotent.idempotencyKey(), c.lastIdempotent.key(), name, bytes(name), Condition.NONE);
        } else {
            String name = NEW_REQUEST_VALUE + "c" + c.id + "/" + c.idempotentSequence++;
            String key = IDEMPOTENT_KEY_PREFIX + c.id + "-" + random.nextInt(3);
            Version seen = c.idempotentSeen.get(key);
            Condition condition = random.nextInt(100) < 60 ? Condition.NONE : seen != null ? Condition.ifMatch(seen) : Condition.ifAbsent();
            request = new IdempotentRequest("c" + c.id + "-" + c.idempotentSequence, key, name, bytes(name), condition);
            c.lastIdempotent = request;
        }
        Quorum w = random.nextBoolean() ? Quorum.MAJORITY : random.nextBoolean() ? Quorum.ALL : Quorum.ONE;
        boolean aimAtCanary = config.canary() != SimulationConfig.Canary.NONE && random.nextBoolean();
        SimNode coordinator = aimAtCanary ? nodes[CANARY_NODE - 1] : nodes[random.nextInt(nodes.length)];
        if (!coordinator.up && random.nextInt(10) < 8) {
            coordinator = nodes[random.nextInt(nodes.length)];
        }
        issueIdempotent(c.id, request, w, coordinator);
        if (request.condition().ifNoneMatchAny() && random.nextInt(100) < 30) {
            // Another client deletes the key meanwhile, through another node: its tombstone may be
            // stamped above the version the request's claim keeps while the create-only condition
            // still holds, so the request must restamp (paxos.staleStamps) and its retry succeed.
            SimNode other = nodes[random.nextInt(nodes.length)];
            if (other.up) {
                count("idem.interferingDeletes");
                other.cluster.execute(new WriteRequest(namespace, List.of(new Op.Delete(bytes(request.key()), Condition.NONE)), null),
                        Quorum.ONE, Quorum.ONE, ignored -> { });
            }
        }
        boolean doubled = request == c.lastIdempotent && random.nextInt(100) < 15;
        if (!doubled) {
            return;
        }
        // An impatient client: the same first attempt through a second coordinator at once.
        // Exactly one of the two may run (the other is replayed or refused).
        SimNode twin = nodes[random.nextInt(nodes.length)];
        if (twin != coordinator) {
            count("idem.twins");
            issueIdempotent(-1, request, w, twin);
        }
    }

    private void issueIdempotent(int client, IdempotentRequest request, Quorum w, SimNode coordinator) {
        Operation op = history.add(new Operation(nextOperationId++, client, Operation.Kind.IDEMPOTENT_PUT, request.key(), request.value(), w,
                w.resolve(knobs.replicationFactor()), coordinator.id, loop.now(), loop.steps()));
        op.idempotencyKey = request.idempotencyKey();
        op.request = request.name();
        op.conditional = !request.condition().isNone();
        Consumer<WriteOutcome> done = invoke(op, coordinator, outcome -> {
            completeIdempotent(op, outcome);
            if (client >= 0 && op.outcome == Operation.Outcome.WRITTEN) {
                clients[client].idempotentSeen.put(request.key(), op.version);
            }
        });
        if (done == null) {
            return;
        }
        List<Op> ops = List.of(new Op.Put(bytes(request.key()), request.value(), CONTENT_TYPE, Op.NO_TTL, request.condition()));
        IdempotencyTag tag = new IdempotencyTag(request.idempotencyKey(), fingerprint(request.name()), RETENTION_MILLIS);
        if (config.canary() == SimulationConfig.Canary.FORGETFUL_IDEMPOTENCY && coordinator.id == CANARY_NODE) {
            // Runs every attempt afresh, and claims each written outcome was kept.
            coordinator.cluster.execute(new WriteRequest(namespace, ops, null), Quorum.MAJORITY, w, outcome -> done.accept(
                    outcome instanceof WriteOutcome.Executed e && e.answers().stream().allMatch(a -> a.result() instanceof OpResult.Written)
                            ? new WriteOutcome.Executed(e.answers(), false, true) : outcome));
        } else {
            coordinator.cluster.execute(new WriteRequest(namespace, ops, tag), Quorum.MAJORITY, w, done);
        }
    }

    /**
     * Records a client's write request as invoked through {@code coordinator}. When the coordinator
     * is down the request fails at once and this returns null; otherwise it returns the callback
     * the coordinator must answer through exactly once, while the incarnation it was sent to lives.
     */
    private Consumer<WriteOutcome> invoke(Operation op, SimNode coordinator, Consumer<WriteOutcome> complete) {
        operationsIssued++;
        trace.mix(loop.now(), op.id, op.kind.ordinal(), coordinator.id);
        trace.line(loop.now(), () -> "invoke " + op);
        if (!coordinator.up) {
            op.outcome = Operation.Outcome.FAILED;
            op.error = "coordinator unreachable";
            finish(op);
            return null;
        }
        touched.add(coordinator);
        int incarnation = coordinator.incarnation;
        coordinator.pending.add(op);
        return outcome -> {
            coordinator.requireLive(incarnation, "answered a client");
            if (op.outcome != Operation.Outcome.PENDING) {
                throw new SimulationFailure(new Violation(Violation.Kind.INVARIANT, loop.now(), op + " was answered twice: " + outcome));
            }
            complete.accept(outcome);
        };
    }

    private void completeIdempotent(Operation op, WriteOutcome outcome) {
        switch (outcome) {
            case WriteOutcome.Executed e -> {
                if (e.answers().size() != 1) {
                    throw new SimulationFailure(new Violation(Violation.Kind.INVARIANT, loop.now(), op + " got " + e.answers().size() + " answers"));
                }
                Answer a = e.answers().get(0);
                switch (a.result()) {
                    case OpResult.Written w -> {
                        op.outcome = Operation.Outcome.WRITTEN;
                        op.version = w.version();
                        op.acks = a.acks();
                        op.fallbackAcks = a.fallbackAcks();
                        op.replayed = e.replayed();
                        op.recorded = e.recorded();
                        count(e.replayed() ? "idem.replayed" : e.recorded() ? "idem.recorded" : "idem.unrecorded");
                        // A conditional put is a Paxos round: w is ignored (a majority chooses it).
                        if (!e.replayed() && !op.conditional && op.acks < op.quorumSize) {
                            throw new SimulationFailure(new Violation(Violation.Kind.INVARIANT, loop.now(),
                                    op + " was acknowledged with fewer acks than W=" + op.quorumSize));
                        }
                    }
                    case OpResult.Failed f -> {
                        if (e.replayed() || e.recorded()) {
                            throw new SimulationFailure(new Violation(Violation.Kind.IDEMPOTENCY, loop.now(),
                                    op + " kept a failure as its outcome: " + f.code()));
                        }
                        boolean notExecuted = f.code() == ErrorCode.QUORUM_UNAVAILABLE || f.code() == ErrorCode.CLOCK_UNSAFE;
                        op.outcome = notExecuted ? Operation.Outcome.FAILED : Operation.Outcome.UNKNOWN;
                        op.error = f.code().code() + ": " + f.message();
                    }
                    case OpResult.PreconditionFailed pf when op.conditional -> {
                        // Definitely not executed, says the server (IdempotencyChecker holds it to that).
                        op.outcome = Operation.Outcome.FAILED;
                        op.conditionFailed = true;
                        op.replayed = e.replayed();
                        op.recorded = e.recorded();
                        op.error = "precondition_failed: the current version is " + pf.current();
                        count(e.replayed() ? "idem.conditionFailed.replayed" : "idem.conditionFailed");
                    }
                    default -> throw new SimulationFailure(new Violation(Violation.Kind.INVARIANT, loop.now(), op + " answered " + a));
                }
            }
            case WriteOutcome.Failed f -> {
                op.outcome = Operation.Outcome.FAILED;
                op.error = f.code().code() + ": " + f.message();
                if (f.code() == ErrorCode.IDEMPOTENCY_KEY_REUSED) {
                    count("idem.refused.reused");
                }
            }
        }
        finish(op);
    }

    /**
     * A batch on a key only this client writes: put, put, get, at majorities. Operations on one key
     * run in batch order, so the second put is stamped above the first and the get, which overlaps
     * every write acknowledged by a home majority, sees the second put or something newer. The
     * batch is not part of the history the other checkers read: its keys are its own.
     */
    private void batchTurn(Client c) {
        String key = BATCH_KEY_PREFIX + c.id;
        String first = "batch/c" + c.id + "/" + c.sequence++;
        String second = "batch/c" + c.id + "/" + c.sequence++;
        List<Op> ops = List.of(
                new Op.Put(bytes(key), bytes(first), CONTENT_TYPE, Op.NO_TTL, Condition.NONE),
                new Op.Put(bytes(key), bytes(second), CONTENT_TYPE, Op.NO_TTL, Condition.NONE),
                new Op.Get(bytes(key)));
        boolean aimAtCanary = config.canary() != SimulationConfig.Canary.NONE && random.nextBoolean();
        SimNode coordinator = aimAtCanary ? nodes[CANARY_NODE - 1] : nodes[random.nextInt(nodes.length)];
        Operation op = history.add(new Operation(nextOperationId++, c.id, Operation.Kind.BATCH, key, bytes(second), Quorum.MAJORITY,
                Quorum.MAJORITY.resolve(knobs.replicationFactor()), coordinator.id, loop.now(), loop.steps()));
        Consumer<WriteOutcome> done = invoke(op, coordinator, outcome -> completeBatch(op, outcome));
        if (done == null) {
            return;
        }
        if (config.canary() == SimulationConfig.Canary.UNORDERED_BATCH && coordinator.id == CANARY_NODE) {
            // Each operation on its own, all at once; answers gathered in operation order.
            Answer[] answers = new Answer[ops.size()];
            int[] remaining = {ops.size()};
            for (int i = 0; i < ops.size(); i++) {
                int index = i;
                coordinator.cluster.execute(new WriteRequest(namespace, List.of(ops.get(i)), null), Quorum.MAJORITY, Quorum.MAJORITY, outcome -> {
                    answers[index] = outcome instanceof WriteOutcome.Executed e ? e.answers().get(0)
                            : Answer.failed(((WriteOutcome.Failed) outcome).code(), "refused", Map.of());
                    if (--remaining[0] == 0) {
                        done.accept(new WriteOutcome.Executed(Arrays.asList(answers), false, false));
                    }
                });
            }
        } else {
            coordinator.cluster.execute(new WriteRequest(namespace, ops, null), Quorum.MAJORITY, Quorum.MAJORITY, done);
        }
    }

    private void completeBatch(Operation op, WriteOutcome outcome) {
        if (outcome instanceof WriteOutcome.Failed f) {
            op.outcome = Operation.Outcome.FAILED;
            op.error = f.code().code() + ": " + f.message();
            finish(op);
            return;
        }
        List<Answer> answers = ((WriteOutcome.Executed) outcome).answers();
        if (answers.size() != 3 || answers.get(2).result() instanceof OpResult.Written || answers.get(0).result() instanceof OpResult.Found) {
            throw new SimulationFailure(new Violation(Violation.Kind.BATCH_ORDER, loop.now(), op + " answered out of operation order: " + answers));
        }
        op.outcome = Operation.Outcome.WRITTEN;
        if (answers.get(0).result() instanceof OpResult.Written w1 && answers.get(1).result() instanceof OpResult.Written w2) {
            if (w2.version().compareTo(w1.version()) <= 0) {
                throw new SimulationFailure(new Violation(Violation.Kind.BATCH_ORDER, loop.now(),
                        op + ": the second put of the key was stamped " + w2.version() + ", not above the first's " + w1.version()));
            }
            Answer second = answers.get(1);
            boolean homeMajority = second.acks() - second.fallbackAcks() >= op.quorumSize;
            Version seen = switch (answers.get(2).result()) {
                case OpResult.Found f -> f.record().version();
                case OpResult.NotFound nf -> null;
                default -> w2.version(); // The read failed: nothing to check.
            };
            if (homeMajority && (seen == null || seen.compareTo(w2.version()) < 0)) {
                throw new SimulationFailure(new Violation(Violation.Kind.BATCH_ORDER, loop.now(),
                        op + ": the get after the puts saw " + seen + ", older than the second put's " + w2.version()));
            }
            op.version = w2.version();
            count("batch.ordered");
        } else {
            count("batch.partial");
        }
        finish(op);
    }

    private static byte[] fingerprint(String request) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(bytes(request));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private Operation issue(int client, Operation.Kind kind, String key, byte[] value, Quorum quorum, SimNode coordinator) {
        return issue(client, kind, key, value, quorum, coordinator, null);
    }

    /** @param after the client's causal token for a write (null: none) */
    private Operation issue(int client, Operation.Kind kind, String key, byte[] value, Quorum quorum, SimNode coordinator, Version after) {
        Operation op = history.add(new Operation(nextOperationId++, client, kind, key, value, quorum,
                quorum.resolve(knobs.replicationFactor()), coordinator.id, loop.now(), loop.steps()));
        if (client >= 0) {
            operationsIssued++;
        }
        trace.mix(loop.now(), op.id, kind.ordinal(), coordinator.id);
        trace.line(loop.now(), () -> "invoke " + op);
        if (!coordinator.up) {
            op.outcome = Operation.Outcome.FAILED;
            op.error = "coordinator unreachable";
            finish(op);
            return op;
        }
        touched.add(coordinator);
        int incarnation = coordinator.incarnation;
        coordinator.pending.add(op);
        Consumer<Answer> done = r -> {
            coordinator.requireLive(incarnation, "answered a client");
            if (op.outcome != Operation.Outcome.PENDING) {
                throw new SimulationFailure(new Violation(Violation.Kind.INVARIANT, loop.now(), op + " was answered twice: " + r));
            }
            complete(op, r);
        };
        boolean weakened = config.canary() == SimulationConfig.Canary.WEAK_WRITE_QUORUM && coordinator.id == CANARY_NODE;
        Quorum w = weakened ? Quorum.ONE : quorum;
        byte[] k = bytes(key);
        switch (kind) {
            case PUT -> coordinator.cluster.put(namespace, k, value, CONTENT_TYPE, Op.NO_TTL, after, w, weakened ? lieAboutAcks(op, done) : done);
            case DELETE -> coordinator.cluster.delete(namespace, k, after, w, weakened ? lieAboutAcks(op, done) : done);
            case GET -> coordinator.cluster.get(namespace, k, quorum, done);
        }
        if (client >= 0 && buggify.fires(FaultPoint.CRASH_MID_REQUEST)) {
            loop.schedule(random.nextLong(6), -1, 0, () -> {
                if (coordinator.up && coordinator.incarnation == incarnation && phase == Phase.WORKLOAD && down() < knobs.maxDown()) {
                    touched.add(coordinator);
                    crash(coordinator, "crash mid request");
                }
            });
        }
        return op;
    }

    /**
     * The weak-quorum canary claims the W the client asked for, all of it from home replicas, as a
     * consistently broken coordinator would.
     */
    private static Consumer<Answer> lieAboutAcks(Operation op, Consumer<Answer> done) {
        return r -> done.accept(r.result() instanceof OpResult.Written || r.result() instanceof OpResult.Deleted
                ? Answer.written(r.result(), Math.max(r.acks(), op.quorumSize), 0)
                : r);
    }

    private void complete(Operation op, Answer r) {
        switch (r.result()) {
            case OpResult.Written w -> {
                op.outcome = Operation.Outcome.WRITTEN;
                op.version = w.version();
                op.acks = r.acks();
                op.fallbackAcks = r.fallbackAcks();
            }
            case OpResult.Deleted d -> {
                op.outcome = Operation.Outcome.DELETED;
                op.version = d.version();
                op.acks = r.acks();
                op.fallbackAcks = r.fallbackAcks();
            }
            case OpResult.Found f -> {
                invariants.checkVisible(f.record(), op + " answered");
                op.outcome = Operation.Outcome.FOUND;
                op.record = f.record();
            }
            case OpResult.NotFound nf -> op.outcome = Operation.Outcome.NOT_FOUND;
            case OpResult.Failed f -> {
                // A clock_unsafe write was refused before a version was issued: nothing was sent.
                boolean notExecuted = f.code() == ErrorCode.QUORUM_UNAVAILABLE || f.code() == ErrorCode.INVALID_QUORUM
                        || f.code() == ErrorCode.CLOCK_UNSAFE || !op.isWrite();
                if (f.code() == ErrorCode.CLOCK_UNSAFE) {
                    count("clockUnsafe." + f.details().get("cause"));
                }
                op.outcome = notExecuted ? Operation.Outcome.FAILED : Operation.Outcome.UNKNOWN;
                op.error = f.code().code() + ": " + f.message();
            }
            default -> throw new SimulationFailure(new Violation(Violation.Kind.INVARIANT, loop.now(), op + " answered " + r));
        }
        if (op.acknowledged() && op.client >= 0 && op.key.equals(clients[op.client].ownKey)) {
            Client c = clients[op.client];
            if (c.ownToken == null || op.version.isNewerThan(c.ownToken)) {
                c.ownToken = op.version;
            }
        }
        if (op.acknowledged()) {
            if (op.acks < op.quorumSize) {
                throw new SimulationFailure(new Violation(Violation.Kind.INVARIANT, loop.now(),
                        op + " was acknowledged with fewer acks than W=" + op.quorumSize));
            }
            if (op.fallbackAcks > op.acks || (op.fallbackAcks > 0 && !knobs.sloppyQuorum())) {
                throw new SimulationFailure(new Violation(Violation.Kind.INVARIANT, loop.now(),
                        op + " reports " + op.fallbackAcks + " fallback acknowledgements" + (knobs.sloppyQuorum() ? "" : " without sloppy quorum")));
            }
            if (op.fallbackAcks > 0) {
                count("ops.fallbackAcknowledged");
            }
            if (op.version.nodeId() != op.coordinator) {
                throw new SimulationFailure(new Violation(Violation.Kind.INVARIANT, loop.now(),
                        op + " carries a version not issued by its coordinator"));
            }
            maybeCrashAfterAck(nodes[op.coordinator - 1]);
        }
        finish(op);
    }

    private void finish(Operation op) {
        op.completedAt = loop.now();
        op.completedStep = loop.steps();
        nodes[op.coordinator - 1].pending.remove(op);
        count("ops." + op.outcome.name().toLowerCase(java.util.Locale.ROOT));
        if (op.error != null) {
            count("errors." + (op.error.indexOf(':') > 0 ? op.error.substring(0, op.error.indexOf(':')) : op.error).replace(' ', '_'));
        }
        trace.mix(loop.now(), op.id, op.outcome.ordinal(), op.version == null ? (op.record == null ? 0 : op.record.version().timestamp()) : op.version.timestamp());
        trace.line(loop.now(), () -> "done   " + op);
        if (op.client >= 0 && phase == Phase.WORKLOAD) {
            Client c = clients[op.client];
            // A failed request backs off, as real clients do; a burst fires the next one at once.
            boolean failed = op.outcome == Operation.Outcome.FAILED || op.outcome == Operation.Outcome.UNKNOWN;
            long think = failed ? 20 + random.nextLong(181)
                    : buggify.fires(FaultPoint.BURST) ? 0 : 1 + random.nextLong(knobs.maxThinkMillis());
            loop.schedule(think, -1, 0, () -> clientTurn(c));
        }
    }

    // ---------------------------------------------------------------- heal, final reads

    // ---------------------------------------------------------------- membership changes

    /** The partition map the cluster routes by now: the metadata log's, or the static one. */
    private PartitionMap map() {
        if (meta == null) {
            return placement;
        }
        if (mapOf != meta) { // Building a membership's map is costly, and the invariants ask for it per key.
            mapOfMeta = meta.membership().map();
            mapOf = meta;
        }
        return mapOfMeta;
    }

    private ClusterState mapOf;
    private PartitionMap mapOfMeta;

    /** A random node that is part of the cluster (up or not). */
    private SimNode activeNode() {
        while (true) {
            SimNode n = nodes[random.nextInt(nodes.length)];
            if (!n.inactive) {
                return n;
            }
        }
    }

    /**
     * The metadata log takes {@code command} (it is a linearizable log here: Raft's job, tested on
     * its own), and every live member hears of a new epoch within 300 ms, in no set order.
     */
    private ClusterMetadata.Result applyToLog(MetadataCommand command, String from) {
        ClusterMetadata.Result r = ClusterMetadata.apply(meta, command);
        count(r.refused() ? "metadata.refused" : "metadata.applied");
        if (r.state().equals(meta)) {
            return r;
        }
        ClusterState before = meta;
        meta = r.state();
        invariants.onEpoch(meta.epoch());
        long e = meta.epoch();
        Membership membership = meta.membership();
        trace.line(loop.now(), () -> from + " " + command + ": epoch " + e + (meta.plan() == null ? ", no change running" : ", " + meta.plan()));
        for (MemberRecord m : meta.members()) {
            SimNode n = nodes[m.id() - 1];
            NodeState was = before.member(m.id()).map(MemberRecord::state).orElse(null);
            if (m.state() == NodeState.JOINING && was == null) {
                // A new node starts with an empty disk and the latest epoch, as `cairn start --join` does.
                n.inactive = false;
                touched.add(n);
                start(n);
                count("membership.started");
            } else if (m.state() == NodeState.REMOVED && was != NodeState.REMOVED) {
                retire(n, "left the cluster");
            }
        }
        for (SimNode n : nodes) {
            if (n.up && !n.inactive) {
                loop.schedule(random.nextLong(300), n.id - 1, n.incarnation, () -> catchUp(n));
            }
        }
        if (before.plan() != null && meta.plan() == null) {
            count("membership.plansCompleted");
        }
        return r;
    }

    private List<Integer> activeIds() {
        return meta.activeMembers().stream().map(Member::id).toList();
    }

    /**
     * A member applies the log's newest epoch, once it can reach the log: a node cut off from the
     * majority keeps serving at its last epoch and tries again every 200 ms.
     */
    private void catchUp(SimNode n) {
        if (n.inactive || n == laggard || n.cluster.epoch() >= meta.epoch()) {
            return; // (The laggard catches up when its lag ends.)
        }
        if (!network.reachesMajority(n.id, activeIds())) {
            loop.schedule(200, n.id - 1, n.incarnation, () -> catchUp(n));
            return;
        }
        Membership membership = meta.membership();
        n.cluster.onMembership(membership);
    }

    /** A node leaves for good: it stops, and its disk is never used again. */
    private void retire(SimNode n, String why) {
        retiredAt.add(loop.now());
        if (n.up) {
            touched.add(n);
            crash(n, why);
        }
        n.inactive = true;
        count("membership.retired");
    }

    /**
     * The EPOCH_CHANGE fault of a membership-change run: an operator joins a spare, decommissions a
     * node, or kills a node for good and removes or replaces it; sometimes pauses, resumes or
     * cancels the running change. One change at a time (a refused one is counted), so a write at
     * W=majority always keeps a copy through a disk lost for good.
     */
    private void changeMembership() {
        List<SimNode> members = Arrays.stream(nodes).filter(n -> !n.inactive).toList();
        SimNode victim = members.get(random.nextInt(members.size()));
        Member spare = spares.stream().filter(m -> meta.member(m.id()).isEmpty()).findFirst().orElse(null);
        if (meta.plan() != null) {
            MetadataCommand c = switch (random.nextInt(4)) {
                case 0 -> new MetadataCommand.Pause(!meta.plan().paused());
                case 1 -> new MetadataCommand.Cancel();
                default -> meta.plan().paused() ? new MetadataCommand.Pause(false) : null;
            };
            if (c != null) {
                Plan running = meta.plan();
                applyToLog(c, "an operator");
                count("membership." + c.getClass().getSimpleName().toLowerCase());
                if (running.kind() == Plan.Kind.REPLACE && meta.member(running.replacement()).map(m -> m.state() == NodeState.REMOVED).orElse(false)) {
                    count("membership.replacementDropped"); // a cancelled replace whose replacement held nothing yet
                }
            }
            return;
        }
        MetadataCommand c = switch (random.nextInt(4)) {
            case 0 -> spare == null ? null : new MetadataCommand.Join(spare);
            case 1 -> new MetadataCommand.Decommission(victim.id, false);
            case 2 -> new MetadataCommand.Remove(victim.id, false);
            default -> spare == null ? null : new MetadataCommand.Replace(victim.id, spare, false);
        };
        if (c == null) {
            return;
        }
        if (ClusterMetadata.apply(meta, c).refused()) {
            count("membership.refused");
            return;
        }
        if (c instanceof MetadataCommand.Remove || c instanceof MetadataCommand.Replace) {
            retire(victim, "dies for good before it is " + (c instanceof MetadataCommand.Remove ? "removed" : "replaced"));
        }
        applyToLog(c, "an operator");
        count("membership." + c.getClass().getSimpleName().toLowerCase());
    }

    /**
     * Once faults stop, the running membership change must finish: every partition ends stable on
     * exactly N replicas, and every member reaches the final epoch.
     */
    private void awaitMembershipChange() {
        if (meta == null) {
            return;
        }
        if (meta.plan() != null && meta.plan().paused()) {
            applyToLog(new MetadataCommand.Pause(false), "the heal");
        }
        // It must keep making progress: a new epoch at least every MEMBERSHIP_SETTLE_MILLIS (a narrow
        // moves.window moves a partition or two at a time), and end within MEMBERSHIP_SETTLE_CAP_MILLIS.
        BooleanSupplier done = () -> meta.plan() == null && Arrays.stream(nodes).allMatch(n -> n.inactive || (n.up && n.cluster.epoch() == meta.epoch()));
        long cap = loop.now() + MEMBERSHIP_SETTLE_CAP_MILLIS;
        long epoch = -1;
        while (meta.epoch() != epoch && !done.getAsBoolean() && loop.now() < cap) {
            epoch = meta.epoch();
            long since = meta.epoch();
            run(Math.min(cap, loop.now() + MEMBERSHIP_SETTLE_MILLIS), () -> done.getAsBoolean() || meta.epoch() != since);
        }
        if (!done.getAsBoolean()) {
            violations.add(new Violation(Violation.Kind.LIVENESS, loop.now(), "the membership change did not finish (no new epoch for "
                    + MEMBERSHIP_SETTLE_MILLIS + " ms, or not done " + MEMBERSHIP_SETTLE_CAP_MILLIS + " ms after faults stopped): "
                    + meta.plan() + ", moving partitions "
                    + java.util.stream.IntStream.range(0, meta.partitions()).filter(p -> meta.assignments().get(p).moving()).boxed().toList()
                    + ", queued " + meta.queued() + ", node epochs " + Arrays.stream(nodes).filter(n -> !n.inactive).map(n -> n + "@" + (n.up ? n.cluster.epoch() : -1)).toList()
                    + " vs " + meta.epoch()));
            return;
        }
        for (int p = 0; p < meta.partitions(); p++) {
            if (meta.assignments().get(p).owners().length != Math.min(knobs.replicationFactor(), meta.activeMembers().size())) {
                violations.add(new Violation(Violation.Kind.INVARIANT, loop.now(), "partition " + p + " ends with replicas "
                        + Arrays.toString(meta.assignments().get(p).owners())));
            }
        }
        trace.line(loop.now(), () -> "membership settled at epoch " + meta.epoch() + ": " + meta.members());
    }

    private void heal() {
        phase = Phase.HEAL;
        buggify.quiet();
        network.heal();
        for (SimNode n : nodes) {
            correctClock(n);
        }
        trace.line(loop.now(), () -> "heal: faults off, clocks synchronised, every node up");
        touched.clear();
        for (SimNode n : nodes) {
            if (!n.up && !n.inactive) {
                restart(n);
            }
        }
        for (SimNode n : new ArrayList<>(touched)) {
            invariants.afterStep(n);
        }
        awaitMembershipChange();
        // Settling may take long when hints are throttled hard; it must keep making progress, though.
        long deadline = loop.now() + MAX_HEAL_MILLIS;
        long lastProgress = loop.now();
        long backlog = totalHints();
        while (!run(Math.min(deadline, loop.now() + HEAL_WINDOW_MILLIS), this::settled)) {
            long now = totalHints();
            if (now < backlog) {
                backlog = now;
                lastProgress = loop.now();
            }
            if (loop.now() >= deadline || loop.now() - lastProgress >= knobs.healStallMillis()) {
                violations.add(new Violation(Violation.Kind.LIVENESS, loop.now(), "the cluster stopped settling "
                        + (loop.now() - lastProgress) + "ms after healing began: " + unsettled()));
                break;
            }
        }
        trace.line(loop.now(), () -> "settled: " + unsettled());
        corruptSomeCopies();
        awaitConvergence();
    }

    /**
     * In seeds drawn to diverge, once every fault has stopped: flips a byte in up to three stored
     * records whose version another home replica also holds (so a healthy copy exists), as a
     * failing disk would. The scrub must find them and anti-entropy replace them.
     */
    private void corruptSomeCopies() {
        if (!knobs.loseHints() || random.nextInt(2) != 0) {
            return;
        }
        int corrupted = 0;
        for (String key : keys) {
            if (corrupted == 3) {
                return;
            }
            int partition = namespace.partitionOf(bytes(key));
            int[] homes = map().replicas(partition);
            for (int a = 0; a < homes.length && corrupted < 3; a++) {
                Record mine = nodes[homes[a] - 1].replica.readStored(namespace, bytes(key));
                boolean healthyElsewhere = false;
                for (int b = 0; b < homes.length; b++) {
                    Record other = b == a ? null : nodes[homes[b] - 1].replica.readStored(namespace, bytes(key));
                    healthyElsewhere |= mine != null && other != null && other.version().equals(mine.version());
                }
                if (healthyElsewhere) {
                    SimNode n = nodes[homes[a] - 1];
                    byte[] storageKey = Keyspace.data(namespace.id(), partition, bytes(key));
                    byte[] raw = n.disk.get(storageKey);
                    raw[raw.length - 6] ^= 0x40;
                    n.disk.write(new WriteBatch().put(storageKey, raw), Durability.SYNC);
                    invariants.forgetCopy(n, key);
                    corrupted++;
                    count("corruptedOnDisk");
                    trace.line(loop.now(), () -> "the disk of " + n + " corrupts " + key);
                    break;
                }
            }
        }
    }

    /**
     * With no client reads at all, anti-entropy alone must bring every key's home replicas to the
     * same live data (a tombstone and nothing count alike; a corrupt copy counts as different)
     * within a bounded number of exchange cycles.
     */
    private void awaitConvergence() {
        long cycle = knobs.settings().antiEntropy().cycleMillis();
        long deadline = loop.now() + CONVERGENCE_CYCLES * cycle + 10_000;
        long started = loop.now();
        List<String> apart = diverging();
        while (!apart.isEmpty() && loop.now() < deadline) {
            run(loop.now() + 500, () -> false);
            apart = diverging();
        }
        long took = loop.now() - started;
        counters.put("convergenceMillis", took);
        if (!apart.isEmpty()) {
            List<String> shown = apart;
            violations.add(new Violation(Violation.Kind.DIVERGENCE, loop.now(), "home replicas still differ " + took
                    + " ms after faults stopped, with no client reads (anti-entropy must converge them): " + shown.subList(0, Math.min(5, shown.size()))));
        }
        trace.line(loop.now(), () -> "replicas agree after " + took + " ms of anti-entropy");
    }

    /** The keys whose home replicas hold different live data, with what each holds. */
    private List<String> diverging() {
        List<String> out = new ArrayList<>();
        for (String key : keys) {
            int[] homes = map().replicas(namespace.partitionOf(bytes(key)));
            List<String> views = new ArrayList<>();
            for (int h : homes) {
                String view;
                try {
                    Record r = nodes[h - 1].replica.readStored(namespace, bytes(key));
                    view = r == null || r.tombstone() ? "none" : r.version().toString();
                } catch (CorruptRecordException e) {
                    view = "corrupt";
                }
                views.add(view);
            }
            if (views.stream().distinct().count() > 1) {
                out.add(key + " " + Arrays.toString(homes) + "=" + views);
            }
        }
        return out;
    }

    private long totalHints() {
        long total = 0;
        for (SimNode n : nodes) {
            total += n.inactive || n.cluster == null ? 0 : n.cluster.hintsPending();
        }
        return total;
    }

    private boolean settled() {
        return unsettled().isEmpty();
    }

    private String unsettled() {
        StringJoiner j = new StringJoiner("; ");
        for (SimNode n : nodes) {
            if (n.inactive) {
                continue;
            }
            if (!n.up) {
                j.add(n + " down");
                continue;
            }
            if (!n.pending.isEmpty()) {
                j.add(n + " has " + n.pending.size() + " unanswered requests");
            }
            long hints = n.cluster.hintsPending();
            if (hints > 0) {
                j.add(n + " holds " + hints + " hints " + n.cluster.hintBacklog().keySet());
            }
            // A hint stored when a request timed out is on the storage lane a moment after the
            // answer: until it is stored, the backlog does not show it, but the node is not done.
            long storing = n.cluster.hintsBeingStored();
            if (storing > 0) {
                j.add(n + " is storing " + storing + " hints");
            }
            for (SimNode peer : nodes) {
                if (peer != n && !peer.inactive && !n.cluster.isAlive(peer.id)) {
                    j.add(n + " suspects n" + peer.id);
                }
            }
        }
        return j.toString();
    }

    private List<HistoryChecker.FinalState> finalReads() {
        phase = Phase.FINAL;
        long requestTimeout = knobs.settings().coordinator().requestTimeoutMillis();
        Map<String, Operation> reads = new LinkedHashMap<>();
        for (String key : keys) {
            Operation read = null;
            for (int attempt = 0; attempt < FINAL_READ_ATTEMPTS; attempt++) {
                SimNode coordinator = activeNode();
                touched.clear();
                Operation r = issue(-1, Operation.Kind.GET, key, null, Quorum.ALL, coordinator);
                for (SimNode n : new ArrayList<>(touched)) {
                    invariants.afterStep(n);
                }
                read = r;
                run(loop.now() + 10 * requestTimeout, () -> r.outcome != Operation.Outcome.PENDING);
                if (r.outcome == Operation.Outcome.FOUND || r.outcome == Operation.Outcome.NOT_FOUND) {
                    break;
                }
                run(loop.now() + requestTimeout, () -> false);
            }
            reads.put(key, read);
        }
        // Let background repairs and stray duplicates land before looking at the disks.
        run(loop.now() + 2 * requestTimeout + knobs.settings().coordinator().readRepairTimeoutMillis() + 3_200, () -> false);
        inspectEveryKey();
        List<HistoryChecker.FinalState> finals = new ArrayList<>();
        for (String key : keys) {
            int[] homes = map().replicas(namespace.partitionOf(bytes(key)));
            Map<Integer, Record> stored = new LinkedHashMap<>();
            Map<Integer, Record> strays = new TreeMap<>();
            for (SimNode n : nodes) {
                if (n.inactive) {
                    continue; // Never joined, or gone for good with its disk.
                }
                Record r = storedCopy(n, key);
                if (contains(homes, n.id)) {
                    stored.put(n.id, r);
                } else if (r != null) {
                    strays.put(n.id, r);
                }
            }
            Map<Integer, Record> inHomeOrder = new LinkedHashMap<>();
            for (int h : homes) {
                inHomeOrder.put(h, stored.get(h));
            }
            finals.add(new HistoryChecker.FinalState(key, homes, inHomeOrder, strays, reads.get(key)));
            trace.line(loop.now(), () -> "final " + key + " homes " + Arrays.toString(homes) + " hold " + inHomeOrder.values());
        }
        return finals;
    }

    /**
     * Key inspection, the operators' view, through a random node once the cluster is quiet: it
     * must report exactly what each home replica's disk holds.
     */
    private void inspectEveryKey() {
        long requestTimeout = knobs.settings().coordinator().requestTimeoutMillis();
        for (String key : keys) {
            SimNode via = activeNode();
            List<io.cairn.cluster.ReplicaCopy> found = new ArrayList<>();
            boolean[] answered = {false};
            touched.clear();
            touched.add(via);
            int incarnation = via.incarnation;
            via.cluster.inspect(namespace, bytes(key), copies -> {
                via.requireLive(incarnation, "answered an inspection");
                if (answered[0]) {
                    throw new SimulationFailure(new Violation(Violation.Kind.INVARIANT, loop.now(), "inspection of " + key + " answered twice"));
                }
                answered[0] = true;
                found.addAll(copies);
            });
            for (SimNode n : new ArrayList<>(touched)) {
                invariants.afterStep(n);
            }
            run(loop.now() + 2 * requestTimeout, () -> answered[0]);
            if (!answered[0]) {
                violations.add(new Violation(Violation.Kind.LIVENESS, loop.now(), "inspection of " + key + " via n" + via.id + " never answered"));
                continue;
            }
            count("inspections");
            int[] homes = map().replicas(namespace.partitionOf(bytes(key)));
            if (found.size() != homes.length) {
                violations.add(new Violation(Violation.Kind.INTEGRITY, loop.now(), "inspection of " + key + " returned " + found));
                continue;
            }
            for (int i = 0; i < homes.length; i++) {
                var copy = found.get(i);
                Record disk = storedCopy(nodes[homes[i] - 1], key);
                if (copy.replica() != homes[i] || copy.error() != null || !sameRecord(copy.record(), disk)) {
                    violations.add(new Violation(Violation.Kind.INTEGRITY, loop.now(), "inspection of " + key + " via n" + via.id
                            + " reported " + copy + " for home replica n" + homes[i] + ", which holds " + disk));
                }
            }
        }
    }

    /** What a node's disk holds for a key; a copy still corrupt at the end is a violation (and read as none). */
    private Record storedCopy(SimNode n, String key) {
        try {
            return n.replica.readStored(namespace, bytes(key));
        } catch (CorruptRecordException e) {
            violations.add(new Violation(Violation.Kind.INTEGRITY, loop.now(), "the copy of " + key + " on " + n
                    + " is still corrupt at the end: " + e.getMessage()));
            return null;
        }
    }

    private static boolean sameRecord(Record a, Record b) {
        if (a == null || b == null) {
            return a == b;
        }
        return a.version().equals(b.version()) && a.tombstone() == b.tombstone() && a.expiresAtMillis() == b.expiresAtMillis()
                && Arrays.equals(a.value(), b.value());
    }

    // ---------------------------------------------------------------- helpers

    private void collectCounters() {
        long hintsStored = 0;
        long hintsReplayed = 0;
        long fallbackHints = 0;
        long hintsKeptForPeers = 0;
        long readRepairs = 0;
        long outcomeUnknown = 0;
        long quorumFailures = 0;
        long clockRefusals = 0;
        long clockUnsafeWrites = 0;
        for (SimNode n : nodes) {
            n.foldCounters();
            hintsStored += n.hintsStored;
            hintsReplayed += n.hintsReplayed;
            fallbackHints += n.fallbackHints;
            hintsKeptForPeers += n.hintsKeptForPeers;
            readRepairs += n.readRepairs;
            outcomeUnknown += n.outcomeUnknown;
            quorumFailures += n.quorumFailures;
            clockRefusals += n.clockRefusals;
            clockUnsafeWrites += n.clockUnsafeWrites;
        }
        io.cairn.cluster.MoveStats moves = io.cairn.cluster.MoveStats.ZERO;
        for (SimNode n : nodes) {
            moves = moves.plus(n.moves);
        }
        if (meta != null) {
            counters.put("moves.streamsCompleted", moves.streamsCompleted());
            counters.put("moves.recordsStreamed", moves.recordsStreamed());
            counters.put("moves.statesStreamed", moves.statesStreamed());
            counters.put("moves.streamErrors", moves.streamErrors());
            counters.put("moves.partitionsDropped", moves.partitionsDropped());
        }
        counters.put("clock.refusals", clockRefusals);
        counters.put("coordinator.clockUnsafe", clockUnsafeWrites);
        counters.put("hints.stored", hintsStored);
        counters.put("hints.replayed", hintsReplayed);
        if (knobs.sloppyQuorum()) {
            counters.put("sloppySeeds", 1);
            counters.put("hints.toFallbacks", fallbackHints);
            counters.put("hints.keptForPeers", hintsKeptForPeers);
        }
        counters.put("readRepairs", readRepairs);
        counters.put("behind.held", sum(n -> n.heldWhileBehind));
        counters.put("behind.heldPastDeadline", sum(n -> n.heldPastDeadline));
        counters.put("exchange.rounds", sum(n -> n.exchangeRounds));
        counters.put("exchange.clean", sum(n -> n.exchangeRoundsClean));
        counters.put("exchange.pushed", sum(n -> n.keysPushed));
        counters.put("exchange.fetched", sum(n -> n.keysFetched));
        counters.put("purges.held", sum(n -> n.purgesHeld));
        counters.put("purges.done", sum(n -> n.tombstonesPurged + n.expiredPurged));
        counters.put("corrupt.found", sum(n -> n.corruptFound));
        counters.put("corrupt.repaired", sum(n -> n.corruptRepaired));
        counters.put("paxos.foundCommitted", sum(n -> n.paxos.foundCommitted()));
        counters.put("paxos.ruledOut", sum(n -> n.paxos.ruledOut()));
        counters.put("paxos.ruleOutRetries", sum(n -> n.paxos.ruleOutRetries()));
        counters.put("paxos.queued", sum(n -> n.paxos.queued()));
        counters.put("paxos.widened", sum(n -> n.paxos.widened()));
        counters.put("paxos.staleStamps", sum(n -> n.paxos.staleStamps()));
        counters.put("paxos.leased", sum(n -> n.paxos.leased()));
        counters.put("paxos.leaseLost", sum(n -> n.paxos.leaseLost()));
        counters.put("paxos.answeredChosen", sum(n -> n.paxos.answeredChosen()));
        counters.put("coordinator.outcomeUnknown", outcomeUnknown);
        counters.put("coordinator.quorumUnavailable", quorumFailures);
        counters.put("events", loop.steps());
        if (invariants.lostInCrashes() > 0) {
            counters.put("canary.versionsLostInCrashes", invariants.lostInCrashes());
        }
        counters.put("virtualMillis", loop.now());
        buggify.fired().forEach((p, n) -> counters.put("fault." + p.name(), n));
    }

    /** A figure summed over the nodes (their counters folded in). */
    private long sum(java.util.function.ToLongFunction<SimNode> figure) {
        long total = 0;
        for (SimNode n : nodes) {
            total += figure.applyAsLong(n);
        }
        return total;
    }

    private void count(String name) {
        counters.add(name);
    }

    private String describeOffsets() {
        StringJoiner j = new StringJoiner(" ");
        for (SimNode n : nodes) {
            j.add("n" + n.id + "(" + n.member.zone() + ")=" + n.clock.offsetMillis() + "ms");
        }
        return j.toString();
    }

    private static boolean contains(int[] a, int v) {
        for (int x : a) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
