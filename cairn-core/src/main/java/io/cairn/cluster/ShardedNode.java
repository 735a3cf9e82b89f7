package io.cairn.cluster;

import io.cairn.antientropy.PurgeLedger;
import io.cairn.clock.HybridClock;
import io.cairn.membership.Membership;
import io.cairn.message.Message;
import io.cairn.namespace.Namespace;
import io.cairn.replica.LocalStore;
import io.cairn.request.Answer;
import io.cairn.placement.Quorum;
import io.cairn.request.WriteOutcome;
import io.cairn.request.WriteRequest;
import io.cairn.storage.StorageEngine;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * A node as its {@code K} core shards, driven from one thread: every entry point is routed by
 * {@link ShardRouter} to the shard that owns it, and the node's figures are the sum of its
 * shards'. The simulator runs nodes this way, so every shard's protocol runs under its faults; the
 * production driver builds the same shards but runs each on a thread of its own, routing with the
 * same {@link ShardRouter} (see {@code ClusterDriver}).
 *
 * <p>All shards share the node's ports (transport, scheduler, storage, clock). Single-threaded.
 */
public final class ShardedNode {
    private final List<ClusterNode> shards;
    private final ShardRouter router;

    public ShardedNode(int id, int shardCount, Membership membership, List<Namespace> namespaces, Namespace outcomes,
                       ClusterSettings settings, HybridClock clock, Transport transport, Scheduler scheduler, LocalStore local,
                       StorageEngine engine) {
        this(id, shardCount, membership, namespaces, outcomes, settings, clock, transport, scheduler, local, engine, new PurgeLedger());
    }

    /** @param ledger the node's purge ledger, which its local replica's sweeper reads */
    public ShardedNode(int id, int shardCount, Membership membership, List<Namespace> namespaces, Namespace outcomes,
                       ClusterSettings settings, HybridClock clock, Transport transport, Scheduler scheduler, LocalStore local,
                       StorageEngine engine, PurgeLedger ledger) {
        this(id, shardCount, membership, namespaces, outcomes, settings, clock, transport, scheduler, local, engine, ledger, Proposer.NONE);
    }

    /** @param proposer where the node's partition moves report to the metadata log */
    public ShardedNode(int id, int shardCount, Membership membership, List<Namespace> namespaces, Namespace outcomes,
                       ClusterSettings settings, HybridClock clock, Transport transport, Scheduler scheduler, LocalStore local,
                       StorageEngine engine, PurgeLedger ledger, Proposer proposer) {
        if (namespaces.isEmpty()) {
            throw new IllegalArgumentException("a cluster node serves at least one namespace");
        }
        this.router = new ShardRouter(shardCount, namespaces.get(0).partitioner());
        List<ClusterNode> built = new ArrayList<>(shardCount);
        NodeEpochs epochs = new NodeEpochs(shardCount, membership.epoch());
        for (int s = 0; s < shardCount; s++) {
            built.add(new ClusterNode(id, new Shard(s, shardCount), membership, namespaces, outcomes, settings, clock, transport, scheduler,
                    local, engine, ledger, epochs, proposer));
        }
        this.shards = List.copyOf(built);
    }

    public List<ClusterNode> shards() {
        return shards;
    }

    public ShardRouter router() {
        return router;
    }

    public int id() {
        return shards.get(0).id();
    }

    public void start() {
        shards.forEach(ClusterNode::start);
    }

    public void stop() {
        shards.forEach(ClusterNode::stop);
    }

    /** A message from a peer, to the shard that owns it; see {@link ClusterNode#onMessage(int, long, Message)}. */
    public void onMessage(int from, long senderClock, Message m) {
        shards.get(router.ofMessage(m)).onMessage(from, senderClock, m);
    }

    public void execute(WriteRequest request, Quorum r, Quorum w, Consumer<WriteOutcome> done) {
        shards.get(router.ofRequest(request)).execute(request, r, w, done);
    }

    public void put(Namespace ns, byte[] key, byte[] value, String contentType, long ttlMillis, Quorum w, Consumer<Answer> done) {
        shards.get(router.ofKey(key)).put(ns, key, value, contentType, ttlMillis, w, done);
    }

    public void delete(Namespace ns, byte[] key, Quorum w, Consumer<Answer> done) {
        shards.get(router.ofKey(key)).delete(ns, key, w, done);
    }

    public void put(Namespace ns, byte[] key, byte[] value, String contentType, long ttlMillis, io.cairn.clock.Version after, Quorum w,
                    Consumer<Answer> done) {
        shards.get(router.ofKey(key)).put(ns, key, value, contentType, ttlMillis, after, w, done);
    }

    public void delete(Namespace ns, byte[] key, io.cairn.clock.Version after, Quorum w, Consumer<Answer> done) {
        shards.get(router.ofKey(key)).delete(ns, key, after, w, done);
    }

    public void get(Namespace ns, byte[] key, Quorum r, Consumer<Answer> done) {
        shards.get(router.ofKey(key)).get(ns, key, r, done);
    }

    public void serialGet(Namespace ns, byte[] key, Consumer<Answer> done) {
        shards.get(router.ofKey(key)).serialGet(ns, key, done);
    }

    public void serialWrite(Namespace ns, io.cairn.request.Op op, Consumer<Answer> done) {
        shards.get(router.ofKey(op.key())).serialWrite(ns, op, done);
    }

    public PaxosStats paxosStats() {
        return PaxosStats.sum(shards.stream().map(ClusterNode::paxosStats).toList());
    }

    public void inspect(Namespace ns, byte[] key, Consumer<List<ReplicaCopy>> done) {
        shards.get(router.ofKey(key)).inspect(ns, key, done);
    }

    /** Every shard takes the new membership. */
    public void onMembership(Membership next) {
        shards.forEach(s -> s.onMembership(next));
    }

    public long epoch() {
        return shards.get(0).epoch();
    }

    /** Whether every shard's failure detector counts {@code node} alive. */
    public boolean isAlive(int node) {
        return shards.stream().allMatch(s -> s.isAlive(node));
    }

    public long hintsBeingStored() {
        return shards.stream().mapToLong(ClusterNode::hintsBeingStored).sum();
    }

    public long hintsPending() {
        return shards.stream().mapToLong(ClusterNode::hintsPending).sum();
    }

    /** Pending hints per target, summed over the shards (the oldest is the oldest of any). */
    public Map<Integer, HintBacklog> hintBacklog() {
        Map<Integer, HintBacklog> merged = new TreeMap<>();
        for (ClusterNode s : shards) {
            s.hintBacklog().forEach((target, b) -> merged.merge(target, b, HintBacklog::plus));
        }
        return merged;
    }

    public long hintsReplayed() {
        return shards.stream().mapToLong(ClusterNode::hintsReplayed).sum();
    }

    public long heldWhileBehindTotal() {
        return shards.stream().mapToLong(ClusterNode::heldWhileBehindTotal).sum();
    }

    public long heldPastDeadline() {
        return shards.stream().mapToLong(ClusterNode::heldPastDeadline).sum();
    }

    public long hintsKeptForPeers() {
        return shards.stream().mapToLong(ClusterNode::hintsKeptForPeers).sum();
    }

    /** Queues anti-entropy rounds now (see {@link ClusterNode#repairNow}) on every shard; how many were queued. */
    public int repairNow(Namespace ns, int partition) {
        return shards.stream().mapToInt(s -> s.repairNow(ns, partition)).sum();
    }

    public int repairsPending() {
        return shards.stream().mapToInt(ClusterNode::repairsPending).sum();
    }

    public List<ExchangeStatus.Partition> exchangeStatus() {
        return shards.stream().flatMap(s -> s.exchangeStatus().stream()).toList();
    }

    public ExchangeStatus.Totals exchangeTotals() {
        return shards.stream().map(ClusterNode::exchangeTotals).reduce(ExchangeStatus.Totals.ZERO, ExchangeStatus.Totals::plus);
    }

    public MoveStats moveStats() {
        return shards.stream().map(ClusterNode::moveStats).reduce(MoveStats.ZERO, MoveStats::plus);
    }

    public CoordinatorStats coordinatorStats() {
        return CoordinatorStats.sum(shards.stream().map(ClusterNode::coordinatorStats).toList());
    }
}
