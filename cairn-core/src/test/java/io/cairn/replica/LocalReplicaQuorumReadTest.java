package io.cairn.replica;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.antientropy.PurgeGate;
import io.cairn.clock.HybridClock;
import io.cairn.clock.ManualClock;
import io.cairn.clock.Version;
import io.cairn.namespace.Consistency;
import io.cairn.namespace.Namespace;
import io.cairn.paxos.PaxosState;
import io.cairn.placement.Partitioner;
import io.cairn.record.CorruptRecordException;
import io.cairn.record.Record;
import io.cairn.request.Limits;
import io.cairn.request.Op;
import io.cairn.request.WriteRequest;
import io.cairn.storage.Durability;
import io.cairn.storage.Keyspace;
import io.cairn.storage.MemoryEngine;
import io.cairn.storage.WriteBatch;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What a replica answers a quorum read: its record, and the version of the key's accepted Paxos
 * proposal that no commit has been noted for (a conditional write answered once chosen, its commit
 * still under way).
 */
class LocalReplicaQuorumReadTest {
    private static final long T = 1_700_000_000_000L;
    private static final Namespace QUORUM = new Namespace(Namespace.DEFAULT_ID, Namespace.DEFAULT_NAME, new Partitioner(8), 0);
    private static final Namespace SERIAL = new Namespace(7, "locks", new Partitioner(8), 0, true, Consistency.SERIAL, null, null, 0);
    private static final byte[] KEY = "k".getBytes(StandardCharsets.UTF_8);

    private final MemoryEngine engine = new MemoryEngine();
    private final LocalReplica replica = new LocalReplica(engine, new HybridClock(new ManualClock(T), 1), Durability.SYNC, 10_000,
            Limits.DEFAULTS, new ReplicaAntiEntropy(true, PurgeGate.ALONE, 1_000));

    @Test
    void anAcceptedProposalIsReportedBesideTheRecordUntilItsCommitIsNoted() {
        Record stored = value(T - 1_000, 2, "old");
        replica.apply(List.of(WriteRequest.of(QUORUM, new Op.Apply(KEY, stored))));
        assertThat(replica.readForQuorum(QUORUM, KEY)).isEqualTo(new LocalReplica.ReplicaRead(stored, null));

        Version ballot = version(T - 500, 3);
        Record proposed = value(T - 500, 3, "new");
        PaxosState accepted = PaxosState.EMPTY.promise(ballot).accept(ballot, proposed);
        putState(QUORUM, accepted.encode(KEY));
        assertThat(replica.readForQuorum(QUORUM, KEY)).isEqualTo(new LocalReplica.ReplicaRead(stored, proposed.version()));

        // The commit stores the record, then notes the proposal done.
        replica.apply(List.of(WriteRequest.of(QUORUM, new Op.Apply(KEY, proposed))));
        putState(QUORUM, accepted.commit(ballot, proposed.version()).encode(KEY));
        assertThat(replica.readForQuorum(QUORUM, KEY)).isEqualTo(new LocalReplica.ReplicaRead(proposed, null));
    }

    @Test
    void aSerialNamespaceIsReadThroughPaxosAndNeverAsked() {
        Version ballot = version(T - 500, 3);
        putState(SERIAL, PaxosState.EMPTY.promise(ballot).accept(ballot, value(T - 500, 3, "new")).encode(KEY));
        assertThat(replica.readForQuorum(SERIAL, KEY)).isEqualTo(new LocalReplica.ReplicaRead(null, null));
    }

    @Test
    void aCorruptStateFailsTheReadRatherThanHidingAProposal() {
        Version ballot = version(T - 500, 3);
        byte[] encoded = PaxosState.EMPTY.promise(ballot).accept(ballot, value(T - 500, 3, "new")).encode(KEY);
        encoded[encoded.length - 1] ^= 0x5A;
        putState(QUORUM, encoded);
        assertThatThrownBy(() -> replica.readForQuorum(QUORUM, KEY)).isInstanceOf(CorruptRecordException.class)
                .hasMessageContaining("paxos state");
    }

    @Test
    void aReplicaStartedOverADiskWithStatesLooksForThemAndOneWithoutNeverDoes() {
        Version ballot = version(T - 500, 3);
        Record proposed = value(T - 500, 3, "new");
        engine.write(new WriteBatch().put(Keyspace.paxos(QUORUM.id(), QUORUM.partitionOf(KEY), KEY),
                PaxosState.EMPTY.promise(ballot).accept(ballot, proposed).encode(KEY)), Durability.SYNC);
        LocalReplica restarted = new LocalReplica(engine, new HybridClock(new ManualClock(T), 1), Durability.SYNC, 10_000,
                Limits.DEFAULTS, new ReplicaAntiEntropy(true, PurgeGate.ALONE, 1_000));
        assertThat(restarted.readForQuorum(QUORUM, KEY).unfinished()).as("found on disk at the first read").isEqualTo(proposed.version());

        Namespace other = new Namespace(9, "sessions", new Partitioner(8), 0);
        assertThat(restarted.readForQuorum(other, KEY)).as("no state of that namespace anywhere").isEqualTo(new LocalReplica.ReplicaRead(null, null));
    }

    /** As the acceptor does: noted, then written. */
    private void putState(Namespace ns, byte[] encoded) {
        replica.notePaxosStates(ns.id());
        engine.write(new WriteBatch().put(Keyspace.paxos(ns.id(), ns.partitionOf(KEY), KEY), encoded), Durability.SYNC);
    }

    private static Version version(long millis, int node) {
        return new Version(Version.pack(millis, 0), node);
    }

    private static Record value(long millis, int node, String value) {
        return Record.value(version(millis, node), Record.NO_EXPIRY, null, value.getBytes(StandardCharsets.UTF_8));
    }
}
