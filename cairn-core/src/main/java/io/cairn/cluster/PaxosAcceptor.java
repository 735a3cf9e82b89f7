package io.cairn.cluster;

import io.cairn.clock.HybridClock;
import io.cairn.clock.Version;
import io.cairn.error.ErrorCode;
import io.cairn.message.Message;
import io.cairn.message.Message.PaxosRequest.Phase;
import io.cairn.message.Message.PaxosResponse;
import io.cairn.namespace.Namespace;
import io.cairn.paxos.PaxosState;
import io.cairn.record.CorruptRecordException;
import io.cairn.record.Record;
import io.cairn.record.RecordCodec;
import io.cairn.replica.LocalStore;
import io.cairn.request.Op;
import io.cairn.request.OpResult;
import io.cairn.storage.Durability;
import io.cairn.storage.Keyspace;
import io.cairn.storage.WriteBatch;
import java.util.List;
import java.util.function.Consumer;

/**
 * This replica's side of per-key Paxos: it promises, accepts and applies commits, keeping each
 * key's {@link PaxosState} durably in the Paxos keyspace. Every read-check-write of a state is one
 * durable (or detached) job, and those run one at a time in order, so two requests about one key never interleave; a promise or an
 * acceptance is synced before it is answered (a proposer counts on it surviving a crash; the sync
 * is shared with other requests', {@link LocalStore#runDurably}), and a
 * commit stores the chosen record through the ordinary replica write path before its state is
 * noted (so a prepare that sees the commit also reads its record). A proposal carrying a lease
 * ballot ({@code next}) promises it in the same state write as the acceptance; one made under a
 * lease ({@code expected}) is refused ({@code contention}) when the key's stored record is newer
 * than the one the lease was taken on (see {@code Paxos}, leases).
 *
 * <p>Hostile input: a ballot or a record stamped beyond the max clock offset is refused
 * ({@code clock_unsafe}), a lease ballot too, as is a proposal whose record is newer than its ballot (a proposal's
 * record carries the ballot that first proposed it, never a later one). A state that fails its
 * checksum makes the replica refuse to take part for that key ({@code corrupt_record}): forgetting
 * a promise could let an older ballot win.
 */
final class PaxosAcceptor {
    private final HybridClock clock;
    private final LocalStore local;
    private long corruptStates;

    PaxosAcceptor(HybridClock clock, LocalStore local) {
        this.clock = clock;
        this.local = local;
    }

    /** Paxos states found corrupt (each refused a request). */
    long corruptStates() {
        return corruptStates;
    }

    /** Answers {@code r} (about {@code partition} of {@code ns}, which this node serves) through {@code reply}. */
    void onRequest(Namespace ns, int partition, Message.PaxosRequest r, Consumer<PaxosResponse> reply) {
        Message.Failure refused = validate(r);
        if (refused != null) {
            reply.accept(PaxosResponse.failed(r.phase(), r.requestId(), refused));
            return;
        }
        clock.observePeer(r.ballot().timestamp());
        byte[] stateKey = Keyspace.paxos(ns.id(), partition, r.key());
        switch (r.phase()) {
            // The key's record is read in the same job, right after the promise: every commit noted
            // before it (in the durable jobs' order) had its record stored first.
            case PREPARE -> step(stateKey, Keyspace.data(ns.id(), partition, r.key()), r, s -> s.admits(r.ballot()) ? s.promise(r.ballot()) : null,
                    reply, o -> reply.accept(new PaxosResponse(Phase.PREPARE, r.requestId(), true, r.ballot(), o.state().ballot(),
                            o.state().accepted(), o.state().committed(), o.state().recent(), o.state().dropped(), o.record(), null)));
            // With a lease (next), the acceptance promises the proposer's next ballot too; a proposal
            // made under a lease (expected) is refused when the key's record is newer than the one
            // the lease was taken on.
            case PROPOSE -> step(stateKey, r.expected() != null ? Keyspace.data(ns.id(), partition, r.key()) : null, r,
                    s -> !s.admits(r.ballot()) ? null : r.next() == null ? s.accept(r.ballot(), r.record()) : s.accept(r.ballot(), r.record()).promise(r.next()),
                    reply, o -> reply.accept(PaxosResponse.done(Phase.PROPOSE, r.requestId())));
            case COMMIT -> local.apply(ns, List.of(new Op.Apply(r.key(), r.record())), (results, failure) -> {
                if (failure != null || !OpResult.stored(results.get(0))) {
                    reply.accept(PaxosResponse.failed(Phase.COMMIT, r.requestId(), failure != null ? Message.Failure.of(failure)
                            : new Message.Failure(ErrorCode.STORAGE_FAILED, "the committed record was not stored: " + results.get(0))));
                    return;
                }
                // Not synced: a commit note lost in a crash leaves the proposal accepted, and the
                // next round finishes it again, which stores the same record. Nor waited for: it is
                // queued before the answer leaves, so every later request of the key
                // sees it (and a prepare that does syncs it); if it fails, the record is stored all
                // the same, and the next round finishes the proposal again.
                local.runDetached(stepJob(stateKey, null, r, s -> s.commit(r.ballot(), r.record().version())));
                reply.accept(PaxosResponse.done(Phase.COMMIT, r.requestId()));
            });
        }
    }

    /**
     * Why a streamed state may not be taken, or null: each of its ballots must pass the clock
     * bound a ballot in a request passes, and its accepted record must not be newer than its ballot.
     */
    String refusal(PaxosState state) {
        for (Version b : state.versions()) {
            String beyond = beyondClock(b);
            if (beyond != null) {
                return beyond;
            }
        }
        return state.accepted() == null ? null : afterBallot(state.accepted(), state.ballot());
    }

    /** Why a peer's ballot (or a version beside it) may not be used: beyond the max clock offset; or null. */
    private String beyondClock(Version b) {
        return clock.checkPeer(b.timestamp()) ? null : "ballot refused: " + clock.describe(b.timestamp());
    }

    /** Why {@code record} may not be proposed under {@code ballot}: it is newer than the ballot that first proposed it; or null. */
    private static String afterBallot(Record record, Version ballot) {
        return record.version().isNewerThan(ballot) ? "a proposal's record " + record.version() + " is newer than its ballot " + ballot : null;
    }

    /**
     * Joins states another replica of {@code partition} holds into this replica's ({@link PaxosState#join}),
     * as an incoming replica receives them with the partition; synced before {@code done} hears of
     * it, since the move counts on them once the stream is reported done. The caller has checked
     * each entry ({@link #refusal}, its key in the partition). A key whose own state here is
     * corrupt keeps it: this replica goes on refusing to take part for that key.
     */
    void join(Namespace ns, int partition, List<Message.StateEntry> entries, LocalStore.Completed<Integer> done) {
        local.runDurably(engine -> {
            WriteBatch batch = new WriteBatch();
            int changed = 0;
            for (Message.StateEntry e : entries) {
                byte[] stateKey = Keyspace.paxos(ns.id(), partition, e.key());
                byte[] raw = engine.get(stateKey);
                PaxosState mine;
                try {
                    mine = raw == null ? PaxosState.EMPTY : PaxosState.decode(e.key(), raw);
                } catch (CorruptRecordException c) {
                    continue;
                }
                PaxosState joined = mine.join(e.state());
                if (!joined.equals(mine)) {
                    batch.put(stateKey, joined.encode(e.key()));
                    changed++;
                }
            }
            if (changed > 0) {
                engine.write(batch, Durability.ASYNC);
            }
            return changed;
        }, done);
    }

    private Message.Failure validate(Message.PaxosRequest r) {
        String beyond = beyondClock(r.ballot());
        if (beyond == null && r.next() != null) {
            beyond = beyondClock(r.next());
        }
        if (beyond != null) {
            return new Message.Failure(ErrorCode.CLOCK_UNSAFE, beyond);
        }
        String after = r.record() == null ? null : afterBallot(r.record(), r.ballot());
        return after == null ? null : new Message.Failure(ErrorCode.MALFORMED_REQUEST, after);
    }

    /** How a state changes; null when the request's ballot is below the promise (refused). */
    private interface Transition {
        PaxosState apply(PaxosState state);
    }

    /**
     * What a state step found: the state after it (and the key's stored record, when asked for),
     * or the promise that refused it, or a corrupt state (state null) or record.
     */
    private record Outcome(PaxosState state, Record record, Version refusedBy, String corrupt, Version newerRecord) {}

    /**
     * One read-check-write of a key's state in the order of the store's durable jobs, then (when
     * {@code dataKey} is not null) a read of the key's stored record; the answer waits for a WAL
     * sync covering the write (and whatever state it read), shared with other requests' (a promise
     * or an acceptance must survive a crash once it is answered). Every job touching Paxos states
     * runs durably or detached, never on {@link LocalStore#run}'s lane, which is not ordered with them.
     */
    private void step(byte[] stateKey, byte[] dataKey, Message.PaxosRequest r, Transition transition,
                      Consumer<PaxosResponse> reply, Consumer<Outcome> then) {
        LocalStore.Job<Outcome> job = stepJob(stateKey, dataKey, r, transition);
        LocalStore.Completed<Outcome> completed = (outcome, failure) -> {
            if (failure != null) {
                reply.accept(PaxosResponse.failed(r.phase(), r.requestId(), Message.Failure.of(failure)));
            } else if (outcome.corrupt() != null) {
                if (outcome.state() == null) {
                    corruptStates++;
                }
                reply.accept(PaxosResponse.failed(r.phase(), r.requestId(), new Message.Failure(ErrorCode.CORRUPT_RECORD, outcome.corrupt())));
            } else if (outcome.newerRecord() != null) {
                reply.accept(PaxosResponse.failed(r.phase(), r.requestId(), new Message.Failure(ErrorCode.CONTENTION,
                        "the key's record " + outcome.newerRecord() + " is newer than the one the proposer's lease was taken on (" + r.expected() + ")")));
            } else if (outcome.refusedBy() != null) {
                reply.accept(PaxosResponse.refused(r.phase(), r.requestId(), outcome.refusedBy()));
            } else {
                then.accept(outcome);
            }
        };
        local.runDurably(job, completed);
    }

    /**
     * The storage job of a {@link #step}: one read-check-write of a key's state (and, when
     * {@code dataKey} is not null, a read of the key's stored record), its write not synced.
     */
    private static LocalStore.Job<Outcome> stepJob(byte[] stateKey, byte[] dataKey, Message.PaxosRequest r, Transition transition) {
        byte[] key = r.key();
        return engine -> {
            byte[] raw = engine.get(stateKey);
            PaxosState state;
            try {
                state = raw == null ? PaxosState.EMPTY : PaxosState.decode(key, raw);
            } catch (CorruptRecordException e) {
                return new Outcome(null, null, null, "this replica's paxos state of the key is corrupt: " + e.getMessage(), null);
            }
            Record record = null;
            if (dataKey != null) {
                byte[] stored = engine.get(dataKey);
                try {
                    record = stored == null ? null : RecordCodec.decode(key, stored);
                } catch (CorruptRecordException e) {
                    return new Outcome(state, null, null, "the stored record for this key is corrupt (" + e.getMessage() + "); it needs repair", null);
                }
                if (r.expected() != null && record != null && record.version().isNewerThan(r.expected())) {
                    return new Outcome(state, null, null, null, record.version());
                }
            }
            PaxosState next = transition.apply(state);
            if (next == null) {
                return new Outcome(null, null, state.promised(), null, null);
            }
            if (!next.equals(state)) {
                engine.write(new WriteBatch().put(stateKey, next.encode(key)), Durability.ASYNC);
            }
            return new Outcome(next, record, null, null, null);
        };
    }
}
