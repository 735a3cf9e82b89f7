package io.cairn.paxos;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.clock.Version;
import io.cairn.property.Gen;
import io.cairn.property.Trials;
import io.cairn.record.Record;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link PaxosState#join}: what an incoming replica ends up with when it takes another replica's
 * state of a key during a move. Each state here is the result of a random run of promises,
 * acceptances and commits, as an acceptor would go through them.
 */
class PaxosStateJoinProperties {
    @Test
    void theJoinRefusesExactlyWhatEitherRefused() {
        Trials.run(7101, 500, 40, gen -> {
            PaxosState a = history(gen);
            PaxosState b = history(gen);
            PaxosState joined = a.join(b);
            for (int i = 0; i < 20; i++) {
                Version probe = ballot(gen);
                assertThat(joined.admits(probe)).as("ballot %s", probe).isEqualTo(a.admits(probe) && b.admits(probe));
            }
        });
    }

    @Test
    void theJoinKeepsTheNewestProposalNoKnownCommitCovers() {
        Trials.run(7102, 500, 40, gen -> {
            PaxosState a = history(gen);
            PaxosState b = history(gen);
            PaxosState joined = a.join(b);
            Version newestCommit = max(a.committed(), b.committed());
            Version newestAccepted = max(a.ballot(), b.ballot());
            if (newestAccepted == null || (newestCommit != null && newestAccepted.compareTo(newestCommit) <= 0)) {
                assertThat(joined.ballot()).isNull();
            } else {
                assertThat(joined.ballot()).isEqualTo(newestAccepted);
                assertThat(joined.accepted()).isEqualTo(newestAccepted.equals(a.ballot()) ? a.accepted() : b.accepted());
            }
            assertThat(joined.committed()).isEqualTo(newestCommit);
            List<Version> remembered = new ArrayList<>(a.recent());
            remembered.addAll(b.recent());
            assertThat(remembered).containsAll(joined.recent());
            assertThat(joined.recent()).hasSizeLessThanOrEqualTo(PaxosState.RECENT).doesNotHaveDuplicates();
        });
    }

    @Test
    void theJoinIsOrderFreeAndTakingAStateTwiceChangesNothing() {
        Trials.run(7103, 500, 40, gen -> {
            PaxosState a = history(gen);
            PaxosState b = history(gen);
            PaxosState c = history(gen);
            assertThat(a.join(b)).isEqualTo(b.join(a));
            assertThat(a.join(b).join(c)).isEqualTo(a.join(b.join(c)));
            assertThat(a.join(b).join(b)).isEqualTo(a.join(b));
            assertThat(a.join(PaxosState.EMPTY)).isEqualTo(a.join(a));
            byte[] key = {'k'};
            assertThat(PaxosState.decode(key, a.join(b).encode(key))).isEqualTo(a.join(b));
        });
    }

    /** A state after a random run of an acceptor's steps; a ballot's proposal is always the same record. */
    private static PaxosState history(Gen gen) {
        PaxosState s = PaxosState.EMPTY;
        for (int i = gen.between(0, 8); i > 0; i--) {
            Version b = ballot(gen);
            switch (gen.between(0, 2)) {
                case 0 -> s = s.admits(b) ? s.promise(b) : s;
                case 1 -> s = s.admits(b) ? s.accept(b, proposal(b)) : s;
                default -> s = s.commit(b, b);
            }
        }
        return s;
    }

    private static Version ballot(Gen gen) {
        return new Version(gen.between(1L, 40L), gen.between(1, 3));
    }

    private static Record proposal(Version ballot) {
        return Record.value(ballot, Record.NO_EXPIRY, null, new byte[] {(byte) ballot.timestamp(), (byte) ballot.nodeId()});
    }

    private static Version max(Version a, Version b) {
        return a == null ? b : b == null ? a : a.compareTo(b) >= 0 ? a : b;
    }
}
