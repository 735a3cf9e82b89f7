package io.cairn.cluster;

import io.cairn.antientropy.KeyVersion;
import io.cairn.antientropy.PurgeLedger;
import io.cairn.antientropy.SegmentKeys;
import io.cairn.antientropy.SegmentTree;
import io.cairn.antientropy.TreeKeeper;
import io.cairn.clock.HybridClock;
import io.cairn.clock.Version;
import io.cairn.record.Record;
import io.cairn.error.ErrorCode;
import io.cairn.message.Message;
import io.cairn.message.Protocol;
import io.cairn.message.RequestIds;
import io.cairn.namespace.Namespace;
import io.cairn.placement.PartitionMap;
import io.cairn.replica.LocalStore;
import io.cairn.request.Op;
import io.cairn.request.OpResult;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Anti-entropy for the partitions of one core shard: rounds that compare this replica's segment
 * trees with each other replica's and reconcile what differs, as ordinary replica writes.
 *
 * <p><b>A round</b> (this node A, peer B, one partition): A takes its root and branch hashes
 * (stamped, see {@link TreeKeeper}) and asks B for B's root; when the roots match, the round is
 * done (two small messages). Else A asks for B's branch hashes; branches that match are done. For up to
 * {@value #MAX_BRANCHES_PER_ROUND} differing branches A compares segment hashes the same way, then
 * both list their records in up to {@code maxSegmentsPerRound} differing segments (keys, versions,
 * hashes: no values) and A reconciles key by key: the newer copy wins in either direction — A
 * pushes its record to B ({@link Protocol#EXCHANGE_PUSH}) or fetches B's and applies it
 * ({@link Protocol#EXCHANGE} reads) — through the replica write path, last-writer-wins as any
 * replica write. A copy failing its checksum loses to a healthy one; a corrupt copy of a key the
 * peer holds nothing of becomes a tombstone of version 0 (see {@link Action#DROP}). A tombstone or expired record
 * past the purge grace that the other side lacks entirely is left alone: copying it would only
 * bring back what a purge removed, and the side that lacks the key holds nothing it could
 * resurrect. At most {@code maxKeysPerRound} records move per round, {@code maxInFlight} at once;
 * a round that leaves differences goes again soon, under the byte budget. Forced rounds
 * ({@link #runNow}) whose peer is down wait up to {@value #PEER_WAIT_MILLIS} ms for it.
 *
 * <p><b>Confirmations and the purge rule.</b> A branch is confirmed for B at A's stamp when it
 * matched, or when every difference in it was reconciled: then B holds every record A's tree held
 * at that stamp (or a newer version, or nothing while A's copy is past its purge point). The
 * minimum over the partition's other replicas, per branch, goes to the {@link PurgeLedger}; the
 * sweeper removes a tombstone or expired record only when that is past the stamp of the group that
 * wrote it. Confirmations live in memory: after a restart purges wait for fresh exchanges.
 *
 * <p><b>Hostile input.</b> Responses are matched by protocol, request id and the node asked;
 * anything else is dropped. Sizes were checked by the codec; what only this node can judge (a
 * hash vector of the wrong length for what was asked) ends the round as failed.
 *
 * <p>Single-threaded: called on its shard's thread, like the rest of {@link ClusterNode}.
 */
final class Exchanger {
    /** Differing branches one round looks into (64 segment hashes, 512 bytes, each). */
    static final int MAX_BRANCHES_PER_ROUND = 16;
    /** The first round waits this long after start, so peers are known alive and trees may be loaded. */
    static final long FIRST_ROUND_DELAY_MILLIS = 1_000;
    /** How often forced rounds waiting for a peer that is down look again, and how long they wait in all. */
    static final long PEER_WAIT_CHECK_MILLIS = 500;
    static final long PEER_WAIT_MILLIS = 30_000;

    private final int id;
    private final Shard shard;
    private final Map<Integer, Namespace> namespaces;
    private final ExchangeSettings settings;
    private final long requestTimeoutMillis;
    private final Transport transport;
    private final Scheduler scheduler;
    private final LocalStore local;
    private final RequestIds ids;
    private final HybridClock clock;
    private final FailureDetector detector;
    private final PurgeLedger ledger;
    private final Supplier<PartitionMap> map;
    private final LongSupplier epoch;
    // Slot (namespace, partition) → peer → confirmed stamp per branch.
    private final Map<Long, Map<Integer, long[]>> confirmed = new HashMap<>();
    // Slot → peer → what the last round with it found.
    private final Map<Long, Map<Integer, PairState>> pairs = new HashMap<>();
    private final Deque<Pair> forced = new ArrayDeque<>();
    // Forced rounds whose peer was down when their turn came → when they were first put aside.
    private final Map<Pair, Long> waitingForPeer = new java.util.LinkedHashMap<>();
    private boolean waitCheckScheduled;
    private List<Pair> cycle = List.of();
    private int cursor;
    private Round current;
    private boolean running;
    private long rounds;
    private long roundsClean;
    private long roundsFailed;
    private long keysPushed;
    private long keysFetched;
    private long bytesMoved;
    private long bytesExchanged;
    private long skippedRecent;
    /** What a message costs besides its payload, for the byte accounting: framing, ids, epoch. */
    static final int MESSAGE_OVERHEAD_BYTES = 64;

    Exchanger(int id, Shard shard, Map<Integer, Namespace> namespaces, ExchangeSettings settings, long requestTimeoutMillis,
              Transport transport, Scheduler scheduler, LocalStore local, RequestIds ids, HybridClock clock, FailureDetector detector,
              PurgeLedger ledger, Supplier<PartitionMap> map, LongSupplier epoch) {
        this.id = id;
        this.shard = shard;
        this.namespaces = new TreeMap<>(namespaces);
        this.settings = settings;
        this.requestTimeoutMillis = requestTimeoutMillis;
        this.transport = transport;
        this.scheduler = scheduler;
        this.local = local;
        this.ids = ids;
        this.clock = clock;
        this.detector = detector;
        this.ledger = ledger;
        this.map = map;
        this.epoch = epoch;
    }

    /** One replica pair of one partition. */
    record Pair(Namespace ns, int partition, int peer) {}

    /** What the last round of a pair found. */
    static final class PairState {
        long lastCompletedMillis = -1;
        int differingSegments;
        int differingKeys;
        long bytesToRepair;
        String lastError;
    }

    void start() {
        running = true;
        if (settings.enabled()) {
            scheduler.schedule(FIRST_ROUND_DELAY_MILLIS, this::next);
        }
    }

    void stop() {
        running = false;
    }

    /**
     * Runs a round with every other replica of the partitions asked for (every partition of this
     * shard when {@code partition} is negative) before the regular cycle goes on; returns how many
     * rounds were queued.
     */
    int runNow(Namespace onlyNs, int partition) {
        int queued = 0;
        for (Pair p : pairsOfShard()) {
            if ((onlyNs == null || p.ns().id() == onlyNs.id()) && (partition < 0 || p.partition() == partition)) {
                forced.add(p);
                queued++;
            }
        }
        if (queued > 0 && current == null && running) {
            scheduler.schedule(0, this::next);
        }
        return queued;
    }

    /** Every (partition, peer) pair this shard exchanges: partitions it owns where this node is a replica. */
    private List<Pair> pairsOfShard() {
        PartitionMap m = map.get();
        List<Pair> out = new ArrayList<>();
        for (Namespace ns : namespaces.values()) {
            for (int p = 0; p < ns.partitioner().partitions(); p++) {
                if (p % shard.count() != shard.index() || !m.isReplica(p, id)) {
                    continue;
                }
                for (int peer : m.replicas(p)) {
                    if (peer != id) {
                        out.add(new Pair(ns, p, peer));
                    }
                }
            }
        }
        return out;
    }

    /** Starts the next round: a forced one first, else the next pair of the cycle. */
    private void next() {
        if (!running || current != null) {
            return;
        }
        Pair pair = forced.poll();
        boolean forcedTurn = pair != null;
        if (pair == null) {
            if (!settings.enabled()) {
                return;
            }
            if (cursor >= cycle.size()) {
                cycle = pairsOfShard();
                cursor = 0;
                if (cycle.isEmpty()) {
                    scheduler.schedule(settings.cycleMillis(), this::next);
                    return;
                }
            }
            pair = cycle.get(cursor++);
        }
        if (!map.get().isReplica(pair.partition(), pair.peer()) || !map.get().isReplica(pair.partition(), id)) {
            // The membership changed since the pair was queued (the partition may have moved away from this node).
            scheduler.schedule(0, this::next);
            return;
        }
        if (!detector.isAlive(pair.peer())) {
            // A peer that is down cannot confirm anything. A scheduled pair waits for the next
            // cycle; a forced one waits (a while) for the peer to be seen alive, then runs.
            state(pair).lastError = "peer down";
            if (forcedTurn) {
                waitingForPeer.putIfAbsent(pair, clock.physicalMillis());
                scheduleWaitCheck();
            }
            scheduler.schedule(forced.isEmpty() ? settings.cycleMillis() / Math.max(1, cycle.size()) : 0, this::next);
            return;
        }
        current = new Round(pair);
        current.begin();
    }

    /** After a round: the next one after the byte budget's wait and the cycle's spacing. */
    private void scheduleNext(Round r) {
        current = null;
        bytesExchanged += r.bytes;
        long share = Math.max(1, settings.maxBytesPerSecond() / shard.count());
        long budgetWait = r.bytes * 1000 / share;
        if (r.leftDifferences) {
            // Its budget ran out before the differences did: the pair goes again soon.
            forced.addLast(r.pair);
        }
        long spacing = !forced.isEmpty() ? 0 : settings.cycleMillis() / Math.max(1, cycle.size());
        scheduler.schedule(Math.max(budgetWait, spacing), this::next);
    }

    private void scheduleWaitCheck() {
        if (waitCheckScheduled) {
            return;
        }
        waitCheckScheduled = true;
        scheduler.schedule(PEER_WAIT_CHECK_MILLIS, this::checkWaiting);
    }

    /** Forced rounds whose peer is alive again go back in the queue; those that waited too long are given up. */
    private void checkWaiting() {
        waitCheckScheduled = false;
        if (!running) {
            return;
        }
        long now = clock.physicalMillis();
        boolean any = false;
        for (var it = waitingForPeer.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (detector.isAlive(e.getKey().peer())) {
                forced.add(e.getKey());
                it.remove();
                any = true;
            } else if (now - e.getValue() > PEER_WAIT_MILLIS) {
                it.remove();
            }
        }
        if (!waitingForPeer.isEmpty()) {
            scheduleWaitCheck();
        }
        if (any && current == null) {
            scheduler.schedule(0, this::next);
        }
    }

    private PairState state(Pair p) {
        return pairs.computeIfAbsent(TreeKeeper.slotKey(p.ns().id(), p.partition()), k -> new HashMap<>())
                .computeIfAbsent(p.peer(), k -> new PairState());
    }

    // ---------------------------------------------------------------- responses

    void onTreeResponse(int from, Message.TreeResponse m) {
        Round r = current;
        if (r != null && r.pair.peer() == from && r.waiting == m.requestId()) {
            r.waiting = 0;
            r.onTree(m);
        }
    }

    void onKeysResponse(int from, Message.KeysResponse m) {
        Round r = current;
        if (r != null && r.pair.peer() == from && r.waiting == m.requestId()) {
            r.waiting = 0;
            String invalid = m.error() == null ? r.invalidListing(m.keys()) : null;
            if (m.error() != null) {
                r.fail("peer could not list keys: " + m.error().message());
            } else if (invalid != null) {
                r.fail("peer sent a bad listing: " + invalid);
            } else {
                r.theirs = m.keys();
                r.bytes += MESSAGE_OVERHEAD_BYTES + listingBytes(m.keys());
                r.maybeReconcile();
            }
        }
    }

    void onPushResponse(int from, Message.WriteResponse m) {
        Round r = current;
        Repair repair = r == null ? null : r.outstanding.get(m.requestId());
        if (repair != null && r.pair.peer() == from) {
            r.outstanding.remove(m.requestId());
            r.bytes += MESSAGE_OVERHEAD_BYTES;
            if (m.stored()) {
                keysPushed++;
                r.done(repair, true);
            } else {
                r.done(repair, false);
            }
        }
    }

    void onFetchResponse(int from, Message.ReadResponse m) {
        Round r = current;
        Repair repair = r == null ? null : r.outstanding.get(m.requestId());
        if (repair == null || r.pair.peer() != from) {
            return;
        }
        r.outstanding.remove(m.requestId());
        r.bytes += MESSAGE_OVERHEAD_BYTES;
        if (m.error() != null) {
            r.done(repair, false);
            return;
        }
        if (m.record() == null) {
            // The peer purged it meanwhile: nothing to fetch.
            r.done(repair, true);
            return;
        }
        if (!map.get().takesWrites(r.pair.partition(), id)) {
            // The partition moved away from this node during the round: no copy may be left here.
            r.done(repair, false);
            return;
        }
        r.bytes += repair.key.length + (m.record().tombstone() ? 0 : m.record().value().length);
        Round at = r;
        local.apply(r.pair.ns(), List.of(new Op.Apply(repair.key, m.record())), (results, failure) -> {
            boolean ok = failure == null && OpResult.stored(results.get(0));
            if (ok) {
                keysFetched++;
            }
            at.done(repair, ok);
        });
    }

    private static long listingBytes(SegmentKeys keys) {
        long b = 0;
        for (KeyVersion k : keys.keys()) {
            b += k.weight();
        }
        return b;
    }

    // ---------------------------------------------------------------- a round

    /** What to do about a key the two replicas disagree on. */
    private enum Action {
        /** This replica's copy is newer (or the peer's is corrupt): send it. */
        PUSH,
        /** The peer's copy is newer (or this replica's is corrupt): fetch and apply it. */
        FETCH,
        /**
         * This replica's copy is corrupt and the peer holds nothing under the key: replace the
         * corrupt copy with a tombstone of version 0, which any real version supersedes (another
         * replica's healthy copy still wins) and the purge rule then removes like any tombstone
         * past its grace. The corrupt bytes stay in quarantine.
         */
        DROP
    }

    /** One record to repair. */
    private record Repair(byte[] key, Action action, int branch, long valueBytes) {}

    private final class Round {
        final Pair pair;
        final long startedAt = clock.physicalMillis();
        final long[] confirmedNow = new long[SegmentTree.BRANCHES];
        final boolean[] unresolved = new boolean[SegmentTree.BRANCHES];
        final Map<Long, Repair> outstanding = new HashMap<>();
        final Deque<Repair> queue = new ArrayDeque<>();
        long waiting;
        long[] myTop;
        long topStamp;
        boolean askedBranches;
        int[] branches;
        long[] myLeaves;
        long leafStamp;
        int[] segments;
        SegmentKeys mine;
        SegmentKeys theirs;
        int inFlight;
        long bytes;
        boolean leftDifferences;
        boolean ended;
        int differingSegments;
        int differingKeys;
        long bytesToRepair;
        Scheduler.Cancellable deadline;

        Round(Pair pair) {
            this.pair = pair;
        }

        void begin() {
            rounds++;
            // The whole round gets a deadline: a lost message must not stall the shard's exchanges.
            deadline = scheduler.schedule(Math.max(5_000, 4 * requestTimeoutMillis), () -> {
                if (!ended) {
                    fail("the round timed out");
                }
            });
            local.summary(pair.ns(), pair.partition(), new int[0], (snapshot, failure) -> {
                if (ended) {
                    return;
                }
                if (failure != null || snapshot == null) {
                    fail(failure != null ? "local tree unreadable: " + failure.getMessage() : "local tree still being built");
                    return;
                }
                myTop = snapshot.hashes();
                topStamp = snapshot.stamp();
                send(new Message.TreeRequest(epoch.getAsLong(), request(), pair.ns().id(), pair.partition(), Message.TreeRequest.Level.ROOT, new int[0]));
            });
        }

        private long request() {
            waiting = ids.next(Protocol.EXCHANGE);
            return waiting;
        }

        private void send(Message m) {
            bytes += MESSAGE_OVERHEAD_BYTES + switch (m) {
                case Message.TreeRequest t -> t.branches().length;
                case Message.KeysRequest k -> 2L * k.segments().length;
                case Message.ReadRequest rr -> rr.key().length;
                default -> 0L;
            };
            transport.send(pair.peer(), m);
        }

        void onTree(Message.TreeResponse m) {
            bytes += MESSAGE_OVERHEAD_BYTES;
            if (m.error() != null) {
                fail("peer tree unavailable: " + m.error().message());
                return;
            }
            long[] theirs = m.hashes();
            if (!askedBranches) {
                if (theirs.length != 1) {
                    fail("peer sent " + theirs.length + " hashes for the root");
                    return;
                }
                bytes += 8;
                if (theirs[0] == myTop[0]) {
                    // The whole partition agrees: every branch is confirmed at once.
                    Arrays.fill(confirmedNow, topStamp);
                    finish();
                    return;
                }
                askedBranches = true;
                send(new Message.TreeRequest(epoch.getAsLong(), request(), pair.ns().id(), pair.partition(), Message.TreeRequest.Level.BRANCHES,
                        new int[0]));
                return;
            }
            if (branches == null) {
                if (theirs.length != 1 + SegmentTree.BRANCHES) {
                    fail("peer sent " + theirs.length + " hashes for the root and branches");
                    return;
                }
                bytes += theirs.length * 8L;
                List<Integer> differing = new ArrayList<>();
                for (int b = 0; b < SegmentTree.BRANCHES; b++) {
                    if (myTop[1 + b] == theirs[1 + b]) {
                        confirmedNow[b] = topStamp;
                    } else {
                        differing.add(b);
                    }
                }
                if (differing.isEmpty()) {
                    finish();
                    return;
                }
                int take = Math.min(differing.size(), MAX_BRANCHES_PER_ROUND);
                leftDifferences = differing.size() > take;
                branches = new int[take];
                for (int i = 0; i < take; i++) {
                    branches[i] = differing.get(i);
                }
                local.summary(pair.ns(), pair.partition(), branches, (snapshot, failure) -> {
                    if (ended) {
                        return;
                    }
                    if (failure != null || snapshot == null) {
                        fail("local tree unreadable");
                        return;
                    }
                    myLeaves = snapshot.hashes();
                    leafStamp = snapshot.stamp();
                    send(new Message.TreeRequest(epoch.getAsLong(), request(), pair.ns().id(), pair.partition(), Message.TreeRequest.Level.LEAVES,
                            branches));
                });
                return;
            }
            if (theirs.length != branches.length * SegmentTree.LEAVES_PER_BRANCH) {
                fail("peer sent " + theirs.length + " segment hashes for " + branches.length + " branches");
                return;
            }
            bytes += theirs.length * 8L;
            List<Integer> differing = new ArrayList<>();
            for (int i = 0; i < branches.length; i++) {
                boolean any = false;
                for (int l = 0; l < SegmentTree.LEAVES_PER_BRANCH; l++) {
                    int at = i * SegmentTree.LEAVES_PER_BRANCH + l;
                    if (myLeaves[at] != theirs[at]) {
                        any = true;
                        if (differing.size() < settings.maxSegmentsPerRound()) {
                            differing.add(branches[i] * SegmentTree.LEAVES_PER_BRANCH + l);
                        } else {
                            unresolved[branches[i]] = true;
                            leftDifferences = true;
                        }
                    }
                }
                if (!any) {
                    // It changed since the first look and now matches.
                    confirmedNow[branches[i]] = leafStamp;
                }
            }
            differingSegments = differing.size();
            if (differing.isEmpty()) {
                finish();
                return;
            }
            segments = differing.stream().mapToInt(Integer::intValue).toArray();
            send(new Message.KeysRequest(epoch.getAsLong(), request(), pair.ns().id(), pair.partition(), segments));
            local.segmentKeys(pair.ns(), pair.partition(), segments, settings.maxListingBytes(), (keys, failure) -> {
                if (ended) {
                    return;
                }
                if (failure != null) {
                    fail("local listing failed: " + failure.getMessage());
                    return;
                }
                mine = keys;
                maybeReconcile();
            });
        }

        /** Why a peer's listing cannot be what was asked for (keys out of order, of other segments or partitions), or null. */
        String invalidListing(SegmentKeys listing) {
            if (segments == null) {
                return "no listing was asked for";
            }
            java.util.BitSet asked = new java.util.BitSet(SegmentTree.SEGMENTS);
            for (int seg : segments) {
                asked.set(seg);
            }
            byte[] previous = null;
            for (KeyVersion k : listing.keys()) {
                if (previous != null && Arrays.compareUnsigned(previous, k.key()) >= 0) {
                    return "keys out of order";
                }
                if (!asked.get(SegmentTree.segmentOf(k.key())) || pair.ns().partitionOf(k.key()) != pair.partition()) {
                    return "a key outside the segments asked for";
                }
                previous = k.key();
            }
            return null;
        }

        void maybeReconcile() {
            if (mine == null || theirs == null || ended) {
                return;
            }
            byte[] cutoff = null;
            for (SegmentKeys listing : List.of(mine, theirs)) {
                if (listing.truncated() && !listing.keys().isEmpty()) {
                    byte[] last = listing.keys().get(listing.keys().size() - 1).key();
                    cutoff = cutoff == null || Arrays.compareUnsigned(last, cutoff) < 0 ? last : cutoff;
                }
            }
            if (mine.truncated() || theirs.truncated()) {
                leftDifferences = true;
                for (int seg : segments) {
                    unresolved[seg / SegmentTree.LEAVES_PER_BRANCH] = true;
                }
            }
            long now = clock.physicalMillis();
            int i = 0;
            int j = 0;
            List<KeyVersion> a = mine.keys();
            List<KeyVersion> b = theirs.keys();
            while (i < a.size() || j < b.size()) {
                KeyVersion m = i < a.size() ? a.get(i) : null;
                KeyVersion t = j < b.size() ? b.get(j) : null;
                int c = m == null ? 1 : t == null ? -1 : Arrays.compareUnsigned(m.key(), t.key());
                if (c < 0) {
                    i++;
                    t = null;
                } else if (c > 0) {
                    j++;
                    m = null;
                } else {
                    i++;
                    j++;
                }
                byte[] key = m != null ? m.key() : t.key();
                if (cutoff != null && Arrays.compareUnsigned(key, cutoff) > 0) {
                    continue;
                }
                decide(key, m, t, now);
            }
            pump();
        }

        /** What to do about one key listed by either side. */
        private void decide(byte[] key, KeyVersion m, KeyVersion t, long now) {
            int branch = SegmentTree.segmentOf(key) / SegmentTree.LEAVES_PER_BRANCH;
            Action action;
            if (m != null && t != null && m.hash() == t.hash()) {
                return;
            }
            if (m == null) {
                // The peer alone holds it; its own rounds deal with a corrupt copy of its own.
                action = t.corrupt() || t.purgeableAt(now, settings.purgeGraceMillis()) ? null : Action.FETCH;
            } else if (t == null) {
                action = m.corrupt() ? Action.DROP : m.purgeableAt(now, settings.purgeGraceMillis()) ? null : Action.PUSH;
            } else if (m.corrupt() && t.corrupt()) {
                // Neither copy can repair the other; another replica's may.
                unresolved[branch] = true;
                action = null;
            } else if (m.corrupt() || t.corrupt()) {
                action = t.corrupt() ? Action.PUSH : Action.FETCH;
            } else if (m.version().equals(t.version())) {
                // One version, two contents: cannot happen short of a bug; leave it to be seen.
                unresolved[branch] = true;
                action = null;
            } else {
                action = m.version().isNewerThan(t.version()) ? Action.PUSH : Action.FETCH;
            }
            if (action == null) {
                return;
            }
            Version copied = switch (action) {
                case PUSH -> m.version();
                case FETCH -> t.version();
                case DROP -> null;
            };
            if (copied != null && copied.physicalMillis() > now - 2 * requestTimeoutMillis) {
                // Written moments ago: most likely still on its way (replication, a hint). Left to
                // a later round, which also keeps the branch unconfirmed for now.
                unresolved[branch] = true;
                skippedRecent++;
                return;
            }
            differingKeys++;
            long size = key.length + switch (action) {
                case PUSH -> m.valueBytes();
                case FETCH -> t.valueBytes();
                case DROP -> 0;
            };
            bytesToRepair += size;
            if (queue.size() + outstanding.size() + inFlight >= settings.maxKeysPerRound()) {
                unresolved[branch] = true;
                leftDifferences = true;
                return;
            }
            queue.add(new Repair(key, action, branch, size));
        }

        private void pump() {
            while (!ended && inFlight < settings.maxInFlight() && !queue.isEmpty()) {
                Repair repair = queue.poll();
                inFlight++;
                if (repair.action() == Action.DROP && !map.get().takesWrites(pair.partition(), id)) {
                    done(repair, false); // The partition moved away from this node.
                } else if (repair.action() == Action.DROP) {
                    local.apply(pair.ns(), List.of(new Op.Apply(repair.key(), Record.tombstone(new Version(0, id)))),
                            (results, failure) -> done(repair, failure == null && OpResult.stored(results.get(0))));
                } else if (repair.action() == Action.PUSH) {
                    local.read(pair.ns(), repair.key(), (record, failure) -> {
                        if (ended) {
                            return;
                        }
                        if (failure != null) {
                            done(repair, false);
                            return;
                        }
                        if (record == null) {
                            // Purged meanwhile: nothing to push.
                            done(repair, true);
                            return;
                        }
                        long rid = ids.next(Protocol.EXCHANGE_PUSH);
                        outstanding.put(rid, repair);
                        bytes += MESSAGE_OVERHEAD_BYTES + repair.valueBytes();
                        bytesMoved += repair.valueBytes();
                        transport.send(pair.peer(), new Message.WriteRequest(Protocol.EXCHANGE_PUSH, epoch.getAsLong(), rid, pair.ns().id(),
                                repair.key(), record));
                    });
                } else {
                    long rid = ids.next(Protocol.EXCHANGE);
                    outstanding.put(rid, repair);
                    bytesMoved += repair.valueBytes();
                    send(new Message.ReadRequest(Protocol.EXCHANGE, epoch.getAsLong(), rid, pair.ns().id(), repair.key()));
                }
            }
            if (!ended && inFlight == 0 && queue.isEmpty()) {
                finish();
            }
        }

        void done(Repair repair, boolean ok) {
            if (ended) {
                return;
            }
            inFlight--;
            if (ok) {
                bytesToRepair -= repair.valueBytes();
                differingKeys--;
            } else {
                unresolved[repair.branch()] = true;
                leftDifferences = true;
            }
            pump();
        }

        void fail(String why) {
            if (ended) {
                return;
            }
            roundsFailed++;
            end(why);
        }

        void finish() {
            if (ended) {
                return;
            }
            if (branches != null) {
                for (int b : branches) {
                    if (!unresolved[b] && confirmedNow[b] == 0) {
                        confirmedNow[b] = leafStamp;
                    }
                }
            }
            boolean clean = !leftDifferences && differingKeys == 0;
            if (clean) {
                roundsClean++;
            }
            confirm();
            end(null);
        }

        private void end(String error) {
            ended = true;
            if (deadline != null) {
                deadline.cancel();
            }
            PairState s = state(pair);
            s.lastError = error;
            if (error == null) {
                s.lastCompletedMillis = clock.physicalMillis();
                s.differingSegments = differingSegments;
                s.differingKeys = Math.max(0, differingKeys);
                s.bytesToRepair = Math.max(0, bytesToRepair);
                if (!leftDifferences && differingKeys <= 0) {
                    s.differingSegments = 0;
                }
            } else {
                leftDifferences = false;
            }
            outstanding.clear();
            queue.clear();
            scheduleNext(this);
        }

        /** Folds this round's confirmed branches into the peer's and publishes the partition's minimum over its peers. */
        private void confirm() {
            long slot = TreeKeeper.slotKey(pair.ns().id(), pair.partition());
            long[] peer = confirmed.computeIfAbsent(slot, k -> new HashMap<>()).computeIfAbsent(pair.peer(), k -> new long[SegmentTree.BRANCHES]);
            for (int b = 0; b < SegmentTree.BRANCHES; b++) {
                peer[b] = Math.max(peer[b], confirmedNow[b]);
            }
            publish(pair.ns(), pair.partition());
        }
    }

    /**
     * Publishes a partition's confirmed stamps: per branch, the least over every other node its
     * writes go to (while it moves, the incoming replicas too, which exchanges reach only once they
     * serve reads: purges of a moving partition wait for the move).
     */
    private void publish(Namespace ns, int partition) {
        long slot = TreeKeeper.slotKey(ns.id(), partition);
        Map<Integer, long[]> byPeer = confirmed.getOrDefault(slot, Map.of());
        long[] least = new long[SegmentTree.BRANCHES];
        Arrays.fill(least, Long.MAX_VALUE);
        for (int r : map.get().writeTargets(partition)) {
            if (r == id) {
                continue;
            }
            long[] c = byPeer.get(r);
            for (int b = 0; b < SegmentTree.BRANCHES; b++) {
                least[b] = Math.min(least[b], c == null ? 0 : c[b]);
            }
        }
        for (int b = 0; b < SegmentTree.BRANCHES; b++) {
            if (least[b] == Long.MAX_VALUE) {
                // No other replica (replication factor 1): nothing to wait for.
                least[b] = Long.MAX_VALUE - 1;
            }
        }
        ledger.publish(ns.id(), partition, least);
    }

    /**
     * The membership changed: the namespaces it defines ({@code served}: a namespace created
     * since is exchanged from now on) and every partition's confirmations published again over
     * its new replicas.
     */
    void onMembership(Map<Integer, Namespace> served) {
        namespaces.putAll(served);
        cycle = List.of();
        cursor = 0;
        for (Namespace ns : namespaces.values()) {
            for (int p = 0; p < ns.partitioner().partitions(); p++) {
                if (p % shard.count() == shard.index() && confirmed.containsKey(TreeKeeper.slotKey(ns.id(), p))) {
                    publish(ns, p);
                }
            }
        }
    }

    // ---------------------------------------------------------------- the responder side

    /** A peer asks for this replica's tree hashes. */
    void onTreeRequest(int from, Message.TreeRequest m, Namespace ns) {
        if (m.partition() >= ns.partitioner().partitions()) {
            transport.send(from, new Message.TreeResponse(m.requestId(), null,
                    new Message.Failure(ErrorCode.MALFORMED_REQUEST, "namespace " + ns.name() + " has no partition " + m.partition())));
            return;
        }
        local.summary(ns, m.partition(), m.branches(), (snapshot, failure) -> transport.send(from, failure != null
                ? new Message.TreeResponse(m.requestId(), null, Message.Failure.of(failure))
                : snapshot == null ? new Message.TreeResponse(m.requestId(), null, new Message.Failure(ErrorCode.NOT_READY, "the tree is being built"))
                : new Message.TreeResponse(m.requestId(), Arrays.copyOf(snapshot.hashes(), m.answerSize()), null)));
    }

    /** A peer asks for this replica's records in some segments. */
    void onKeysRequest(int from, Message.KeysRequest m, Namespace ns) {
        if (m.partition() >= ns.partitioner().partitions()) {
            transport.send(from, new Message.KeysResponse(m.requestId(), null,
                    new Message.Failure(ErrorCode.MALFORMED_REQUEST, "namespace " + ns.name() + " has no partition " + m.partition())));
            return;
        }
        local.segmentKeys(ns, m.partition(), m.segments(), settings.maxListingBytes(), (keys, failure) -> transport.send(from, failure != null
                ? new Message.KeysResponse(m.requestId(), null, Message.Failure.of(failure))
                : new Message.KeysResponse(m.requestId(), keys, null)));
    }

    // ---------------------------------------------------------------- figures

    /** What this shard knows of its partitions' convergence; see {@link ExchangeStatus}. */
    List<ExchangeStatus.Partition> status() {
        long now = clock.physicalMillis();
        List<ExchangeStatus.Partition> out = new ArrayList<>();
        Map<Long, List<Pair>> bySlot = new TreeMap<>();
        for (Pair p : pairsOfShard()) {
            bySlot.computeIfAbsent(TreeKeeper.slotKey(p.ns().id(), p.partition()), k -> new ArrayList<>()).add(p);
        }
        for (Map.Entry<Long, List<Pair>> e : bySlot.entrySet()) {
            Pair first = e.getValue().get(0);
            Map<Integer, PairState> states = pairs.getOrDefault(e.getKey(), Map.of());
            long oldest = Long.MAX_VALUE;
            int segs = 0;
            int keys = 0;
            long bytes = 0;
            List<String> errors = new ArrayList<>();
            for (Pair p : e.getValue()) {
                PairState s = states.get(p.peer());
                if (s == null || s.lastCompletedMillis < 0) {
                    oldest = -1;
                } else if (oldest >= 0) {
                    oldest = Math.min(oldest, s.lastCompletedMillis);
                }
                if (s != null) {
                    segs += s.differingSegments;
                    keys += s.differingKeys;
                    bytes += s.bytesToRepair;
                    if (s.lastError != null) {
                        errors.add("n" + p.peer() + ": " + s.lastError);
                    }
                }
            }
            out.add(new ExchangeStatus.Partition(first.ns().name(), first.partition(), oldest < 0 ? -1 : now - oldest, segs, keys, bytes,
                    List.copyOf(errors)));
        }
        return out;
    }

    ExchangeStatus.Totals totals() {
        return new ExchangeStatus.Totals(rounds, roundsClean, roundsFailed, keysPushed, keysFetched, bytesMoved, bytesExchanged, skippedRecent);
    }

    /** Pairs with a forced round still queued. */
    int forcedPending() {
        return forced.size() + waitingForPeer.size() + (current != null ? 1 : 0);
    }
}
