package io.cairn.cluster;

import io.cairn.clock.ClockMonitor;
import io.cairn.clock.HybridClock;
import io.cairn.clock.Version;
import io.cairn.error.ErrorCode;
import io.cairn.invariant.Invariant;
import io.cairn.message.Message;
import io.cairn.message.Message.PaxosRequest.Phase;
import io.cairn.message.Message.PaxosResponse;
import io.cairn.message.Protocol;
import io.cairn.message.RequestIds;
import io.cairn.namespace.Namespace;
import io.cairn.paxos.PaxosState;
import io.cairn.placement.PartitionMap;
import io.cairn.record.Record;
import io.cairn.request.Answer;
import io.cairn.request.Condition;
import io.cairn.request.Op;
import io.cairn.request.OpResult;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The proposer of per-key Paxos, in the manner of Cassandra's lightweight transactions: every
 * conditional write and every serial read of a key is a round of prepare, propose and commit
 * among the key's replicas, so conditional writes are linearizable whatever coordinator runs them.
 *
 * <p><b>A round.</b> (1) <em>Prepare</em>: a fresh ballot (a hybrid-clock version of this node,
 * issued under the version ceiling, so never reused across restarts) goes to every replica the
 * partition's writes go to; each promises it unless it promised a higher one, and answers with the
 * proposal it accepted and has not seen committed, the ballot of the newest commit it applied,
 * and the key's stored record. A majority of every replica set (the owners, and the next set while
 * the partition moves) must promise. (2) If a promise carries an accepted proposal newer than
 * every commit seen, an earlier round may have chosen it: this round proposes and commits that
 * record first (keeping its version), then starts over. (3) Otherwise the newest record among the
 * promises is the key's current value: a serial read answers it; a write checks its condition
 * against it and, when it holds, proposes its new record, stamped with the ballot. (4)
 * <em>Propose</em>: once a majority of every set accepts, the record is chosen. (5) <em>Commit</em>:
 * replicas store the record through the ordinary write path and note the commit; the client is
 * answered once a majority of every set has, or at the commit timeout (the record is chosen: every
 * later round finishes it). In a {@code serial} namespace the client is answered as soon as the
 * record is chosen, and the commit goes on behind the answer: every read there is a round whose
 * prepare meets the accepting majority and finishes the chosen proposal before it answers, so no
 * reader can miss it, and the operation still holds its key's queue on this node until its commit
 * ends, so this node's next round of the key starts after it as before. (In a {@code quorum}
 * namespace a plain read at R=quorum reads records only, and could miss a record not yet
 * committed on a majority.)
 *
 * <p><b>The record's version.</b> A write's record is stamped with the ballot of the round that
 * first proposes it, and keeps that version in every later round of the operation while it is
 * still above the key's current record: proposing the very same record again can never apply the
 * write twice, whatever became of the earlier proposal. An idempotent request's writes are stamped
 * before they run and their claim keeps the versions ({@code ClusterRequests}), so every attempt,
 * through any node, proposes the same record. Either way a record proposed is always newer than
 * the key's current one, so records chosen later carry higher versions, last-writer-wins agrees
 * with Paxos order, and a quorum read sees what serial rounds wrote. A ballot not above the key's
 * stored record (a plain write stamped later, in a {@code quorum} namespace) is replaced by a
 * higher one at once; a version no longer above it is given up for the round's ballot (an
 * idempotent request's is refused instead, {@value #STALE_STAMP}: its claim needs the new one).
 *
 * <p><b>Failure.</b> A round refused by a higher promise, or short of a majority, starts over
 * after a randomized backoff, until the operation's deadline. What the client hears then depends
 * on what this proposer did: nothing of its own was proposed — {@code contention} (refused by
 * other proposers) or {@code quorum_unavailable}, both of which changed nothing; its record was
 * proposed and may have been accepted somewhere — {@code outcome_unknown}, because a later round
 * may still finish it. A round after such a proposal that finds one of the operation's records
 * current (a retry may have proposed several), or among the last commits a replica remembers
 * (another round finished it, and more may have been written since), answers success. One that finds a record newer than
 * the first of them answers {@code outcome_unknown}: a proposal was either chosen and written over,
 * or never chosen, and writing it again could apply it twice. One that finds an older record knows
 * no proposal was chosen (a prepare majority meets every accept
 * majority, and a commit's record is stored before the commit is noted): it decides afresh,
 * proposing the same record again when the condition holds, and answers {@code outcome_unknown}
 * when it no longer does (the stray proposal may yet be finished by another round). A write
 * resumed from an idempotent request's claim starts out counting its stamped record as proposed.
 *
 * <p><b>Ruling a proposal out.</b> Before answering {@code outcome_unknown} for either reason, a
 * round waits (up to its timeout) for every replica's promise. When all of them promised, none
 * lists one of this operation's records among its commits while each would list it if it had
 * applied it ({@code PaxosState#remembers}: newer than every commit it dropped), and no accepted
 * proposal is newer than the newest commit, then none of the proposals was chosen, nor can be:
 * a chosen record is committed, and its commit noted where a later round's prepare sees it (which
 * syncs it), before any other record can be chosen; an accepted proposal below a commit of another
 * record can never be finished. The operation then decides afresh ({@code 412} or a new proposal)
 * instead of answering unknown.
 *
 * <p><b>One operation per key at a time.</b> Operations on one key that this proposer runs go one
 * after the other, in arrival order: an operation arriving while another on its key runs waits
 * for it to end (its deadline still runs; if it passes first, the answer is {@code contention},
 * nothing having been proposed). Two of this node's own operations would only duel for the same
 * replicas' promises, each overtaking the other's proposal, which is where unknown outcomes come
 * from; queued, the second decides on what the first left (a {@code 412} when the first changed
 * the version it expected). Rounds of different keys, and of other proposers, are not held up.
 *
 * <p><b>Leases: the next write skips its prepare.</b> A proposal that is not moving a partition
 * carries a second, higher ballot from this node ({@code next}); a replica that accepts the
 * proposal promises that ballot with it, in the same synced state write. Once a majority accepted,
 * the proposal is chosen and a majority promised {@code next} while the newest proposal any of
 * them had accepted was that record: exactly what a prepare at {@code next} would have found. So
 * this node's next write of the key (in the same membership epoch, to the same replicas) proposes
 * at {@code next} straight away, its condition checked against the record the lease's proposal
 * chose: one round trip and one synced state write per replica fewer. If another proposer
 * prepared the key since, the majority that promised it refuses, the lease is lost and a full
 * round follows (before anything of the write was accepted at a majority). A plain write of the
 * key (a {@code quorum} namespace) may have come between too: a lease proposal names the version
 * its lease was taken on ({@code expected}) and a replica whose stored record is newer refuses it,
 * so with W a majority some replica of every accepting majority would refuse; and a plain write
 * through this node, or a causal token the lease's ballot is not newer than, ends the lease before
 * use, so a later write never gets an older version than one this node stamped or was shown. A
 * lease is not taken on a key another node wrote or prepared in the last {@value #CONTESTED_MILLIS}
 * ms (it would likely be lost, and a lost proposal may still have been accepted somewhere), nor
 * after a contended round; at most {@code cluster.paxos.leaseKeys} are kept, least recently used
 * dropped first, any round of the key uses or drops it, and one whose ballot is more than
 * {@value #LEASE_MILLIS} ms old is not used (the write would be stamped with a time long past). A
 * 412 is never decided under a lease.
 *
 * <p>Single-threaded, driven by its node.
 */
final class Paxos {
    private final int self;
    private final HybridClock clock;
    private final ClockMonitor clockMonitor;
    private final VersionCeiling versions;
    private final Transport transport;
    private final Scheduler scheduler;
    private final FailureDetector detector;
    private final RequestIds ids;
    private final PaxosAcceptor acceptor;
    private final Supplier<PartitionMap> map;
    private final LongSupplier epoch;
    // The namespace with an id as this node defines it at its current epoch (null: not served).
    private final java.util.function.IntFunction<Namespace> namespaces;
    private final PaxosSettings settings;
    private final SplittableRandom random;
    // Request id of the phase in flight → its operation.
    private static final int[] NONE = new int[0];
    private final Map<Long, Operation> inFlight = new HashMap<>();
    // Turns the first peer a bare-majority phase goes to, so the load spreads over the replicas.
    private long rotation;
    // Paxos requests sent to each peer that it has not answered yet (absent: none). A bare-majority
    // phase goes to the live peers with the fewest, so a peer whose threads are slow to get a core
    // (or a disk slow to sync) is given fewer phases to hold up until the hedge. An answer that never
    // comes is forgotten when its phase times out, the peer is seen down or no phase is in flight.
    private final Map<Integer, Integer> unanswered = new HashMap<>();
    // A key with an operation running → the operations waiting for it, in arrival order.
    private final Map<KeyId, java.util.ArrayDeque<Operation>> waiting = new HashMap<>();
    // Keys whose next write through this node may skip its prepare, least recently used first (at
    // most settings.leaseKeys()): see Lease.
    private final java.util.LinkedHashMap<KeyId, Lease> leases = new java.util.LinkedHashMap<>(16, 0.75f, true);
    // Keys another proposer (or a plain write) recently came between this node's rounds of → until
    // when no lease is taken on them, least recently used first (at most settings.leaseKeys()). A
    // proposal under a lease on such a key would likely be refused, and a refused proposal may
    // still have been accepted somewhere, which is where unknown outcomes come from.
    private final java.util.LinkedHashMap<KeyId, Long> contested = new java.util.LinkedHashMap<>(16, 0.75f, true);
    /** How long a key stays {@link #contested} after a round of it was refused or a lease of it lost. */
    static final long CONTESTED_MILLIS = 10_000;
    /** How long after its ballot was issued a lease may be used: its write is stamped with that ballot. */
    static final long LEASE_MILLIS = 5_000;
    private final PaxosStats stats = new PaxosStats();

    Paxos(int self, HybridClock clock, ClockMonitor clockMonitor, VersionCeiling versions, Transport transport, Scheduler scheduler,
          FailureDetector detector, RequestIds ids, PaxosAcceptor acceptor, Supplier<PartitionMap> map, LongSupplier epoch,
          java.util.function.IntFunction<Namespace> namespaces, PaxosSettings settings) {
        this.self = self;
        this.clock = clock;
        this.clockMonitor = clockMonitor;
        this.versions = versions;
        this.transport = transport;
        this.scheduler = scheduler;
        this.detector = detector;
        this.ids = ids;
        this.acceptor = acceptor;
        this.map = map;
        this.epoch = epoch;
        this.namespaces = namespaces;
        this.settings = settings;
        this.random = new SplittableRandom(clock.lastTimestamp() * 31 + self);
    }

    PaxosStats stats() {
        return stats;
    }

    int pending() {
        return inFlight.size();
    }

    /** A linearizable put or delete of one key, under its condition (none: an unconditional serial write). */
    void write(Namespace ns, Op op, Consumer<Answer> done) {
        write(ns, op, (Version) null, done);
    }

    /**
     * A linearizable put or delete whose record must be newer than the client's causal token
     * {@code after} (null: none), which the coordinator's clock has already moved past.
     */
    void write(Namespace ns, Op op, Version after, Consumer<Answer> done) {
        Invariant.check(op instanceof Op.Put || op instanceof Op.Delete, "a paxos write of %s", op);
        Operation o = new Operation(ns, op.key(), op, done, clock.physicalMillis() + settings.timeoutMillis());
        o.after = after;
        begin(o);
    }

    /**
     * A linearizable write whose record's version was issued before it runs: an idempotent
     * request's, kept in its claim so that every attempt proposes the very same record (see
     * {@code ClusterRequests}). {@code resumed}: an earlier attempt may have proposed it, so this
     * one treats it as its own from the start. When the key holds a record stamped at or after
     * {@code version}, the write cannot be that record: the answer is {@code contention} with
     * {@code cause} {@value #STALE_STAMP}, nothing of it proposed or left to be chosen, and the
     * request needs a new version.
     */
    void write(Namespace ns, Op op, Version version, boolean resumed, Consumer<Answer> done) {
        Invariant.check(op instanceof Op.Put || op instanceof Op.Delete, "a paxos write of %s", op);
        Operation o = new Operation(ns, op.key(), op, done, clock.physicalMillis() + settings.timeoutMillis());
        o.stamp = version;
        o.pinned = true;
        // Ballots must be above the record's version (an acceptor refuses a proposal newer than its ballot).
        clock.observePeer(version.timestamp());
        if (resumed) {
            o.mine.add(record(o, version));
        }
        begin(o);
    }

    /** The {@code cause} of a {@code contention} answer to a {@linkplain #write(Namespace, Op, Version, boolean, Consumer) stamped write} the key has outgrown. */
    static final String STALE_STAMP = "stale_stamp";

    /** A linearizable read of one key: what the last chosen write left, after finishing any round in progress. */
    void read(Namespace ns, byte[] key, Consumer<Answer> done) {
        begin(new Operation(ns, key, null, done, clock.physicalMillis() + settings.timeoutMillis()));
    }

    private void begin(Operation o) {
        if (o.op != null) {
            ClockMonitor.Unsafe unsafe = clockMonitor.unsafe();
            if (unsafe != null) {
                o.done.accept(Answer.failed(ErrorCode.CLOCK_UNSAFE, unsafe.reason(), Map.of("offsetMillis", unsafe.offsetMillis())));
                return;
            }
        }
        stats.started++;
        java.util.ArrayDeque<Operation> queue = waiting.get(o.keyId);
        if (queue != null) {
            stats.queued++;
            queue.add(o);
            scheduler.schedule(Math.max(0, o.deadline - clock.physicalMillis()), () -> {
                if (!o.running && !o.finished) {
                    stats.contended++;
                    finish(o, Answer.failed(ErrorCode.CONTENTION, "earlier operations on this key through this node did not end in time; "
                            + "nothing was changed, retry after a pause", Map.of("attempts", 0, "retryAfterMillis", settings.maxBackoffMillis())));
                }
            });
            return;
        }
        waiting.put(o.keyId, new java.util.ArrayDeque<>());
        o.running = true;
        attempt(o);
    }

    /** After the operation running on {@code key} ended: starts the next one waiting, if any. */
    private void startNext(KeyId key) {
        java.util.ArrayDeque<Operation> queue = waiting.get(key);
        Operation next = queue == null ? null : queue.poll();
        while (next != null && next.finished) {
            next = queue.poll();
        }
        if (next == null) {
            waiting.remove(key);
            return;
        }
        Operation o = next;
        o.running = true;
        // From the scheduler, not from inside the answer of the one that ended.
        scheduler.schedule(0, () -> attempt(o));
    }

    /** One round: a fresh ballot, then prepare. */
    private void attempt(Operation o) {
        if (o.finished) {
            return;
        }
        if (clock.physicalMillis() >= o.deadline) {
            giveUp(o);
            return;
        }
        // Each round decides by the namespace's class at the epoch its messages carry: one begun
        // before this node applied a change to serial must not, on a retry after it, run the old
        // class's rules under the new epoch that replicas accept (the simulator found a serial read
        // answering a stray that way). Epoch and class are taken together, here, for the round.
        Namespace now = namespaces.apply(o.ns.id());
        if (now != null) {
            o.ns = now;
        }
        o.epoch = epoch.getAsLong();
        int partition = o.ns.partitionOf(o.key);
        PartitionMap m = map.get();
        int[][] groups = m.writeGroups(partition);
        for (int[] group : groups) {
            int alive = 0;
            for (int n : group) {
                if (n == self || detector.isAlive(n)) {
                    alive++;
                }
            }
            if (alive < group.length / 2 + 1) {
                o.lastShortfall = alive + " of " + group.length + " replicas of partition " + partition + " are reachable; a round needs "
                        + (group.length / 2 + 1);
                if (o.mine.isEmpty()) {
                    finish(o, Answer.failed(ErrorCode.QUORUM_UNAVAILABLE, o.lastShortfall,
                            Map.of("reachable", alive, "replicas", group.length)));
                } else {
                    backoff(o);
                }
                return;
            }
        }
        // Any round of the key ends this node's lease on it: used now, or overtaken by the prepare.
        Lease lease = leases.remove(o.keyId);
        if (lease != null && underLease(o, lease, groups, m.writeTargets(partition))) {
            return;
        }
        versions.next(ballot -> {
            if (!o.finished) {
                o.ballot = ballot;
                o.groups = groups;
                o.targets = m.writeTargets(partition);
                send(o, Phase.PREPARE, null);
            }
        }, failure -> {
            if (!o.mine.isEmpty()) {
                o.lastShortfall = "could not store the version ceiling: " + failure.getMessage();
                backoff(o);
            } else {
                finish(o, Answer.failed(ErrorCode.STORAGE_FAILED, "could not store the version ceiling: " + failure.getMessage(), Map.of()));
            }
        });
    }

    /**
     * Proposes the write under {@code lease}, skipping the prepare, when it may: the operation's
     * first round, the replicas the same as when the lease was taken and the partition not moving,
     * in the same membership epoch, and its condition holding against the record the lease's
     * proposal chose. False when it may not (the caller runs a full round).
     *
     * <p>Why this is a round: the replicas that accepted the lease's proposal promised its ballot
     * with it, atomically, so a majority promised it while the newest proposal any of them had
     * accepted was that chosen record. No other record can be chosen under a lower ballot (its
     * majority would meet one of them), and one chosen under a higher ballot was promised at a
     * majority that now refuses this proposal. So when a majority accepts it, the lease's record
     * was the key's value up to this write, and the condition was checked against it. A replica
     * holding a newer record (a plain write since, in a {@code quorum} namespace) refuses too.
     */
    private boolean underLease(Operation o, Lease lease, int[][] groups, int[] targets) {
        if (o.op == null || !o.mine.isEmpty() || o.attempts > 0 || lease.epoch() != o.epoch || !java.util.Arrays.equals(lease.targets(), targets)
                || groups.length != 1 || groups[0].length != targets.length) {
            return false;
        }
        long now = clock.physicalMillis();
        if (now - lease.ballot().physicalMillis() > LEASE_MILLIS) {
            // Its ballot would stamp the record with a time long past (tombstone ages, ETags).
            return false;
        }
        Version version = o.stamp != null ? o.stamp : lease.ballot();
        if (version.isNewerThan(lease.ballot()) || !version.isNewerThan(lease.chosen().version())
                || o.after != null && !version.isNewerThan(o.after)) {
            // A stamp above the lease's ballot (issued since), or not above the record, or a causal
            // token the lease's ballot is not newer than: a full round, whose ballot is.
            return false;
        }
        Condition condition = o.op instanceof Op.Put p ? p.condition() : ((Op.Delete) o.op).condition();
        if (!condition.holds(lease.chosen(), now)) {
            // A 412 must be decided by a round: the lease's record may no longer be the key's.
            return false;
        }
        stats.leased++;
        o.ballot = lease.ballot();
        o.groups = groups;
        o.targets = targets;
        o.leased = true;
        o.stamp = version;
        // Expires its TTL from now, not from the lease's ballot, which may be older.
        Record record = o.pinned ? record(o, version) : record(o, version, now);
        o.mine.add(record);
        propose(o, record, lease.chosen().version());
        return true;
    }

    /**
     * Proposes this operation's own record ({@code expected}: under a lease, the version of the
     * record the lease was taken on; else null), with a lease on the key's next write through
     * this node when the partition is not moving.
     */
    private void propose(Operation o, Record record, Version expected) {
        if (settings.leaseKeys() == 0 || o.groups.length != 1 || o.groups[0].length != o.targets.length) {
            send(o, Phase.PROPOSE, record, null, expected);
            return;
        }
        versions.next(next -> {
            if (!o.finished) {
                send(o, Phase.PROPOSE, record, next, expected);
            }
        }, failure -> {
            if (!o.finished) {
                send(o, Phase.PROPOSE, record, null, expected);
            }
        });
    }

    /**
     * Another proposer prepared a round of the key (this node's replica saw it): the lease this
     * node holds on it, if any, is overtaken, and none is taken for a while.
     */
    void contested(int namespace, byte[] key) {
        KeyId id = new KeyId(namespace, java.nio.ByteBuffer.wrap(key));
        leases.remove(id);
        contest(id);
    }

    private void contest(KeyId id) {
        contested.put(id, clock.physicalMillis() + CONTESTED_MILLIS);
        dropBeyondLeaseKeys(contested);
    }

    /** Drops the least recently used entry of an access-ordered map once it holds more than {@code leaseKeys}. */
    private void dropBeyondLeaseKeys(java.util.LinkedHashMap<KeyId, ?> lru) {
        if (lru.size() > settings.leaseKeys()) {
            java.util.Iterator<KeyId> eldest = lru.keySet().iterator();
            eldest.next();
            eldest.remove();
        }
    }

    /** The replicas that accepted {@code o}'s proposal promised its lease ballot with it: the key's next write may skip its prepare. */
    private void takeLease(Operation o) {
        Long until = contested.get(o.keyId);
        if (o.contended || o.sharedKey || (until != null && until > clock.physicalMillis())) {
            return;
        }
        contested.remove(o.keyId);
        Record chosen = o.proposing;
        // The record as a condition sees it (version, expiry, tombstone): its value is not needed.
        Record shape = chosen.tombstone() ? Record.tombstone(chosen.version())
                : Record.value(chosen.version(), chosen.expiresAtMillis(), chosen.contentType(), NO_BYTES);
        leases.put(o.keyId, new Lease(o.next, shape, o.epoch, o.targets));
        dropBeyondLeaseKeys(leases);
    }

    private static final byte[] NO_BYTES = new byte[0];

    private void send(Operation o, Phase phase, Record record) {
        send(o, phase, record, null, null);
    }

    private void send(Operation o, Phase phase, Record record, Version next, Version expected) {
        o.phase = phase;
        o.next = next;
        o.awaitingAll = false;
        o.waited = false;
        o.proposing = phase == Phase.PREPARE ? null : record;
        o.replies.clear();
        long id = ids.next(Protocol.PAXOS);
        o.requestId = id;
        if (inFlight.isEmpty()) {
            // Nothing awaits an answer: what is counted is answers to finished phases, some never
            // to come (lost with a connection). Forgotten here, so they cannot skew the choice for good.
            unanswered.clear();
        }
        inFlight.put(id, o);
        Message.PaxosRequest request = new Message.PaxosRequest(phase, o.epoch, id, o.ns.id(), o.key, o.ballot, record, next, expected);
        o.request = request;
        int[] first = firstWave(o, phase);
        o.unsent = first == o.targets ? NONE : without(o.targets, first);
        dispatch(o, request, first);
        if (o.requestId == id && o.unsent.length > 0) {
            scheduler.schedule(settings.hedgeMillis(), () -> {
                if (o.requestId == id && inFlight.containsKey(id)) {
                    sendRest(o);
                }
            });
        }
        long timeout = settings.roundTimeoutMillis();
        scheduler.schedule(timeout, () -> {
            if (inFlight.remove(id) != null) {
                phaseTimedOut(o, phase);
            }
        });
    }

    /**
     * Whom a phase goes to first. A prepare or a proposal of a partition that is not moving goes
     * to a bare majority — this replica and the next live ones, in turn — which is all it needs
     * when they answer; the others get it too if one of them refuses or fails, or after the
     * hedge. A commit goes to every replica (it is how they all get the record), and so does the
     * prepare of an operation that proposed before (ruling its proposals out needs every promise).
     */
    private int[] firstWave(Operation o, Phase phase) {
        if (phase == Phase.COMMIT || o.groups.length != 1 || o.groups[0].length != o.targets.length
                || (phase == Phase.PREPARE && !o.mine.isEmpty())) {
            return o.targets;
        }
        int[] group = o.groups[0];
        int need = group.length / 2 + 1;
        int[] first = new int[need];
        int n = 0;
        if (contains(group, self)) {
            first[n++] = self;
        }
        int start = (int) Math.floorMod(rotation++, (long) group.length);
        while (n < need) {
            // The live peer not yet picked with the fewest unanswered requests; among equals, the
            // first in turn from this phase's starting point.
            int best = -1;
            int bestUnanswered = Integer.MAX_VALUE;
            for (int i = 0; i < group.length; i++) {
                int peer = group[(start + i) % group.length];
                if (peer == self || contains(first, n, peer)) {
                    continue;
                }
                if (!detector.isAlive(peer)) {
                    unanswered.remove(peer);
                    continue;
                }
                int pending = unanswered.getOrDefault(peer, 0);
                if (pending < bestUnanswered) {
                    best = peer;
                    bestUnanswered = pending;
                }
            }
            if (best < 0) {
                return o.targets;
            }
            first[n++] = best;
        }
        return first;
    }

    private static boolean contains(int[] nodes, int count, int node) {
        for (int i = 0; i < count; i++) {
            if (nodes[i] == node) {
                return true;
            }
        }
        return false;
    }

    private void answered(int peer) {
        unanswered.computeIfPresent(peer, (p, pending) -> pending > 1 ? pending - 1 : null);
    }

    /** The phase in flight goes to the replicas it has not gone to yet. */
    private void sendRest(Operation o) {
        int[] rest = o.unsent;
        o.unsent = NONE;
        stats.widened++;
        dispatch(o, o.request, rest);
    }

    private void dispatch(Operation o, Message.PaxosRequest request, int[] to) {
        boolean toSelf = false;
        for (int target : to) {
            if (target == self) {
                toSelf = true;
            } else {
                unanswered.merge(target, 1, Integer::sum);
                transport.send(target, request);
            }
        }
        if (toSelf) {
            // Last: this replica may answer before the call returns.
            acceptor.onRequest(o.ns, o.ns.partitionOf(o.key), request, r -> onResponse(self, r));
        }
    }

    private static int[] without(int[] all, int[] some) {
        int[] rest = new int[all.length - some.length];
        int n = 0;
        for (int node : all) {
            if (!contains(some, node)) {
                rest[n++] = node;
            }
        }
        return rest;
    }

    /** A replica's answer; anything that does not match a phase in flight from that replica is dropped. */
    void onResponse(int from, PaxosResponse r) {
        if (from != self) {
            answered(from);
        }
        Operation o = inFlight.get(r.requestId());
        if (o == null || r.phase() != o.phase || !contains(o.targets, from) || o.replies.containsKey(from)) {
            return;
        }
        o.replies.put(from, r);
        if (!r.ok() && o.unsent.length > 0) {
            // Refused or failed: the majority sent to will not do; ask the others at once.
            sendRest(o);
        }
        if (!r.ok() && r.promised() != null) {
            // A higher promise: the next ballot must be above it.
            clock.observePeer(r.promised().timestamp());
        }
        if (r.phase() == Phase.PREPARE && r.ok()) {
            Record current = r.current();
            if (current != null) {
                clock.observePeer(current.version().timestamp());
            }
        }
        if (o.awaitingAll) {
            // Promised already; waiting for the rest to rule this operation's proposals out.
            if (!r.ok() || o.replies.size() == o.targets.length) {
                inFlight.remove(r.requestId());
                o.awaitingAll = false;
                onPromised(o);
            }
            return;
        }
        Boolean decided = decided(o);
        if (decided == null) {
            return;
        }
        inFlight.remove(r.requestId());
        if (decided) {
            switch (o.phase) {
                case PREPARE -> onPromised(o);
                case PROPOSE -> {
                    if (o.next != null && !o.finishing) {
                        takeLease(o);
                    }
                    if (o.ns.serial() && !o.finishing) {
                        // Chosen, and every read of a serial namespace finishes it (class comment).
                        o.answered = true;
                        stats.answeredChosen++;
                        o.done.accept(written(o.proposing, acks(o)));
                    }
                    send(o, Phase.COMMIT, o.proposing);
                }
                case COMMIT -> onCommitted(o);
            }
        } else {
            phaseFailed(o, o.phase);
        }
    }

    /**
     * True once every replica set has a majority of ok answers, false once some set can no longer
     * get one, null while it may.
     */
    private Boolean decided(Operation o) {
        boolean all = true;
        for (int[] group : o.groups) {
            int majority = group.length / 2 + 1;
            int ok = 0;
            int no = 0;
            for (int n : group) {
                PaxosResponse r = o.replies.get(n);
                if (r != null) {
                    if (r.ok()) {
                        ok++;
                    } else {
                        no++;
                    }
                }
            }
            if (group.length - no < majority) {
                return false;
            }
            all &= ok >= majority;
        }
        return all ? Boolean.TRUE : null;
    }

    private void onPromised(Operation o) {
        Version newestCommit = null;
        PaxosResponse inProgress = null;
        Record current = null;
        for (PaxosResponse r : o.replies.values()) {
            if (!r.ok()) {
                continue;
            }
            for (Version v : r.recent()) {
                Record ours = o.proposal(v);
                if (ours != null) {
                    // An earlier proposal of this operation was committed (another round may
                    // have finished it), whatever was written since.
                    stats.foundCommitted++;
                    succeed(o, ours, 0);
                    return;
                }
            }
            newestCommit = max(newestCommit, r.committed());
            if (r.ballot() != null && (inProgress == null || r.ballot().isNewerThan(inProgress.ballot()))) {
                inProgress = r;
            }
            if (r.current() != null && (current == null || r.current().version().isNewerThan(current.version()))) {
                current = r.current();
            }
        }
        if (inProgress != null && (newestCommit == null || inProgress.ballot().isNewerThan(newestCommit))) {
            // An earlier round may have chosen this record: finish it first, keeping its version.
            stats.finished++;
            o.finishing = true;
            send(o, Phase.PROPOSE, inProgress.accepted());
            return;
        }
        o.finishing = false;
        // Another node wrote the key's record: others write this key, so a lease on it would
        // likely be overtaken.
        o.sharedKey = current != null && current.version().nodeId() != self;
        if (current != null && current.version().compareTo(o.ballot) >= 0) {
            // A record stamped at or above this ballot (a plain write): start over above it.
            stats.restarted++;
            attempt(o);
            return;
        }
        Record ours = current == null ? null : o.proposal(current.version());
        if (ours != null) {
            succeed(o, ours, 0);
            return;
        }
        if (o.ns.serial() && current != null && stray(o, current)) {
            // A record no round chose, on some of the promising replicas only: finish it as the
            // key's value (keeping its version) before deciding anything on it, so that no later
            // round, whichever majority it hears, can miss what this one saw.
            stats.strays++;
            o.finishing = true;
            send(o, Phase.PROPOSE, current);
            return;
        }
        if (!o.mine.isEmpty() && current != null && current.version().isNewerThan(o.mine.get(0).version()) && !ruledOut(o)) {
            if (o.awaitingAll || retriedToRuleOut(o)) {
                return;
            }
            // An earlier round's proposal of this write was either chosen and then written over,
            // or never chosen: which, nobody can tell. Writing it again could apply it twice.
            stats.unknown++;
            finish(o, Answer.failed(ErrorCode.OUTCOME_UNKNOWN, "this write was proposed, and the key has since been written by another "
                    + "operation; whether this one took effect first is unknown", Map.of()));
            return;
        }
        long now = clock.physicalMillis();
        if (o.op == null) {
            finish(o, Answer.read(current != null && current.isLiveAt(now) ? new OpResult.Found(current) : new OpResult.NotFound(),
                    o.replies.size()));
            return;
        }
        Condition condition = o.op instanceof Op.Put p ? p.condition() : ((Op.Delete) o.op).condition();
        if (!condition.holds(current, now)) {
            if (!o.mine.isEmpty() && !ruledOut(o)) {
                if (o.awaitingAll || retriedToRuleOut(o)) {
                    return;
                }
                stats.unknown++;
                finish(o, Answer.failed(ErrorCode.OUTCOME_UNKNOWN, "an earlier round's proposal of this write may still be chosen; "
                        + "read the key to learn whether it was", Map.of()));
                return;
            }
            stats.conditionFailed++;
            finish(o, Answer.of(new OpResult.PreconditionFailed(current != null && current.isLiveAt(now) ? current.version() : null)));
            return;
        }
        // The operation's record keeps the version it was first proposed (or stamped) with while
        // that is above the key's: proposing the very same record again cannot apply it twice.
        // (Here every earlier proposal of it is either that record or ruled out: see above.)
        Version version = o.stamp;
        if (version != null && current != null && !version.isNewerThan(current.version())) {
            Invariant.check(o.mine.isEmpty(), "proposals of %s left while the key is past its version", o);
            if (o.pinned) {
                stats.staleStamps++;
                finish(o, Answer.failed(ErrorCode.CONTENTION, "the key was written at a version newer than the one this request was stamped "
                        + "with; nothing was changed, retry", Map.of("cause", STALE_STAMP, "retryAfterMillis", settings.minBackoffMillis())));
                return;
            }
            version = null;
        }
        if (version == null) {
            version = o.ballot;
        }
        o.stamp = version;
        Record record = o.proposal(version);
        if (record == null) {
            record = record(o, version);
            o.mine.add(record);
        }
        propose(o, record, null);
    }

    /**
     * Whether {@code current}, the newest record {@code o}'s promises carry, is one no round
     * chose and some promising replica lacks. In a {@code serial} namespace that is the record of
     * a plain write: one made while the namespace was {@code quorum} that has not reached every
     * replica yet, or one a coordinator that had not applied the change yet wrote to its own
     * replica (the other replicas refuse it, see {@code ClusterNode}). Answered as it is, a read
     * could return it from one majority and the next read miss it from another. A replica that
     * applied a commit of the record lists it among its recent commits; one whose list could
     * have dropped it makes the record count as chosen.
     */
    private static boolean stray(Operation o, Record current) {
        boolean everyone = true;
        for (PaxosResponse r : o.replies.values()) {
            if (!r.ok()) {
                continue;
            }
            if (r.recent().contains(current.version())) {
                return false;
            }
            if (r.current() == null || !r.current().version().equals(current.version())) {
                everyone = false;
            } else if (!PaxosState.wouldList(r.dropped(), current.version())) {
                return false;
            }
        }
        return !everyone;
    }

    /** The record {@code o} writes when stamped {@code version}, its TTL counted from the version's time. */
    private static Record record(Operation o, Version version) {
        return record(o, version, version.physicalMillis());
    }

    /** The record {@code o} writes when stamped {@code version}, its TTL counted from {@code fromMillis}. */
    private static Record record(Operation o, Version version, long fromMillis) {
        return switch (o.op) {
            case Op.Put p -> Coordinator.valueRecord(o.ns, version, p.value(), p.contentType(), p.ttlMillis(), fromMillis);
            case Op.Delete d -> Record.tombstone(version);
            default -> throw Invariant.violated("a paxos write of %s", o.op);
        };
    }

    /**
     * Whether this round's promises prove that none of the operation's proposals was chosen or can
     * still be (see the class comment), after which it forgets them. When they do not yet because
     * some replicas have not answered, and none refused, the round waits for them (once; it ends at
     * the round's timeout): {@link Operation#awaitingAll} is set, and the caller returns.
     */
    private boolean ruledOut(Operation o) {
        boolean allOk = true;
        for (int target : o.targets) {
            PaxosResponse r = o.replies.get(target);
            if (r == null || !r.ok()) {
                allOk = false;
                if (r != null) {
                    return false;
                }
            }
        }
        if (!allOk) {
            if (!o.waited) {
                o.waited = true;
                o.awaitingAll = true;
                inFlight.put(o.requestId, o);
            }
            return false;
        }
        for (PaxosResponse r : o.replies.values()) {
            for (Record mine : o.mine) {
                if (r.recent().contains(mine.version()) || !PaxosState.wouldList(r.dropped(), mine.version())) {
                    return false;
                }
            }
        }
        stats.ruledOut++;
        o.mine.clear();
        return true;
    }

    /**
     * When {@link #ruledOut} could not decide because a replica refused this round's prepare for a
     * rival's higher ballot (it is alive, so a later round may hear every replica promise): backs
     * off and tries another round, as any refused round does, rather than answer that the outcome
     * is unknown; at the operation's deadline it is answered unknown all the same. Not when a
     * replica did not answer: a replica that is down would make every round fall short, and the
     * client would wait out the deadline for the same answer. Returns whether it retried.
     */
    private boolean retriedToRuleOut(Operation o) {
        boolean refused = false;
        for (int target : o.targets) {
            PaxosResponse r = o.replies.get(target);
            if (r == null) {
                return false;
            }
            refused |= !r.ok() && r.promised() != null;
        }
        if (!refused) {
            return false;
        }
        stats.ruleOutRetries++;
        o.contended = true;
        contest(o.keyId);
        backoff(o);
        return true;
    }

    /** How many replicas answered the phase in flight with an ok. */
    private static int acks(Operation o) {
        return (int) o.replies.values().stream().filter(PaxosResponse::ok).count();
    }

    private void onCommitted(Operation o) {
        int acks = acks(o);
        if (o.finishing) {
            o.finishing = false;
            Record ours = o.proposal(o.proposing.version());
            if (ours != null) {
                succeed(o, ours, acks);
            } else {
                attempt(o);
            }
            return;
        }
        succeed(o, o.proposing, acks);
    }

    private void succeed(Operation o, Record written, int acks) {
        stats.committed++;
        finish(o, written(written, acks));
    }

    private static Answer written(Record written, int acks) {
        OpResult result = written.tombstone() ? new OpResult.Deleted(written.version()) : new OpResult.Written(written.version(), written.expiresAtMillis());
        return Answer.written(result, acks, 0);
    }

    private void phaseTimedOut(Operation o, Phase phase) {
        for (int target : o.targets) {
            if (target != self && !o.replies.containsKey(target) && !contains(o.unsent, target)) {
                answered(target); // its answer is not waited for any longer
            }
        }
        if (o.finished || o.phase != phase) {
            return;
        }
        if (o.awaitingAll) {
            // Not every replica answered: decide with the promises there are.
            o.awaitingAll = false;
            onPromised(o);
            return;
        }
        if (phase == Phase.COMMIT) {
            // Chosen: a majority accepted it; every later round finishes it.
            onCommitted(o);
            return;
        }
        phaseFailed(o, phase);
    }

    private void phaseFailed(Operation o, Phase phase) {
        boolean lostLease = phase == Phase.PROPOSE && o.leased && o.attempts == 0;
        if (lostLease) {
            // Another proposer's prepare (or a plain write) came between: a full round follows.
            stats.leaseLost++;
        }
        boolean refused = o.replies.values().stream().anyMatch(r -> !r.ok() && r.promised() != null);
        if (refused || lostLease) {
            contest(o.keyId);
        }
        if (refused) {
            o.contended = true;
        }
        if (phase == Phase.PROPOSE && !o.finishing && o.replies.size() == o.targets.length
                && o.replies.values().stream().allMatch(r -> !r.ok() && r.error() == null)) {
            // Every replica refused it for a higher promise: it was accepted nowhere. (A replica
            // that failed may have stored the acceptance before it failed.)
            o.mine.remove(o.proposing);
        }
        o.lastShortfall = phase.name().toLowerCase(java.util.Locale.ROOT) + " reached " + o.replies.values().stream().filter(PaxosResponse::ok).count()
                + " of " + o.targets.length + " replicas" + (refused ? " (refused by a higher ballot)" : "");
        if (phase == Phase.COMMIT) {
            onCommitted(o);
            return;
        }
        backoff(o);
    }

    private void backoff(Operation o) {
        o.attempts++;
        stats.retries++;
        long cap = Math.min(settings.maxBackoffMillis(), settings.minBackoffMillis() << Math.min(o.attempts, 16));
        long delay = settings.minBackoffMillis() + random.nextLong(Math.max(1, cap));
        if (clock.physicalMillis() + delay >= o.deadline) {
            giveUp(o);
            return;
        }
        scheduler.schedule(delay, () -> attempt(o));
    }

    private void giveUp(Operation o) {
        if (!o.mine.isEmpty()) {
            stats.unknown++;
            finish(o, Answer.failed(ErrorCode.OUTCOME_UNKNOWN, "no round completed in time (" + o.lastShortfall
                    + "); this write was proposed and may still be chosen", Map.of("attempts", o.attempts + 1)));
        } else if (o.contended) {
            stats.contended++;
            finish(o, Answer.failed(ErrorCode.CONTENTION, "other operations on this key kept winning (" + o.lastShortfall
                    + "); nothing was changed, retry after a pause", Map.of("attempts", o.attempts + 1, "retryAfterMillis", settings.maxBackoffMillis())));
        } else {
            finish(o, Answer.failed(ErrorCode.QUORUM_UNAVAILABLE, "no round reached a majority in time (" + o.lastShortfall
                    + "); nothing was changed", Map.of("attempts", o.attempts + 1)));
        }
    }

    private void finish(Operation o, Answer answer) {
        if (o.finished) {
            return;
        }
        o.finished = true;
        inFlight.remove(o.requestId);
        if (!o.answered) {
            o.done.accept(answer);
        }
        if (o.running) {
            o.running = false;
            startNext(o.keyId);
        }
    }

    private static Version max(Version a, Version b) {
        return a == null ? b : b == null ? a : a.compareTo(b) >= 0 ? a : b;
    }

    private static boolean contains(int[] nodes, int node) {
        for (int n : nodes) {
            if (n == node) {
                return true;
            }
        }
        return false;
    }

    /**
     * A lease on a key's next write through this node: the replicas that accepted this node's last
     * proposal of the key (a majority of {@code targets}, in membership {@code epoch}) promised
     * {@code ballot} with it, and that proposal chose {@code chosen} (kept without its value).
     */
    private record Lease(Version ballot, Record chosen, long epoch, int[] targets) {}

    /** A key of a namespace, compared by content. */
    private record KeyId(int namespace, java.nio.ByteBuffer key) {}

    /** One client operation on one key, across its rounds. */
    private static final class Operation {
        // The namespace as the current round sees it, and the epoch that round's messages carry
        // (both taken when the round begins: see attempt).
        Namespace ns;
        long epoch;
        final byte[] key;
        final Op op; // null: a serial read
        final Consumer<Answer> done;
        final long deadline;
        final KeyId keyId;
        final Map<Integer, PaxosResponse> replies = new HashMap<>();
        // The operation its key's queue let through (until it finishes).
        boolean running;
        Version ballot;
        int[][] groups;
        int[] targets;
        Phase phase;
        long requestId = -1;
        Message.PaxosRequest request;
        // Replicas the phase in flight has not gone to yet (see firstWave).
        int[] unsent = NONE;
        Record proposing;
        // The lease ballot the proposal in flight carries (null: none), and whether this operation
        // proposed under a lease (skipping its first prepare).
        Version next;
        boolean leased;
        // The client's causal token: the record must be newer (null: none).
        Version after;
        // The key's record, when its last prepare read it, was written by another node.
        boolean sharedKey;
        // The version of the record this operation proposes: stamped before it ran (pinned), or
        // its first proposal's ballot, kept while the key's record is older (null: none yet).
        Version stamp;
        boolean pinned;
        // The records this operation proposed, oldest first, each of which may have been accepted somewhere.
        final java.util.List<Record> mine = new java.util.ArrayList<>();
        boolean finishing;
        // A prepare's majority promised, and the round waits for the other replicas' promises
        // (once per round: waited) to rule this operation's proposals out.
        boolean awaitingAll;
        boolean waited;
        boolean contended;
        boolean finished;
        // The client was answered when the record was chosen (a serial namespace); the commit goes on.
        boolean answered;
        int attempts;
        String lastShortfall = "no answer";

        /** The record this operation proposed with this version, or null. */
        Record proposal(Version version) {
            for (Record r : mine) {
                if (r.version().equals(version)) {
                    return r;
                }
            }
            return null;
        }

        Operation(Namespace ns, byte[] key, Op op, Consumer<Answer> done, long deadline) {
            this.ns = ns;
            this.key = key;
            this.keyId = new KeyId(ns.id(), java.nio.ByteBuffer.wrap(key));
            this.op = op;
            this.done = done;
            this.deadline = deadline;
        }
    }
}
