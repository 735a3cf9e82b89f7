package io.cairn.cluster;

import io.cairn.clock.ClockMonitor;
import io.cairn.clock.HybridClock;
import io.cairn.error.ErrorCode;
import io.cairn.invariant.Invariant;
import io.cairn.message.Message;
import io.cairn.message.Protocol;
import io.cairn.message.RequestIds;
import io.cairn.namespace.Namespace;
import io.cairn.placement.PartitionMap;
import io.cairn.placement.Quorum;
import io.cairn.record.Record;
import io.cairn.replica.LocalStore;
import io.cairn.request.Answer;
import io.cairn.request.Op;
import io.cairn.request.OpResult;
import io.cairn.storage.Durability;
import io.cairn.storage.StorageException;
import io.cairn.clock.Version;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Coordinates client reads and writes over a partition's replicas in {@code quorum} mode
 * (leaderless, Dynamo-style). Talks to the world only through its ports.
 *
 * <p><b>Writes.</b> The coordinator stamps the record with its HLC version and sends it to all N
 * home replicas (itself through the local store). Replicas the failure detector considers down
 * get a hint at once; if fewer than W replicas are up the request fails fast with
 * {@code quorum_unavailable} and nothing is sent. The client is answered as soon as W replicas
 * acknowledged a durable store. At the deadline every replica that has not acknowledged gets a
 * durable hint; if W was not reached by then, the answer is {@code outcome_unknown}, because
 * some replica may have stored the write — never "not written".
 *
 * <p><b>Sloppy quorum</b> ({@link CoordinatorSettings#sloppyQuorum}, off by default; never for a
 * namespace with {@link Namespace#strictQuorum}). Each home
 * replica that is down is stood in for by the next live fallback of the partition's preference
 * list (not a home replica, one per down replica): it gets a {@link Message.HintedWrite}, stores
 * a durable hint for the home replica, and its acknowledgement counts toward W. Admission counts
 * live home replicas plus the fallbacks found, which is never more than N. The coordinator itself
 * may be the fallback; it then stores the hint at once. The coordinator hints a down home replica
 * itself only when no fallback took the write — none was live, it refused, or it did not answer by
 * the deadline — so a write a home replica missed is not left without a hint (short of a
 * coordinator crash before the deadline, as for any replica that does not answer). The fallback's hint
 * replay hands the write to the home replica once it is back. Reads stay on home replicas, so
 * with sloppy quorum R + W > N no longer guarantees that a read sees an acknowledged write: a
 * write acknowledged partly by fallbacks may sit on fewer than W home replicas until hand-off
 * completes. That, and one fsync per fallback hint, is why it is off by default; it buys write
 * availability while home replicas are down. Answers report how many acknowledgements came from
 * fallbacks.
 *
 * <p><b>Reads.</b> The coordinator asks every live home replica and decides once R replied
 * ({@link ReadTally}): the newest version wins (last-writer-wins; tombstones and expired records
 * take part with their versions and read as not found). Replicas in the read quorum that answered
 * with an older version or nothing are repaired before the answer (blocking read repair, bounded by
 * {@code readRepairTimeoutMillis}); replies arriving after the answer are repaired in the background.
 *
 * <p><b>Clocks.</b> A write is refused with {@code clock_unsafe}, before a version is issued, while
 * the {@link ClockMonitor} finds this node's clock off by more than the max offset: replicas would
 * refuse its versions anyway. A read reply whose record is stamped beyond the max offset ahead of
 * this node's clock ({@link HybridClock#checkPeer}) counts as a failed reply: it is never answered
 * to a client nor used to repair another replica. Refused replies count against R like any
 * failure, so a read that succeeds still overlaps every write acknowledged at W with R + W > N.
 *
 * <p><b>Failure cases.</b> Lost, delayed, duplicated and reordered messages: responses are matched
 * by request id and tallies ignore duplicates; a response for a finished request is dropped. A
 * response from a node the request was not sent to changes nothing.
 * Concurrency: single-threaded, driven by its node.
 */
final class Coordinator {
    // A clock further ahead than this of the wall clock is poisoned state; request ids then start from the wall clock.
    private static final long MAX_SEED_LEAD_MILLIS = 24 * 3_600_000L;
    private final int self;
    // Replaced by onMembership; every request routes by the map current when it starts.
    private PartitionMap map;
    private final HybridClock clock;
    private final ClockMonitor clockMonitor;
    private final VersionCeiling versions;
    private final Transport transport;
    private final Scheduler scheduler;
    private final LocalStore local;
    private final FailureDetector detector;
    private final HintStore hints;
    private final CoordinatorSettings settings;
    private final CoordinatorStats stats = new CoordinatorStats();
    // Invariant: holds exactly the requests whose timeout has not fired and that still await replies.
    private final Map<Long, PendingWrite> writes = new HashMap<>();
    private final Map<Long, PendingRead> reads = new HashMap<>();
    private final RequestIds ids;
    private final java.util.function.BiConsumer<Namespace, byte[]> writing;

    public Coordinator(int self, PartitionMap map, HybridClock clock, ClockMonitor clockMonitor, VersionCeiling versions, Transport transport,
                       Scheduler scheduler, LocalStore local, FailureDetector detector, HintStore hints, RequestIds ids, CoordinatorSettings settings) {
        this(self, map, clock, clockMonitor, versions, transport, scheduler, local, detector, hints, ids, settings, (ns, key) -> { });
    }

    /** {@code writing}: told of every key this coordinator is about to write, before its record leaves. */
    Coordinator(int self, PartitionMap map, HybridClock clock, ClockMonitor clockMonitor, VersionCeiling versions, Transport transport,
                Scheduler scheduler, LocalStore local, FailureDetector detector, HintStore hints, RequestIds ids, CoordinatorSettings settings,
                java.util.function.BiConsumer<Namespace, byte[]> writing) {
        this.writing = writing;
        this.self = self;
        this.map = map;
        this.clock = clock;
        this.clockMonitor = clockMonitor;
        this.versions = versions;
        this.transport = transport;
        this.scheduler = scheduler;
        this.local = local;
        this.detector = detector;
        this.hints = hints;
        this.settings = settings;
        this.ids = ids;
    }

    /**
     * Where a node's request ids start: above the clock, so ids from before a restart are not
     * reused (responses to them may still arrive). A clock more than a day ahead of the wall clock
     * is poisoned persisted state (the node is clock-unsafe); starting there could leave too little
     * room below {@code Long.MAX_VALUE}, so ids then start from the wall clock. Ids are never
     * negative.
     */
    public static long requestIdSeed(HybridClock clock) {
        long wall = Version.pack(Math.clamp(clock.physicalMillis(), 0, Version.MAX_PHYSICAL_MILLIS), 0);
        long seed = clock.leadMillis() <= MAX_SEED_LEAD_MILLIS ? Math.max(wall, clock.lastTimestamp()) : wall;
        return Math.min(seed, Long.MAX_VALUE >>> 1) + 1;
    }

    public CoordinatorStats stats() {
        return stats;
    }

    public PartitionMap map() {
        return map;
    }

    /**
     * Routes later requests by {@code next} (a newer epoch's map); requests already running keep
     * the replicas they started with.
     */
    public void onMembership(PartitionMap next) {
        Invariant.check(next.epoch() > map.epoch(), "partition map epoch %d after epoch %d", next.epoch(), map.epoch());
        map = next;
    }

    public void put(Namespace ns, byte[] key, byte[] value, String contentType, long ttlMillis, Quorum w, Consumer<Answer> done) {
        put(ns, key, value, contentType, ttlMillis, null, w, done);
    }

    /** A put whose version must be newer than the causal token {@code after} (null: none); see {@link #admits}. */
    public void put(Namespace ns, byte[] key, byte[] value, String contentType, long ttlMillis, Version after, Quorum w, Consumer<Answer> done) {
        if (refusedForClock(done) || !admits(after, done)) {
            return;
        }
        versions.next(version -> replicate(ns, key, valueRecord(ns, version, value, contentType, ttlMillis), w, done),
                failure -> ceilingFailed(failure, done));
    }

    /** The record a put stamped {@code version} stores: its expiry counts from the version's time. */
    static Record valueRecord(Namespace ns, Version version, byte[] value, String contentType, long ttlMillis) {
        return valueRecord(ns, version, value, contentType, ttlMillis, version.physicalMillis());
    }

    /** As {@link #valueRecord(Namespace, Version, byte[], String, long)}, its TTL counted from {@code fromMillis}. */
    static Record valueRecord(Namespace ns, Version version, byte[] value, String contentType, long ttlMillis, long fromMillis) {
        long ttl = ttlMillis == Op.DEFAULT_TTL ? ns.defaultTtlMillis() : ttlMillis;
        long expires = ttl > 0 ? fromMillis + ttl : Record.NO_EXPIRY;
        return Record.value(version, expires, contentType, value);
    }

    /**
     * Issues {@code count} versions for writes that will be replicated later as they are
     * ({@link #writeBack}): an idempotent request's, whose claim keeps them so that a retry writes
     * the very same records (see {@code ClusterRequests}). Refused as a put is while this node's
     * clock must not issue versions.
     */
    void stamp(int count, Consumer<List<Version>> done, Consumer<Answer> refused) {
        if (refusedForClock(refused)) {
            return;
        }
        stampNext(count, new ArrayList<>(count), done, refused);
    }

    private void stampNext(int count, List<Version> issued, Consumer<List<Version>> done, Consumer<Answer> refused) {
        if (issued.size() == count) {
            done.accept(issued);
            return;
        }
        versions.next(version -> {
            issued.add(version);
            stampNext(count, issued, done, refused);
        }, failure -> ceilingFailed(failure, refused));
    }

    public void delete(Namespace ns, byte[] key, Quorum w, Consumer<Answer> done) {
        delete(ns, key, null, w, done);
    }

    /** A delete whose tombstone's version must be newer than the causal token {@code after} (null: none). */
    public void delete(Namespace ns, byte[] key, Version after, Quorum w, Consumer<Answer> done) {
        if (refusedForClock(done) || !admits(after, done)) {
            return;
        }
        versions.next(version -> replicate(ns, key, Record.tombstone(version), w, done), failure -> ceilingFailed(failure, done));
    }

    /**
     * Replicates a record that already has its version (one a read found) to the key's home
     * replicas at write quorum {@code w}, exactly as a new write is replicated: replicas keep the
     * newer of it and what they hold, and a replica that does not take it gets a hint. Issues no
     * version, so a node whose clock is unsafe may still do it.
     */
    public void writeBack(Namespace ns, byte[] key, Record record, Quorum w, Consumer<Answer> done) {
        replicate(ns, key, record, w, done);
    }

    /**
     * Takes a client's causal token (the version of the last write it saw): the hybrid clock moves
     * past it, so every version issued from now on is newer. A token further ahead of this node's
     * clock than the max clock offset is refused ({@code clock_unsafe}; nothing is written, another
     * node may take the request): honouring it would stamp the write far in the future.
     *
     * @return whether the request may go on (null tokens always may); when not, {@code done} was answered
     */
    boolean admits(Version after, Consumer<Answer> done) {
        if (after == null || clock.observePeer(after.timestamp())) {
            return true;
        }
        long aheadMillis = after.physicalMillis() - clock.physicalMillis();
        if (aheadMillis > 2 * clock.maxOffsetMillis()) {
            // No node issues a version that far ahead of another's clock (a node whose clock is
            // off by more than the bound refuses writes): not a token this cluster gave out, so
            // a client error, not a condition to wait out.
            done.accept(Answer.failed(ErrorCode.INVALID_HEADER, "the causal token " + after.token() + " is " + aheadMillis
                    + " ms ahead of this node's clock, more than any version the cluster issues can be (twice the max clock offset, "
                    + 2 * clock.maxOffsetMillis() + " ms): send the ETag of a write you saw", Map.of("cause", "causal_token",
                    "offsetMillis", aheadMillis, "maxClockOffsetMillis", clock.maxOffsetMillis())));
            return false;
        }
        stats.clockUnsafe++;
        done.accept(Answer.failed(ErrorCode.CLOCK_UNSAFE, "the causal token " + after.token() + " is ahead of this node's clock: "
                + clock.describe(after.timestamp()), Map.of("cause", "causal_token", "offsetMillis", aheadMillis,
                "maxClockOffsetMillis", clock.maxOffsetMillis())));
        return false;
    }

    /** True (the client answered {@code clock_unsafe}) while this node's clock must not issue versions. */
    private boolean refusedForClock(Consumer<Answer> done) {
        ClockMonitor.Unsafe unsafe = clockMonitor.unsafe();
        if (unsafe == null) {
            return false;
        }
        stats.clockUnsafe++;
        done.accept(Answer.failed(ErrorCode.CLOCK_UNSAFE, unsafe.reason(), Map.of("cause", unsafe.cause().code(),
                "offsetMillis", unsafe.offsetMillis(), "maxClockOffsetMillis", unsafe.maxOffsetMillis())));
        return true;
    }

    /** Nothing was sent: the version ceiling covering the write's version could not be stored. */
    private static void ceilingFailed(StorageException failure, Consumer<Answer> done) {
        done.accept(Answer.failed(ErrorCode.STORAGE_FAILED, "could not store the version ceiling: " + failure.getMessage(), Map.of()));
    }

    /**
     * Sends the write to every replica the partition's writes go to (its owners, and while it
     * moves the next set too) and settles it once each replica set has W acknowledgements (see
     * {@link WriteTally}). Under a sloppy quorum a live fallback stands in for a down replica: it
     * keeps the write as a hint, and its acknowledgement counts for the replica it stands in for.
     */
    private void replicate(Namespace ns, byte[] key, Record record, Quorum w, Consumer<Answer> done) {
        writing.accept(ns, key);
        int partition = ns.partitionOf(key);
        int[] targets = map.writeTargets(partition);
        Set<Integer> up = up(targets);
        // Down home replica → the fallback standing in for it; empty unless sloppy.
        Map<Integer, Integer> standIns = settings.sloppyQuorum() && !ns.strictQuorum() ? standIns(partition, targets, up) : Map.of();
        List<Set<Integer>> groups = new ArrayList<>();
        for (int[] g : map.writeGroups(partition)) {
            groups.add(toSet(g));
        }
        int required = admitGroups(groups, up, standIns.keySet(), w, done);
        if (required < 0) {
            return;
        }
        long id = ids.next(Protocol.REPLICATION);
        Set<Integer> participants = toSet(targets);
        participants.addAll(standIns.values());
        PendingWrite p = new PendingWrite(id, ns, key, record, participants, new WriteTally(groups, required), done);
        standIns.forEach((home, fallback) -> p.fallbackFor.put(fallback, home));
        writes.put(id, p);
        p.timeout = scheduler.schedule(settings.requestTimeoutMillis(), () -> writeTimedOut(p));
        for (int r : targets) {
            if (!up.contains(r) && !standIns.containsKey(r)) {
                hint(r, ns, key, record);
                p.hinted.add(r);
                p.tally.refuse(r);
            }
        }
        for (int r : up) {
            if (r == self) {
                local.apply(ns, List.of(new Op.Apply(key, record)), (results, failure) ->
                        onWriteResponse(self, new Message.WriteResponse(Protocol.REPLICATION, id, failure == null && OpResult.stored(results.get(0)),
                                failure == null ? null : Message.Failure.of(failure))));
            } else {
                transport.send(r, new Message.WriteRequest(Protocol.REPLICATION, map.epoch(), id, ns.id(), key, record));
            }
        }
        standIns.forEach((home, fallback) -> {
            stats.fallbackHints++;
            if (fallback == self) {
                // This node is the fallback: it keeps the hint itself, synced, since its acknowledgement counts toward W.
                hints.add(home, ns.id(), key, record, Durability.SYNC,
                        failure -> onWriteResponse(self, new Message.WriteResponse(Protocol.REPLICATION, id, failure == null,
                                failure == null ? null : Message.Failure.of(failure))));
            } else {
                transport.send(fallback, new Message.HintedWrite(map.epoch(), id, home, ns.id(), key, record));
            }
        });
    }

    /**
     * W for each replica set of a write, or -1 (after answering {@code done}) when W is invalid or
     * some set has fewer reachable replicas (live, or with a stand-in) than it needs.
     */
    private int admitGroups(List<Set<Integer>> groups, Set<Integer> up, Set<Integer> stoodIn, Quorum w, Consumer<Answer> done) {
        int n = map.replicationFactor();
        int required = admit(n, n, n, w, "w", done); // validates W against N
        if (required < 0) {
            return -1;
        }
        for (Set<Integer> g : groups) {
            int reachable = (int) g.stream().filter(r -> up.contains(r) || stoodIn.contains(r)).count();
            // A set smaller than N (a removed replica's place not refilled yet) needs all of its members at most.
            int need = Math.min(required, g.size());
            if (reachable < need) {
                stats.quorumFailures++;
                done.accept(Answer.failed(ErrorCode.QUORUM_UNAVAILABLE,
                        "w=" + w + " needs " + need + " replicas but only " + reachable + " of " + g.size() + " are reachable",
                        Map.of("required", need, "reachable", reachable, "replicas", g.size())));
                return -1;
            }
        }
        return required;
    }

    /**
     * For each down home replica, in preference order, the next live fallback of the partition's
     * preference list not already chosen for another one. Down replicas left without one are absent.
     */
    private Map<Integer, Integer> standIns(int partition, int[] replicas, Set<Integer> up) {
        Map<Integer, Integer> standIns = new LinkedHashMap<>();
        int[] preferences = map.preferenceList(partition);
        int next = replicas.length;
        for (int home : replicas) {
            if (up.contains(home)) {
                continue;
            }
            while (next < preferences.length && preferences[next] != self && !detector.isAlive(preferences[next])) {
                next++;
            }
            if (next == preferences.length) {
                break;
            }
            standIns.put(home, preferences[next++]);
        }
        return standIns;
    }

    /** An answer of the {@link Protocol#REPLICATION} protocol. */
    public void onWriteResponse(int from, Message.WriteResponse m) {
        PendingWrite p = writes.get(m.requestId());
        if (p == null || !p.participants.contains(from)) {
            return;
        }
        // A fallback answers for the replica it stands in for.
        int target = p.fallbackFor.getOrDefault(from, from);
        if (m.stored()) {
            int before = p.tally.acks();
            p.tally.ack(target);
            if (target != from && p.tally.acks() > before) {
                p.standInAcks++; // Once per replica stood in for: the network may duplicate the answer.
            }
        } else {
            // The replica is up but could not store it (or a fallback could not keep the hint for
            // its home replica): the home replica still needs the write later.
            if (p.hinted.add(target)) {
                hint(target, p.ns, p.key, p.record);
            }
            p.tally.refuse(target);
        }
        settleWrite(p);
    }

    private void settleWrite(PendingWrite p) {
        WriteTally.Decision d = p.tally.decision();
        if (!p.answered && d == WriteTally.Decision.ACKNOWLEDGED) {
            p.answered = true;
            if (!p.tally.unanswered().isEmpty()) {
                // Acknowledged with replicas still to answer: if they have not within the hint
                // delay, their hints are stored then rather than at the request timeout, so a
                // crash of this coordinator loses the knowledge of their missing copies only
                // within that short window (anti-entropy repairs them regardless).
                scheduler.schedule(settings.hintDelayMillis(), () -> hintUnanswered(p));
            }
            int fallbackAcks = p.standInAcks;
            p.done.accept(p.record.tombstone()
                    ? Answer.written(new OpResult.Deleted(p.record.version()), p.tally.acks(), fallbackAcks)
                    : Answer.written(new OpResult.Written(p.record.version(), p.record.expiresAtMillis()), p.tally.acks(), fallbackAcks));
        }
        if (p.tally.unanswered().isEmpty()) {
            finishWrite(p);
        }
    }

    private void writeTimedOut(PendingWrite p) {
        if (writes.get(p.id) != p) {
            return;
        }
        hintUnanswered(p);
        finishWrite(p);
    }

    /** Stores a hint for every participant that has not answered the write (once per target). */
    private void hintUnanswered(PendingWrite p) {
        if (writes.get(p.id) != p) {
            return;
        }
        for (int r : p.tally.unanswered()) {
            int target = p.fallbackFor.getOrDefault(r, r);
            if (p.hinted.add(target)) {
                hint(target, p.ns, p.key, p.record);
            }
        }
    }

    private void finishWrite(PendingWrite p) {
        writes.remove(p.id);
        p.timeout.cancel();
        if (!p.answered) {
            p.answered = true;
            stats.outcomeUnknown++;
            p.done.accept(Answer.failed(ErrorCode.OUTCOME_UNKNOWN,
                    "only " + p.tally.shortfall() + " replicas acknowledged in time; the write may or may not be stored",
                    Map.of("acks", p.tally.acks(), "required", p.tally.required())));
        }
    }

    private void hint(int target, Namespace ns, byte[] key, Record record) {
        hints.add(target, ns.id(), key, record);
        stats.hintsStored++;
    }

    public void get(Namespace ns, byte[] key, Quorum r, Consumer<Answer> done) {
        int[] replicas = map.replicas(ns.partitionOf(key));
        Set<Integer> up = up(replicas);
        int required = admit(map.replicationFactor(), replicas.length, up.size(), r, "r", done);
        if (required < 0) {
            return;
        }
        long id = ids.next(Protocol.READ);
        PendingRead p = new PendingRead(id, ns, key, new ReadTally(up, required), done);
        reads.put(id, p);
        p.timeout = scheduler.schedule(settings.requestTimeoutMillis(), () -> readTimedOut(p));
        for (int node : up) {
            if (node == self) {
                readLocally(Protocol.READ, id, ns, key, m -> onReadResponse(self, m));
            } else {
                transport.send(node, new Message.ReadRequest(Protocol.READ, map.epoch(), id, ns.id(), key));
            }
        }
    }

    /** An answer of the {@link Protocol#READ} protocol. */
    public void onReadResponse(int from, Message.ReadResponse m) {
        PendingRead p = reads.get(m.requestId());
        if (p == null) {
            return;
        }
        if (m.error() != null) {
            if (p.tally.unanswered().contains(from)) {
                p.failures.put(from, m.error().code().code());
            }
            p.tally.fail(from);
        } else if (m.record() != null && !clock.checkPeer(m.record().version().timestamp())) {
            // Stamped beyond the max offset: a failed reply, never an answer or a repair source.
            p.clockRefused++;
            p.tally.fail(from);
        } else {
            p.tally.reply(from, m.record());
        }
        ReadTally.Decision d = p.tally.decision();
        if (d == ReadTally.Decision.FAILED && !p.answered) {
            answerRead(p, readFailed(p));
        } else if (d == ReadTally.Decision.READY) {
            if (!p.repairStarted) {
                p.repairStarted = true;
                Record newest = p.tally.newest();
                Set<Integer> stale = p.tally.stale();
                if (stale.isEmpty() || newest == null) {
                    answerRead(p, resultOf(newest, p.tally.replies()));
                } else {
                    // Blocking read repair for the replicas in the quorum.
                    p.blockingRepairs.addAll(stale);
                    p.repairedWith = newest;
                    for (int node : stale) {
                        repair(p, node, newest, true);
                    }
                    p.repairTimeout = scheduler.schedule(settings.readRepairTimeoutMillis(),
                            () -> answerRead(p, resultOf(newest, p.tally.replies())));
                }
            } else if (p.repairedWith != null || p.answered) {
                // A late reply: repair it in the background if it is behind.
                Record newest = p.tally.newest();
                if (newest != null && p.tally.stale().contains(from)) {
                    repair(p, from, newest, false);
                }
            }
        }
        if (p.tally.unanswered().isEmpty() && p.answered) {
            finishRead(p);
        }
    }

    // ---- inspection ----


    private static final class PendingInspection {
        final int[] replicas;
        final Map<Integer, ReplicaCopy> copies = new HashMap<>();
        final Consumer<List<ReplicaCopy>> done;
        Scheduler.Cancellable timeout;

        PendingInspection(int[] replicas, Consumer<List<ReplicaCopy>> done) {
            this.replicas = replicas;
            this.done = done;
        }

        List<ReplicaCopy> inHomeOrder() {
            List<ReplicaCopy> out = new ArrayList<>(replicas.length);
            for (int r : replicas) {
                out.add(copies.get(r));
            }
            return out;
        }
    }

    // Invariant: holds exactly the inspections still waiting for a copy whose timeout has not fired.
    private final Map<Long, PendingInspection> inspections = new HashMap<>();

    /**
     * Asks every home replica of the key — alive or not — for its stored copy, for operators: no
     * quorum, no read repair, and a replica that does not answer within the request timeout is
     * reported as such. Answers in home-replica order.
     */
    public void inspect(Namespace ns, byte[] key, Consumer<List<ReplicaCopy>> done) {
        int[] replicas = map.replicas(ns.partitionOf(key));
        long id = ids.next(Protocol.INSPECTION);
        PendingInspection p = new PendingInspection(replicas, done);
        inspections.put(id, p);
        p.timeout = scheduler.schedule(settings.requestTimeoutMillis(), () -> {
            if (inspections.remove(id) == null) {
                return;
            }
            for (int r : replicas) {
                p.copies.putIfAbsent(r, new ReplicaCopy(r, null, "no answer within " + settings.requestTimeoutMillis() + " ms"));
            }
            p.done.accept(p.inHomeOrder());
        });
        for (int node : replicas) {
            if (node == self) {
                readLocally(Protocol.INSPECTION, id, ns, key, m -> onInspectionResponse(self, m));
            } else {
                transport.send(node, new Message.ReadRequest(Protocol.INSPECTION, map.epoch(), id, ns.id(), key));
            }
        }
    }

    /** This node's own stored copy, answered (later, off the core's thread) as a replica would answer a {@code ReadRequest}. */
    private void readLocally(Protocol protocol, long id, Namespace ns, byte[] key, Consumer<Message.ReadResponse> done) {
        local.read(ns, key, (record, failure) ->
                done.accept(new Message.ReadResponse(protocol, id, failure == null ? record : null, failure == null ? null : Message.Failure.of(failure))));
    }

    /** An answer of the {@link Protocol#INSPECTION} protocol. */
    public void onInspectionResponse(int from, Message.ReadResponse m) {
        PendingInspection p = inspections.get(m.requestId());
        if (p == null || !contains(p.replicas, from) || p.copies.containsKey(from)) {
            return; // Late, duplicated, or from a node that was not asked.
        }
        p.copies.put(from, new ReplicaCopy(from, m.record(), m.error() == null ? null : m.error().code().code() + ": " + m.error().message()));
        if (p.copies.size() == p.replicas.length) {
            inspections.remove(m.requestId());
            p.timeout.cancel();
            p.done.accept(p.inHomeOrder());
        }
    }

    private static boolean contains(int[] nodes, int node) {
        for (int n : nodes) {
            if (n == node) {
                return true;
            }
        }
        return false;
    }

    private void repair(PendingRead p, int node, Record newest, boolean blocking) {
        stats.readRepairs++;
        long repairId = ids.next(Protocol.REPAIR);
        if (blocking) {
            p.repairIds.put(repairId, node);
            repairs.put(repairId, p);
        }
        if (node == self) {
            local.apply(p.ns, List.of(new Op.Apply(p.key, newest)), (results, failure) ->
                    onRepairResponse(self, new Message.WriteResponse(Protocol.REPAIR, repairId, failure == null, null)));
        } else {
            transport.send(node, new Message.WriteRequest(Protocol.REPAIR, map.epoch(), repairId, p.ns.id(), p.key, newest));
        }
    }

    private final Map<Long, PendingRead> repairs = new HashMap<>();

    /** An answer of the {@link Protocol#REPAIR} protocol (only blocking repairs await one). */
    public void onRepairResponse(int from, Message.WriteResponse m) {
        PendingRead p = repairs.get(m.requestId());
        Integer node = p == null ? null : p.repairIds.get(m.requestId());
        if (node == null || node != from) {
            return;
        }
        repairs.remove(m.requestId());
        p.repairIds.remove(m.requestId());
        p.blockingRepairs.remove(node);
        if (p.blockingRepairs.isEmpty() && !p.answered) {
            answerRead(p, resultOf(p.repairedWith, p.tally.replies()));
        }
    }

    private Answer resultOf(Record newest, int replies) {
        if (newest != null && newest.isLiveAt(clock.physicalMillis())) {
            return Answer.read(new OpResult.Found(newest), replies);
        }
        return Answer.read(new OpResult.NotFound(), replies);
    }

    private void answerRead(PendingRead p, Answer result) {
        if (p.answered) {
            return;
        }
        p.answered = true;
        if (p.repairTimeout != null) {
            p.repairTimeout.cancel();
        }
        p.done.accept(result);
        if (p.tally.unanswered().isEmpty()) {
            finishRead(p);
        }
    }

    private void readTimedOut(PendingRead p) {
        if (reads.get(p.id) != p) {
            return;
        }
        if (!p.answered) {
            if (p.tally.decision() == ReadTally.Decision.READY) {
                answerRead(p, resultOf(p.tally.newest(), p.tally.replies()));
            } else {
                answerRead(p, p.failures.containsValue(ErrorCode.CORRUPT_RECORD.code()) ? readFailed(p) : Answer.failed(ErrorCode.READ_TIMEOUT,
                        "only " + p.tally.replies() + " replicas answered in time" + clockRefusals(p), Map.of("replies", p.tally.replies())));
            }
        }
        finishRead(p);
    }

    /**
     * The answer to a read that cannot reach R: {@code corrupt_record} when a replica reported a
     * corrupt copy (a disk problem an operator must see, not a timeout to retry), otherwise
     * {@code read_timeout}; the details name each replica's failure.
     */
    private Answer readFailed(PendingRead p) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("replies", p.tally.replies());
        if (!p.failures.isEmpty()) {
            Map<String, Object> failures = new LinkedHashMap<>();
            p.failures.forEach((node, code) -> failures.put(Integer.toString(node), code));
            details.put("failures", failures);
        }
        if (p.failures.containsValue(ErrorCode.CORRUPT_RECORD.code())) {
            return Answer.failed(ErrorCode.CORRUPT_RECORD, "a replica holds a corrupt copy of this key and too few others answered"
                    + clockRefusals(p), details);
        }
        return Answer.failed(ErrorCode.READ_TIMEOUT, "too many replicas failed to answer the read" + clockRefusals(p), details);
    }

    private String clockRefusals(PendingRead p) {
        return p.clockRefused == 0 ? "" : " (" + p.clockRefused + " answered with a record stamped more than cluster.maxClockOffset ahead of"
                + " this node's clock, refused)";
    }

    private void finishRead(PendingRead p) {
        reads.remove(p.id);
        p.timeout.cancel();
        p.repairIds.keySet().forEach(repairs::remove);
    }

    /**
     * How many replies the quorum needs, or -1 after answering the client: the quorum is invalid
     * for N ({@code 400}), or fewer than it needs are reachable (fail fast, nothing sent: {@code
     * 503}). {@code replicas} is how many the partition has now, which during a replacement is
     * fewer than N (the new node is not a reader until filled): {@code one}, {@code quorum} and
     * {@code all} count from those, and a count above them is unavailable for now, not invalid.
     * {@code reachable} is the live home replicas, plus for a sloppy write the fallbacks standing
     * in for the others.
     */
    private int admit(int n, int replicas, int reachable, Quorum quorum, String name, Consumer<Answer> done) {
        Invariant.check(reachable <= replicas, "%d reachable of %d replicas", reachable, replicas);
        int required;
        try {
            quorum.resolve(n);
            required = quorum.kind() == Quorum.Kind.COUNT ? quorum.count() : quorum.resolve(replicas);
        } catch (IllegalArgumentException e) {
            done.accept(Answer.failed(ErrorCode.INVALID_QUORUM, name + "=" + quorum + ": " + e.getMessage(), Map.of()));
            return -1;
        }
        if (reachable < required) {
            stats.quorumFailures++;
            done.accept(Answer.failed(ErrorCode.QUORUM_UNAVAILABLE,
                    name + "=" + quorum + " needs " + required + " replicas but only " + reachable + " of " + replicas + " are reachable",
                    Map.of("required", required, "reachable", reachable, "replicas", replicas)));
            return -1;
        }
        return required;
    }

    private Set<Integer> up(int[] replicas) {
        Set<Integer> up = new LinkedHashSet<>();
        for (int r : replicas) {
            if (r == self || detector.isAlive(r)) {
                up.add(r);
            }
        }
        return up;
    }

    private static Set<Integer> toSet(int[] a) {
        Set<Integer> s = new LinkedHashSet<>();
        Arrays.stream(a).forEach(s::add);
        return s;
    }

    public int pendingRequests() {
        return writes.size() + reads.size();
    }

    private static final class PendingWrite {
        final long id;
        final Namespace ns;
        final byte[] key;
        final Record record;
        // The nodes the write went to (home replicas and fallbacks); replies from others are ignored.
        final Set<Integer> participants;
        final WriteTally tally;
        final Consumer<Answer> done;
        // Home replicas with a hint at this coordinator.
        final Set<Integer> hinted = new LinkedHashSet<>();
        // Fallback → the down home replica it stands in for. Invariant: no key is a home replica.
        final Map<Integer, Integer> fallbackFor = new HashMap<>();
        Scheduler.Cancellable timeout;
        boolean answered;
        // Acknowledgements that came from fallbacks standing in for down replicas.
        int standInAcks;

        PendingWrite(long id, Namespace ns, byte[] key, Record record, Set<Integer> participants, WriteTally tally, Consumer<Answer> done) {
            this.id = id;
            this.ns = ns;
            this.key = key;
            this.record = record;
            this.participants = participants;
            this.tally = tally;
            this.done = done;
        }
    }

    private static final class PendingRead {
        final long id;
        final Namespace ns;
        final byte[] key;
        final ReadTally tally;
        final Consumer<Answer> done;
        final Set<Integer> blockingRepairs = new LinkedHashSet<>();
        final Map<Long, Integer> repairIds = new HashMap<>();
        Record repairedWith;
        Scheduler.Cancellable timeout;
        Scheduler.Cancellable repairTimeout;
        boolean repairStarted;
        boolean answered;
        // Replies refused for a record stamped beyond the max clock offset (for the failure message).
        int clockRefused;
        // Replica → the error code it failed the read with (for the failure answer).
        final Map<Integer, String> failures = new java.util.TreeMap<>();

        PendingRead(long id, Namespace ns, byte[] key, ReadTally tally, Consumer<Answer> done) {
            this.id = id;
            this.ns = ns;
            this.key = key;
            this.tally = tally;
            this.done = done;
        }
    }
}
