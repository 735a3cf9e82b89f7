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

    @Test
    void aStateListsEveryCommitItAppliedThatItClaimsToRemember() {
        Trials.run(7104, 500, 40, gen -> {
            List<Version> appliedA = new ArrayList<>();
            List<Version> appliedB = new ArrayList<>();
            PaxosState a = history(gen, appliedA);
            PaxosState b = history(gen, appliedB);
            for (Version v : appliedA) {
                if (a.remembers(v)) {
                    assertThat(a.recent()).as("a commit of %s, newer than dropped %s", v, a.dropped()).contains(v);
                }
            }
            PaxosState joined = a.join(b);
            List<Version> both = new ArrayList<>(appliedA);
            both.addAll(appliedB);
            for (Version v : both) {
                if (joined.remembers(v)) {
                    assertThat(joined.recent()).as("a commit of %s either applied, newer than dropped %s", v, joined.dropped()).contains(v);
                }
            }
            if (new java.util.HashSet<>(appliedA).size() > PaxosState.RECENT) {
                // More commits than it lists: it dropped some, and no longer vouches for them.
                assertThat(a.dropped()).isNotNull();
            }
        });
    }

    @Test
    void aStateStoredBeforeDroppedCommitsWereCountedVouchesForNothingOnceItsListIsFull() {
        byte[] key = {'k'};
        List<Version> full = new ArrayList<>();
        for (int i = PaxosState.RECENT; i > 0; i--) {
            full.add(new Version(100 + i, 1));
        }
        PaxosState legacy = PaxosState.decode(key, formatTwo(key, new Version(200, 2), full));
        assertThat(legacy.recent()).isEqualTo(full);
        assertThat(legacy.dropped()).isEqualTo(PaxosState.UNKNOWN_DROPPED);
        assertThat(legacy.remembers(new Version(150, 3))).isFalse();
        PaxosState short_ = PaxosState.decode(key, formatTwo(key, new Version(200, 2), full.subList(0, 3)));
        assertThat(short_.dropped()).isNull();
        assertThat(short_.remembers(new Version(1, 1))).isTrue();
        // Stored again, it keeps not knowing.
        assertThat(PaxosState.decode(key, legacy.commit(new Version(300, 1), new Version(300, 1)).encode(key)).dropped())
                .isEqualTo(PaxosState.UNKNOWN_DROPPED);
    }

    /** The stored form before dropped commits were counted (format 2): a promise and a list of commits. */
    private static byte[] formatTwo(byte[] key, Version promised, List<Version> recent) {
        java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(2 + 12 + 1 + 12 * recent.size() + 4).put((byte) 2).put((byte) 1)
                .putLong(promised.timestamp()).putInt(promised.nodeId()).put((byte) recent.size());
        for (Version v : recent) {
            out.putLong(v.timestamp()).putInt(v.nodeId());
        }
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(key);
        crc.update(out.array(), 0, out.position());
        return out.putInt((int) crc.getValue()).array();
    }

    /** A state after a random run of an acceptor's steps; a ballot's proposal is always the same record. */
    private static PaxosState history(Gen gen) {
        return history(gen, new ArrayList<>());
    }

    /** The same, noting in {@code applied} the record version of every commit the run applied. */
    private static PaxosState history(Gen gen, List<Version> applied) {
        PaxosState s = PaxosState.EMPTY;
        for (int i = gen.between(0, 30); i > 0; i--) {
            Version b = ballot(gen);
            switch (gen.between(0, 2)) {
                case 0 -> s = s.admits(b) ? s.promise(b) : s;
                case 1 -> s = s.admits(b) ? s.accept(b, proposal(b)) : s;
                default -> {
                    s = s.commit(b, b);
                    applied.add(b);
                }
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
