package io.cairn.cluster;

import io.cairn.membership.Member;
import io.cairn.membership.Membership;
import io.cairn.message.Message;
import io.cairn.message.Protocol;
import io.cairn.message.RequestIds;
import io.cairn.metadata.MetadataCommand;
import io.cairn.namespace.Namespace;
import io.cairn.paxos.PaxosState;
import io.cairn.placement.PartitionMap;
import io.cairn.record.CorruptRecordException;
import io.cairn.record.Record;
import io.cairn.record.RecordCodec;
import io.cairn.replica.LocalStore;
import io.cairn.request.Op;
import io.cairn.storage.Keyspace;
import io.cairn.storage.StorageEngine;
import io.cairn.clock.HybridClock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Moves one shard's partitions: the move protocol's replica side (see {@code docs/architecture.md},
 * "Moving partitions", and decision 0013). Single-threaded, on the shard's core thread; storage
 * work goes through {@link LocalStore}.
 *
 * <p>A partition's assignment advances one step at a time through the metadata log: stable →
 * moving, reads from the owners (writes to owners and next set, a quorum of each) → moving, reads
 * from the next set → stable with the next set as owners. Each step is taken only once every
 * member has applied the step before (the <b>barrier</b>, read from heartbeats, {@link NodeEpochs}),
 * so no request from two steps back is ever served (see {@code ClusterNode}'s epoch rule).
 *
 * <ul>
 *   <li><b>Incoming replica</b>: once every member applied the move's start, it streams the
 *       partition (every namespace's) from <em>every</em> owner in turn, chunk by chunk, storing each
 *       chunk through the write path (newest version wins, tombstones included), then reports
 *       {@link MetadataCommand.StreamsDone}. Every write acknowledged before the move started is on
 *       W owners, and every owner has been streamed since, so the incoming replica holds it; writes
 *       since reach it directly, and the joint quorums cover those it missed. A stream interrupted
 *       (a crash, an owner down, a failed chunk) resumes from its last stored key, or starts over
 *       after a restart — storing a record twice is harmless.</li>
 *   <li><b>Finisher</b> (the lowest id of the incoming replicas, or of the next set when none
 *       comes in: {@link #finisher}): once every member reads from the next set, it reports
 *       {@link MetadataCommand.Finish}. A node's reports (streams done, finishes) may be gathered
 *       into fewer log entries on their way ({@link Proposer}); each is idempotent. Should the partition still be waiting
 *       {@link #FINISH_FALLBACK_RETRIES} retry periods after this node saw it read from the next
 *       set (the finisher's reports are lost, or it is stuck), every other member of the next set
 *       reports it too, under the same barrier: a finish is idempotent, and a change must not hang
 *       on one node.</li>
 *   <li><b>Outgoing replica</b>: once every member applied the step that took its partition away,
 *       it deletes the partition's records.</li>
 *   <li><b>Owner</b>: answers {@link Message.StreamRequest}s from the storage lane.</li>
 * </ul>
 */
final class Mover {
    /** Most records in one stream chunk, whatever their size. */
    static final int MAX_CHUNK_RECORDS = 4_096;
    /** The largest chunk an owner sends, whatever it is asked for. */
    static final int MAX_CHUNK_BYTES = 8 << 20;
    private static final int DROP_BATCH = 1_024;
    /** Retry periods after which every member of a partition's next set reports its finish, not only the finisher. */
    static final int FINISH_FALLBACK_RETRIES = 10;

    private final int self;
    private final Shard shard;
    private final Map<Integer, Namespace> namespaces;
    private final MoveSettings settings;
    private final long requestTimeoutMillis;
    private final Transport transport;
    private final Scheduler scheduler;
    private final LocalStore local;
    private final PaxosAcceptor acceptor;
    private final RequestIds ids;
    private final HybridClock clock;
    private final FailureDetector detector;
    private final NodeEpochs epochs;
    private final Proposer proposer;
    private final Supplier<Membership> membership;

    private boolean running;
    private final Map<Integer, Stream> streams = new HashMap<>();
    private final Map<Long, Stream> awaiting = new HashMap<>();
    // Partition → the (plan, since) its stream completed for, and when it was last reported.
    private final Map<Integer, long[]> streamed = new HashMap<>();
    private long finishReportedAt = Long.MIN_VALUE;
    // Partition → {since, when this node first saw it read from its next set at that step}.
    private final Map<Integer, long[]> readsNextSeen = new HashMap<>();
    private long finishReportedEpoch;
    // Partition → the assignment epoch its records were dropped for.
    private final Map<Integer, Long> dropped = new HashMap<>();
    private final Set<Integer> dropping = new HashSet<>();
    // Partition → the flag its running drop's storage jobs read before deleting anything; raised on
    // the core thread when the partition comes back to this node (read on the storage thread).
    private final java.util.Map<Integer, java.util.concurrent.atomic.AtomicBoolean> dropCancels = new java.util.HashMap<>();

    private long bytesStreamed;
    private long recordsStreamed;
    private long statesStreamed;
    private long streamErrors;
    private long streamsCompleted;
    private long chunksServed;
    private long partitionsDropped;

    Mover(int self, Shard shard, Map<Integer, Namespace> namespaces, MoveSettings settings, long requestTimeoutMillis, Transport transport,
          Scheduler scheduler, LocalStore local, PaxosAcceptor acceptor, RequestIds ids, HybridClock clock, FailureDetector detector, NodeEpochs epochs,
          Proposer proposer, Supplier<Membership> membership) {
        this.self = self;
        this.shard = shard;
        this.namespaces = namespaces;
        this.settings = settings;
        this.requestTimeoutMillis = requestTimeoutMillis;
        this.transport = transport;
        this.scheduler = scheduler;
        this.local = local;
        this.acceptor = acceptor;
        this.ids = ids;
        this.clock = clock;
        this.detector = detector;
        this.epochs = epochs;
        this.proposer = proposer;
        this.membership = membership;
    }

    void start() {
        running = true;
        scheduler.schedule(settings.tickMillis(), this::tick);
    }

    void stop() {
        running = false;
        streams.clear();
        awaiting.clear();
    }

    /** What this shard's moves did so far. */
    MoveStats stats() {
        return new MoveStats(streams.size(), bytesStreamed, recordsStreamed, statesStreamed, streamErrors, streamsCompleted, chunksServed, partitionsDropped);
    }

    /** Whether every member applied epoch {@code since}: a partition's next step may be taken. */
    boolean barrier(Membership m, long since) {
        if (epochs.self() < since) {
            return false;
        }
        for (Member member : m.members()) {
            if (member.id() != self && epochs.peer(member.id()) < since) {
                return false;
            }
        }
        return true;
    }

    private void tick() {
        if (!running) {
            return;
        }
        try {
            step();
        } finally {
            scheduler.schedule(settings.tickMillis(), this::tick);
        }
    }

    /** Looks at every partition of this shard once: streams to start, partitions to finish, records to drop. */
    void step() {
        Membership m = membership.get();
        PartitionMap map = m.map();
        int perShard = Math.max(1, (settings.maxConcurrentMoves() + shard.count() - 1) / shard.count());
        long now = clock.physicalMillis();
        List<Integer> finish = new ArrayList<>();
        List<Integer> ready = new ArrayList<>();
        List<Integer> reportAgain = new ArrayList<>();
        for (int p = shard.index(); p < map.partitions(); p += shard.count()) {
            PartitionMap.Slot slot = map.slot(p);
            Stream running = streams.get(p);
            if (running != null && (running.since != slot.since() || running.plan != m.plan())) {
                streams.remove(p); // The assignment changed under it: start over for the new one.
                running = null;
            }
            if (slot.moving() && !slot.readsNext() && contains(slot.incoming(), self) && !contains(slot.streamed(), self)) {
                long[] done = streamed.get(p);
                if (done != null && done[0] == m.plan() && done[1] == slot.since()) {
                    if (now - done[2] >= settings.retryMillis()) {
                        done[2] = now;
                        reportAgain.add(p);
                    }
                } else if (running == null && !m.paused() && barrier(m, slot.since())) {
                    ready.add(p);
                }
            }
            if (slot.moving() && slot.readsNext() && contains(slot.next(), self) && barrier(m, slot.since())
                    && (finisher(slot) == self || finishOverdue(p, slot.since(), now))) {
                finish.add(p);
            }
            if (!slot.readsNext()) {
                readsNextSeen.remove(p);
            }
            if (!map.takesWrites(p, self) && !dropping.contains(p) && dropped.getOrDefault(p, -1L) != slot.since() && barrier(m, slot.since())) {
                drop(p, slot.since());
            }
        }
        if (!reportAgain.isEmpty()) {
            proposer.propose(new MetadataCommand.StreamsDone(m.plan(), self, reportAgain.stream().mapToInt(Integer::intValue).toArray()));
        }
        // Partitions with the fewest live owners first: after a removal, those closest to losing their last copies.
        ready.sort(java.util.Comparator.comparingInt((Integer p) -> liveOwners(map.slot(p))).thenComparingInt(p -> p));
        for (int p : ready) {
            if (streams.size() >= perShard) {
                break;
            }
            startStream(m, p, map.slot(p));
        }
        if (!finish.isEmpty() && (finishReportedEpoch != m.epoch() || now - finishReportedAt >= settings.retryMillis())) {
            finishReportedAt = now;
            finishReportedEpoch = m.epoch();
            proposer.propose(new MetadataCommand.Finish(m.plan(), finish.stream().mapToInt(Integer::intValue).toArray()));
        }
    }

    /**
     * Who reports a partition's finish: the lowest id among its incoming replicas (the nodes that
     * streamed it in, which report their streams too, so that one node's reports of a move can go
     * to the log together), or of its next set when nothing comes in.
     */
    static int finisher(PartitionMap.Slot slot) {
        int[] incoming = slot.incoming();
        return Arrays.stream(incoming.length > 0 ? incoming : slot.next()).min().orElse(-1);
    }

    /** Whether {@code p}, reading from its next set since epoch {@code since}, has waited past the fallback for its finisher. */
    private boolean finishOverdue(int p, long since, long now) {
        long[] seen = readsNextSeen.get(p);
        if (seen == null || seen[0] != since) {
            readsNextSeen.put(p, new long[] {since, now});
            return false;
        }
        return now - seen[1] >= FINISH_FALLBACK_RETRIES * settings.retryMillis();
    }

    /**
     * Whether this node dropped {@code partition} for its current assignment: a write of it that
     * still arrives comes from an epoch every member has left behind, and must not leave a copy.
     */
    boolean dropped(int partition) {
        PartitionMap map = membership.get().map();
        return !map.takesWrites(partition, self) && dropped.getOrDefault(partition, -1L) == map.since(partition);
    }

    // ------------------------------------------------------------------ incoming replica

    private static final class Stream {
        final int partition;
        final long plan;
        final long since;
        final int[] sources;
        final List<Namespace> namespaces;
        int source;
        // 0..n-1: the records of namespaces[i]; n..2n-1: the Paxos states of namespaces[i - n].
        int namespace;
        byte[] after;

        boolean states() {
            return namespace >= namespaces.size();
        }

        Namespace current() {
            return namespaces.get(namespace % namespaces.size());
        }

        Stream(int partition, long plan, long since, int[] sources, List<Namespace> namespaces) {
            this.partition = partition;
            this.plan = plan;
            this.since = since;
            this.sources = sources;
            this.namespaces = namespaces;
        }
    }

    private void startStream(Membership m, int p, PartitionMap.Slot slot) {
        int[] sources = Arrays.stream(slot.owners()).filter(n -> n != self).toArray();
        List<Namespace> served = namespaces.values().stream().filter(ns -> p < ns.partitioner().partitions())
                .sorted((a, b) -> Integer.compare(a.id(), b.id())).toList();
        Stream s = new Stream(p, m.plan(), slot.since(), sources, served);
        streams.put(p, s);
        next(s);
    }

    private int liveOwners(PartitionMap.Slot slot) {
        int live = 0;
        for (int o : slot.owners()) {
            if (o == self || detector.isAlive(o)) {
                live++;
            }
        }
        return live;
    }

    /** Asks for the stream's next chunk, or reports it done. */
    private void next(Stream s) {
        if (!running || streams.get(s.partition) != s) {
            return;
        }
        if (s.source == s.sources.length) {
            streams.remove(s.partition);
            streamsCompleted++;
            streamed.put(s.partition, new long[] {s.plan, s.since, clock.physicalMillis()});
            proposer.propose(new MetadataCommand.StreamsDone(s.plan, self, new int[] {s.partition}));
            scheduler.schedule(0, () -> {
                if (running) {
                    step(); // The next partition starts now, not at the next tick.
                }
            });
            return;
        }
        if (s.namespace == 2 * s.namespaces.size()) {
            s.source++;
            s.namespace = 0;
            s.after = null;
            next(s);
            return;
        }
        int source = s.sources[s.source];
        if (!detector.isAlive(source)) {
            // Every owner must be streamed (a write acknowledged at W=1 may be on it alone): wait for it.
            scheduler.schedule(settings.retryMillis(), () -> next(s));
            return;
        }
        long id = ids.next(Protocol.STREAM);
        awaiting.put(id, s);
        transport.send(source, new Message.StreamRequest(membership.get().epoch(), id, s.current().id(), s.partition, s.after,
                settings.chunkBytes(), s.states() ? Message.StreamRequest.Part.PAXOS_STATES : Message.StreamRequest.Part.RECORDS));
        scheduler.schedule(requestTimeoutMillis, () -> {
            if (awaiting.remove(id) != null) {
                streamErrors++;
                next(s);
            }
        });
    }

    /**
     * The stream an answer is for, when it is still running and asked {@code from} for
     * {@code states} or records and the answer carries no failure; else null (a failure: the chunk
     * is asked for again later).
     */
    private Stream answered(int from, long requestId, boolean states, Message.Failure error) {
        Stream s = awaiting.get(requestId);
        if (s == null || streams.get(s.partition) != s || s.source >= s.sources.length || s.sources[s.source] != from || s.states() != states) {
            return null;
        }
        awaiting.remove(requestId);
        if (error != null) {
            failed(s);
            return null;
        }
        return s;
    }

    void onStreamResponse(int from, Message.StreamResponse r) {
        Stream s = answered(from, r.requestId(), false, r.error());
        if (s == null) {
            return;
        }
        Namespace ns = s.current();
        List<Op> ops = new ArrayList<>(r.entries().size());
        long bytes = 0;
        for (Message.StreamEntry e : r.entries()) {
            // A peer can lie: every record must belong to the partition, after where the stream stands.
            if (!inStream(s, ns, e.key())) {
                failed(s);
                return;
            }
            ops.add(new Op.Apply(e.key(), e.record()));
            bytes += e.key().length + (e.record().tombstone() ? 0 : e.record().value().length) + 32;
        }
        byte[] last = r.entries().isEmpty() ? null : r.entries().get(r.entries().size() - 1).key();
        if (ops.isEmpty()) {
            advance(s, r.done(), last, 0);
            return;
        }
        long chunkBytes = bytes;
        local.apply(ns, ops, (results, failure) -> stored(s, failure, r.done(), last, chunkBytes, () -> recordsStreamed += ops.size()));
    }

    /**
     * A chunk of an owner's Paxos states: joined into this replica's ({@link PaxosState#join}), so
     * that a proposal a majority of the owners accepted before the move and no round finished is
     * still found by a prepare that reaches a majority of the next set, and no ballot an owner
     * promised can win here after the flip. The owner's records of the chunk's keys are stored
     * first: a joined state may name a commit this replica never received (it refused or missed
     * the commit message, and streamed the partition's records before the commit), and a prepare
     * takes a replica's commit as proof that the record it reports is at least that new.
     */
    void onStateStreamResponse(int from, Message.StateStreamResponse r) {
        Stream s = answered(from, r.requestId(), true, r.error());
        if (s == null) {
            return;
        }
        Namespace ns = s.current();
        long bytes = 0;
        for (Message.StateEntry e : r.entries()) {
            if (!inStream(s, ns, e.key()) || acceptor.refusal(e.state()) != null) {
                failed(s);
                return;
            }
            bytes += e.key().length + 64 + (e.state().accepted() == null || e.state().accepted().tombstone() ? 0 : e.state().accepted().value().length)
                    + (e.record() == null || e.record().tombstone() ? 0 : e.record().value().length);
        }
        byte[] last = r.entries().isEmpty() ? null : r.entries().get(r.entries().size() - 1).key();
        if (r.entries().isEmpty()) {
            advance(s, r.done(), last, 0);
            return;
        }
        long chunkBytes = bytes;
        Runnable join = () -> acceptor.join(ns, s.partition, r.entries(), (changed, failure) -> stored(s, failure, r.done(), last, chunkBytes,
                () -> statesStreamed += r.entries().size()));
        List<Op> records = new ArrayList<>();
        for (Message.StateEntry e : r.entries()) {
            if (e.record() != null) {
                records.add(new Op.Apply(e.key(), e.record()));
            }
        }
        if (records.isEmpty()) {
            join.run();
            return;
        }
        local.apply(ns, records, (results, failure) -> {
            if (failure != null) {
                if (streams.get(s.partition) == s) {
                    failed(s);
                }
                return;
            }
            join.run();
        });
    }

    /** Whether a streamed key belongs to the stream's partition and comes after where the stream stands. */
    private static boolean inStream(Stream s, Namespace ns, byte[] key) {
        return ns.partitionOf(key) == s.partition && (s.after == null || Arrays.compareUnsigned(key, s.after) > 0);
    }

    /** A chunk's store finished: on with the stream (counted), or, when it failed, the chunk again later. */
    private void stored(Stream s, Exception failure, boolean done, byte[] last, long chunkBytes, Runnable count) {
        if (streams.get(s.partition) != s) {
            return;
        }
        if (failure != null) {
            failed(s);
            return;
        }
        bytesStreamed += chunkBytes;
        count.run();
        advance(s, done, last, chunkBytes);
    }

    private void failed(Stream s) {
        streamErrors++;
        scheduler.schedule(settings.retryMillis(), () -> next(s));
    }

    /** A chunk is stored: on to the next namespace or part when {@code done}, else past {@code last}; throttled by its bytes. */
    private void advance(Stream s, boolean done, byte[] last, long chunkBytes) {
        if (done) {
            s.namespace++;
            s.after = null;
        } else if (last != null) {
            s.after = last;
        }
        long share = Math.max(1, settings.maxBytesPerSecond() / shard.count());
        scheduler.schedule(chunkBytes * 1000 / share, () -> next(s));
    }

    // ------------------------------------------------------------------ owner

    void onStreamRequest(int from, Message.StreamRequest r, Namespace ns) {
        int maxBytes = Math.min(r.maxBytes(), MAX_CHUNK_BYTES);
        boolean states = r.part() == Message.StreamRequest.Part.PAXOS_STATES;
        byte[] start = r.after() != null ? successor(states ? Keyspace.paxos(ns.id(), r.partition(), r.after()) : Keyspace.data(ns.id(), r.partition(), r.after()))
                : states ? Keyspace.paxosStart(ns.id(), r.partition()) : Keyspace.partitionStart(ns.id(), r.partition());
        byte[] end = states ? Keyspace.paxosEnd(ns.id(), r.partition()) : Keyspace.partitionEnd(ns.id(), r.partition());
        local.run(engine -> states ? stateChunk(engine, ns.id(), r.partition(), start, end, maxBytes, r.requestId())
                : chunk(engine, start, end, maxBytes, r.requestId()), (chunk, failure) -> {
            if (failure != null) {
                transport.send(from, failed(r, Message.Failure.of(failure)));
                return;
            }
            chunksServed++;
            transport.send(from, chunk);
        });
    }

    /** The answer to {@code r} that carries {@code failure}, of the kind its part asks for. */
    static Message failed(Message.StreamRequest r, Message.Failure failure) {
        return r.part() == Message.StreamRequest.Part.PAXOS_STATES ? new Message.StateStreamResponse(r.requestId(), null, false, failure)
                : new Message.StreamResponse(r.requestId(), null, false, failure);
    }

    /** Runs on the storage lane: the records after {@code start}, skipping corrupt copies (another owner has a good one). */
    private static Message chunk(StorageEngine engine, byte[] start, byte[] end, int maxBytes, long requestId) {
        Scanned<Message.StreamEntry> s = scan(engine, start, end, maxBytes, (key, value) -> new Message.StreamEntry(key, RecordCodec.decode(key, value)));
        return new Message.StreamResponse(requestId, s.entries(), s.done(), null);
    }

    /**
     * Runs on the storage lane: the Paxos states after {@code start}, each with this owner's record
     * of its key, read after the state (so at least as new as every commit the state names: a
     * commit's record is stored before its note). A corrupt state is left out: this owner refuses
     * to take part for that key, and the other owners' states of it are streamed; so is a state
     * whose record is corrupt (the incoming replica must not learn of a commit without its record).
     * The records count toward {@code maxBytes}: the chunk ends early, not done, when they fill it.
     */
    private static Message stateChunk(StorageEngine engine, int nsId, int partition, byte[] start, byte[] end, int maxBytes, long requestId) {
        Scanned<Message.StateEntry> s = scan(engine, start, end, maxBytes, (key, value) -> new Message.StateEntry(key, PaxosState.decode(key, value)));
        List<Message.StateEntry> entries = new ArrayList<>(s.entries().size());
        long bytes = 0;
        for (Message.StateEntry e : s.entries()) {
            byte[] raw = engine.get(Keyspace.data(nsId, partition, e.key()));
            Record record;
            try {
                record = raw == null ? null : RecordCodec.decode(e.key(), raw);
            } catch (CorruptRecordException c) {
                continue;
            }
            entries.add(new Message.StateEntry(e.key(), e.state(), record));
            bytes += e.key().length + 64 + (raw == null ? 0 : raw.length);
            if (bytes >= maxBytes) {
                // The rest of the scanned states, after this key, come with the next chunk.
                return new Message.StateStreamResponse(requestId, entries, false, null);
            }
        }
        return new Message.StateStreamResponse(requestId, entries, s.done(), null);
    }

    private record Scanned<E>(List<E> entries, boolean done) {}

    /**
     * Up to {@link #MAX_CHUNK_RECORDS} entries from {@code start} (about {@code maxBytes}), each
     * decoded with its user key; an entry that fails to decode ({@link CorruptRecordException}) is
     * left out. {@code done} when the range ended before either bound.
     */
    private static <E> Scanned<E> scan(StorageEngine engine, byte[] start, byte[] end, int maxBytes,
                                       java.util.function.BiFunction<byte[], byte[], E> decode) {
        List<StorageEngine.Entry> raw = engine.scan(start, end, MAX_CHUNK_RECORDS, maxBytes);
        List<E> entries = new ArrayList<>(raw.size());
        long bytes = 0;
        for (StorageEngine.Entry e : raw) {
            byte[] key = Keyspace.userKeyOf(e.key());
            bytes += e.key().length + e.value().length;
            try {
                entries.add(decode.apply(key, e.value()));
            } catch (CorruptRecordException c) {
                // Left out; see the callers.
            }
        }
        return new Scanned<>(entries, raw.size() < MAX_CHUNK_RECORDS && bytes < maxBytes);
    }

    private static byte[] successor(byte[] key) {
        return Arrays.copyOf(key, key.length + 1);
    }

    // ------------------------------------------------------------------ outgoing replica

    private void drop(int p, long since) {
        List<Namespace> served = namespaces.values().stream().filter(ns -> p < ns.partitioner().partitions()).toList();
        dropping.add(p);
        dropCancels.put(p, new java.util.concurrent.atomic.AtomicBoolean());
        dropNext(p, since, served, 0);
    }

    /**
     * A new membership: drops of partitions this node takes writes for again stop, including a
     * batch already queued behind a slow disk (its job asks the flag before deleting), since the
     * records it would delete are now the partition's (the simulator found a queued batch deleting
     * a write that arrived after the partition came back).
     */
    void onMembership() {
        PartitionMap map = membership.get().map();
        dropCancels.entrySet().removeIf(e -> {
            if (map.takesWrites(e.getKey(), self)) {
                e.getValue().set(true);
                return true;
            }
            return false;
        });
    }

    private void dropNext(int p, long since, List<Namespace> served, int index) {
        // Checked before every batch: a drop takes many batches, and a later plan may give the
        // partition back to this node meanwhile (it is an incoming replica again); then the records
        // it holds and receives are the partition's, and deleting them would lose writes.
        java.util.concurrent.atomic.AtomicBoolean cancelled = dropCancels.get(p);
        if (!running || cancelled == null || cancelled.get() || membership.get().map().takesWrites(p, self)) {
            dropping.remove(p);
            return;
        }
        if (index == served.size()) {
            dropping.remove(p);
            if (dropped.getOrDefault(p, -1L) != since) {
                dropped.put(p, since);
                partitionsDropped++;
                // Once more a while later: a write that was already on its way into this node's
                // write path (a repair, an exchange's fetch) when the first pass ran leaves no copy.
                scheduler.schedule(2 * requestTimeoutMillis, () -> {
                    if (running && !dropping.contains(p) && dropped(p)) {
                        dropping.add(p);
                        dropCancels.put(p, new java.util.concurrent.atomic.AtomicBoolean());
                        dropNext(p, since, served, 0);
                    }
                });
            }
            return;
        }
        local.dropPartition(served.get(index), p, DROP_BATCH, () -> !cancelled.get(), (more, failure) -> {
            if (failure != null) {
                dropping.remove(p); // Tried again at a later tick.
                return;
            }
            dropNext(p, since, served, Boolean.TRUE.equals(more) ? index : index + 1);
        });
    }

    private static boolean contains(int[] a, int v) {
        for (int x : a) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }
}
