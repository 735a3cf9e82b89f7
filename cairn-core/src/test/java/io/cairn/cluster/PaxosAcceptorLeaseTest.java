package io.cairn.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.clock.HybridClock;
import io.cairn.clock.ManualClock;
import io.cairn.clock.Version;
import io.cairn.error.ErrorCode;
import io.cairn.message.Message;
import io.cairn.message.Message.PaxosRequest.Phase;
import io.cairn.message.Message.PaxosResponse;
import io.cairn.namespace.Namespace;
import io.cairn.placement.Partitioner;
import io.cairn.record.Record;
import io.cairn.replica.LocalReplica;
import io.cairn.replica.LocalStore;
import io.cairn.request.Limits;
import io.cairn.request.Op;
import io.cairn.storage.Durability;
import io.cairn.storage.MemoryEngine;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The acceptor's side of a lease (see {@code Paxos}): what a proposal's lease ballot promises, and
 * what a proposal made under a lease is refused for. The proposer's skipped prepare is only safe
 * because of these rules.
 */
class PaxosAcceptorLeaseTest {
    private static final long T = 1_700_000_000_000L;
    private static final byte[] KEY = "k".getBytes(StandardCharsets.UTF_8);
    private static final int PROPOSER = 2;

    private final Namespace ns = new Namespace(1, "default", new Partitioner(1), 0);
    private final ManualClock wall = new ManualClock(T);
    private final MemoryEngine engine = new MemoryEngine();
    private final HybridClock clock = new HybridClock(wall, 1);
    private final LocalStore store = LocalStore.direct(new LocalReplica(engine, clock, Durability.SYNC, 0, Limits.DEFAULTS), engine);
    private final PaxosAcceptor acceptor = new PaxosAcceptor(clock, store);
    private long ids;

    @Test
    void anAcceptedLeaseProposalPromisesItsNextBallotWithTheAcceptance() {
        Version ballot = at(10);
        Version lease = at(20);
        Record chosen = value(ballot, "v1");
        assertThat(ask(propose(ballot, chosen, lease, null)).ok()).isTrue();

        // Another proposer's prepare between the two ballots would let it choose a record the
        // lease's holder never sees: it is refused, naming the lease's ballot.
        PaxosResponse between = ask(prepare(at(15)));
        assertThat(between.ok()).isFalse();
        assertThat(between.promised()).isEqualTo(lease);
        // The lease's own proposal is admitted.
        assertThat(ask(propose(lease, value(lease, "v2"), null, ballot)).ok()).isTrue();
    }

    @Test
    void aProposalWithoutALeasePromisesNothingBeyondItsBallot() {
        Version ballot = at(10);
        assertThat(ask(propose(ballot, value(ballot, "v1"), null, null)).ok()).isTrue();
        PaxosResponse after = ask(prepare(at(15)));
        assertThat(after.ok()).isTrue();
        assertThat(after.accepted()).isEqualTo(value(ballot, "v1"));
    }

    @Test
    void aLeaseProposalIsRefusedWhenTheKeysRecordIsNewerThanTheOneItsLeaseWasTakenOn() {
        Version ballot = at(10);
        Version lease = at(30);
        Record chosen = value(ballot, "v1");
        assertThat(ask(propose(ballot, chosen, lease, null)).ok()).isTrue();
        assertThat(ask(new Message.PaxosRequest(Phase.COMMIT, 1, ++ids, ns.id(), KEY, ballot, chosen)).ok()).isTrue();
        // A plain write lands between (a quorum namespace), stamped above the chosen record.
        Record plain = value(at(20), "plain");
        store.apply(ns, List.of(new Op.Apply(KEY, plain)), (results, failure) -> assertThat(failure).isNull());

        PaxosResponse refused = ask(propose(lease, value(lease, "v2"), null, ballot));
        assertThat(refused.ok()).isFalse();
        assertThat(refused.error().code()).isEqualTo(ErrorCode.CONTENTION);
        // Nothing was accepted: a later prepare finds no proposal newer than the commit, and the plain write stands.
        PaxosResponse prepared = ask(prepare(at(40)));
        assertThat(prepared.ok()).isTrue();
        assertThat(prepared.accepted()).isNull();
        assertThat(prepared.current()).isEqualTo(plain);
    }

    @Test
    void aLeaseProposalIsAcceptedWhenTheKeysRecordIsTheOneItsLeaseWasTakenOn() {
        Version ballot = at(10);
        Version lease = at(30);
        Record chosen = value(ballot, "v1");
        ask(propose(ballot, chosen, lease, null));
        ask(new Message.PaxosRequest(Phase.COMMIT, 1, ++ids, ns.id(), KEY, ballot, chosen));
        assertThat(ask(propose(lease, value(lease, "v2"), null, ballot)).ok()).isTrue();
        assertThat(ask(prepare(at(40))).accepted()).isEqualTo(value(lease, "v2"));
    }

    @Test
    void aLeaseBallotBeyondTheClockBoundIsRefusedAndPromisesNothing() {
        Version ballot = at(10);
        Version farLease = at(HybridClock.DEFAULT_MAX_OFFSET_MILLIS + 60_000);
        PaxosResponse refused = ask(propose(ballot, value(ballot, "v1"), farLease, null));
        assertThat(refused.ok()).isFalse();
        assertThat(refused.error().code()).isEqualTo(ErrorCode.CLOCK_UNSAFE);
        assertThat(ask(prepare(at(15))).ok()).isTrue();
    }

    // ---------------------------------------------------------------- harness

    private PaxosResponse ask(Message.PaxosRequest request) {
        List<PaxosResponse> answers = new ArrayList<>();
        acceptor.onRequest(ns, 0, request, answers::add);
        assertThat(answers).hasSize(1);
        return answers.get(0);
    }

    private Message.PaxosRequest prepare(Version ballot) {
        return new Message.PaxosRequest(Phase.PREPARE, 1, ++ids, ns.id(), KEY, ballot, null);
    }

    private Message.PaxosRequest propose(Version ballot, Record record, Version next, Version expected) {
        return new Message.PaxosRequest(Phase.PROPOSE, 1, ++ids, ns.id(), KEY, ballot, record, next, expected);
    }

    private static Version at(long millisAfterStart) {
        return new Version(Version.pack(T + millisAfterStart, 0), PROPOSER);
    }

    private static Record value(Version version, String value) {
        return Record.value(version, Record.NO_EXPIRY, "text/plain", value.getBytes(StandardCharsets.UTF_8));
    }
}
