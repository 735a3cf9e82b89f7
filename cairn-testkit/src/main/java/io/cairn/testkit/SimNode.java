package io.cairn.testkit;

import io.cairn.clock.HybridClock;
import io.cairn.cluster.ShardedNode;
import io.cairn.membership.Member;
import io.cairn.replica.LocalReplica;
import io.cairn.storage.Durability;
import java.util.ArrayList;
import java.util.List;

/**
 * One simulated machine: the parts that survive a crash (disk, physical clock, identity) and
 * the parts that are rebuilt on every start (HLC, replica, cluster node), tagged with the
 * incarnation they belong to.
 */
final class SimNode {
    final int id;
    final Member member;
    final SimClock clock;
    final SimDisk disk = new SimDisk();
    /** SYNC everywhere except the durability canary, which acknowledges writes before they are on disk. */
    final Durability durability;
    // Invariant: bumped at every crash; events and callbacks of an older incarnation never run.
    int incarnation;
    boolean up;
    /**
     * Not part of the cluster now: a spare that has not joined yet, or a node that was removed,
     * replaced or decommissioned (its disk is gone for good). Never started or restarted.
     */
    boolean inactive;
    HybridClock hlc;
    LocalReplica replica;
    /** The node's core shards (a count drawn at every start, so it changes across restarts). */
    ShardedNode cluster;
    /** When the node's storage lane finishes the jobs queued on it (simulated time). */
    long storageLaneFreeAt;
    /** Client requests this node coordinates that have not been answered yet. */
    final List<Operation> pending = new ArrayList<>();
    long crashes;
    io.cairn.cluster.MoveStats moves = io.cairn.cluster.MoveStats.ZERO;
    // Counters of earlier incarnations, folded in at each crash.
    long hintsStored;
    long hintsReplayed;
    long fallbackHints;
    long hintsKeptForPeers;
    long readRepairs;
    long outcomeUnknown;
    long quorumFailures;
    long clockRefusals;
    long clockUnsafeWrites;
    long exchangeRounds;
    // Replica requests from a newer epoch held while catching up, and those still held at their deadline.
    long heldWhileBehind;
    long heldPastDeadline;
    long exchangeRoundsClean;
    long keysPushed;
    long keysFetched;
    long purgesHeld;
    long tombstonesPurged;
    long expiredPurged;
    long corruptFound;
    long corruptRepaired;
    io.cairn.cluster.PaxosStats paxos = new io.cairn.cluster.PaxosStats();

    SimNode(int id, Member member, SimClock clock, Durability durability) {
        this.id = id;
        this.member = member;
        this.clock = clock;
        this.durability = durability;
    }

    /** Fails the run if code of an incarnation that has crashed still acts (a leaked callback or timer). */
    void requireLive(int incarnation, String what) {
        if (!up || this.incarnation != incarnation) {
            throw new SimulationFailure(new Violation(Violation.Kind.INVARIANT, -1,
                    "incarnation " + incarnation + " of node " + id + " " + what + " after it crashed"));
        }
    }

    void foldCounters() {
        if (cluster != null) {
            hintsStored += cluster.coordinatorStats().hintsStored();
            hintsReplayed += cluster.hintsReplayed();
            fallbackHints += cluster.coordinatorStats().fallbackHints();
            hintsKeptForPeers += cluster.hintsKeptForPeers();
            heldWhileBehind += cluster.heldWhileBehindTotal();
            heldPastDeadline += cluster.heldPastDeadline();
            readRepairs += cluster.coordinatorStats().readRepairs();
            outcomeUnknown += cluster.coordinatorStats().outcomeUnknown();
            quorumFailures += cluster.coordinatorStats().quorumFailures();
            clockRefusals += hlc.refusals();
            clockUnsafeWrites += cluster.coordinatorStats().clockUnsafe();
            var exchange = cluster.exchangeTotals();
            exchangeRounds += exchange.rounds();
            exchangeRoundsClean += exchange.roundsClean();
            keysPushed += exchange.keysPushed();
            keysFetched += exchange.keysFetched();
            purgesHeld += replica.stats().purgesHeld();
            tombstonesPurged += replica.stats().tombstonesPurged();
            expiredPurged += replica.stats().expiredRecordsPurged();
            corruptFound += replica.stats().corruptFound();
            corruptRepaired += replica.stats().corruptRepaired();
            paxos = io.cairn.cluster.PaxosStats.sum(List.of(paxos, cluster.paxosStats()));
            moves = moves.plus(cluster.moveStats());
        }
    }

    @Override
    public String toString() {
        return "n" + id + "#" + incarnation + (cluster != null && cluster.shards().size() > 1 ? "x" + cluster.shards().size() : "")
                + (up ? "" : "(down)");
    }
}
