package io.cairn.server.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.membership.Member;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class VoterPlacementTest {
    private static Member member(int id, String zone) {
        return new Member(id, zone, "h:" + (1000 + id), "h:" + (2000 + id), "h:" + (3000 + id));
    }

    private static List<Member> members(String... zones) {
        List<Member> out = new ArrayList<>();
        for (int i = 0; i < zones.length; i++) {
            out.add(member(i + 1, zones[i]));
        }
        return out;
    }

    @Test
    void aGroupAtItsTargetNeedsNoStep() {
        List<Member> m = members("a", "b", "c", "a");
        assertThat(VoterPlacement.nextStep(m, Set.of(1, 2, 3), Set.of(4), 3)).isNull();
    }

    @Test
    void aJoinedMemberBecomesAListenerAndTheVotersStay() {
        List<Member> m = members("a", "b", "c", "c");
        VoterPlacement.Configuration next = VoterPlacement.nextStep(m, Set.of(1, 2, 3), Set.of(), 3);
        assertThat(next.voterIds()).containsExactlyInAnyOrder(1, 2, 3);
        assertThat(next.listenerIds()).containsExactly(4);
    }

    @Test
    void aRemovedVoterIsReplacedFromAZoneWithoutAVoteAfterLeavingItsListenerPlace() {
        List<Member> m = members("a", "b", "c", "a", "c");
        List<Member> withoutThree = m.stream().filter(x -> x.id() != 3).toList();
        VoterPlacement.Configuration first = VoterPlacement.nextStep(withoutThree, Set.of(1, 2, 3), Set.of(4, 5), 3);
        assertThat(first.voterIds()).containsExactlyInAnyOrder(1, 2);
        assertThat(first.listenerIds()).containsExactly(4);
        VoterPlacement.Configuration second = VoterPlacement.nextStep(withoutThree, first.voterIds(), first.listenerIds(), 3);
        assertThat(second.voterIds()).containsExactlyInAnyOrder(1, 2, 5);
        assertThat(second.listenerIds()).containsExactly(4);
        assertThat(VoterPlacement.nextStep(withoutThree, second.voterIds(), second.listenerIds(), 3)).isNull();
    }

    @Test
    void aSingleVoterGrowsOneVoterPerStepWithoutListeningFirst() {
        List<Member> m = members("a", "b", "c");
        VoterPlacement.Configuration first = VoterPlacement.nextStep(m, Set.of(1), Set.of(), 3);
        assertThat(first.voterIds()).containsExactlyInAnyOrder(1, 2);
        assertThat(first.listenerIds()).isEmpty();
        VoterPlacement.Configuration second = VoterPlacement.nextStep(m, first.voterIds(), first.listenerIds(), 3);
        assertThat(second.voterIds()).containsExactlyInAnyOrder(1, 2, 3);
        assertThat(second.listenerIds()).isEmpty();
        assertThat(VoterPlacement.nextStep(m, second.voterIds(), second.listenerIds(), 3)).isNull();
    }

    @Test
    void neverAddsAsManyNewVotersAsItKeepsNorPromotesAListenerInPlace() {
        List<Member> m = members("a", "b", "c", "a", "b", "c", "a");
        // Two of three voters gone: first shrink to the one left, then grow from it.
        List<Member> withoutTwoAndThree = m.stream().filter(x -> x.id() != 2 && x.id() != 3).toList();
        VoterPlacement.Configuration first = VoterPlacement.nextStep(withoutTwoAndThree, Set.of(1, 2, 3), Set.of(4, 5, 6, 7), 3);
        assertThat(first.voterIds()).containsExactly(1);
        VoterPlacement.Configuration last = converge(withoutTwoAndThree, first, 3);
        assertThat(last.voterIds()).containsExactlyInAnyOrder(1, 5, 6);
        assertThat(last.listenerIds()).containsExactlyInAnyOrder(4, 7);
    }

    @Test
    void fiveVotersSpreadAcrossZonesWhenConfigured() {
        List<Member> m = members("a", "a", "a", "b", "b", "c", "c");
        VoterPlacement.Configuration last = converge(m, new VoterPlacement.Configuration(pick(m, 1, 4, 6), pick(m, 2, 3, 5, 7)), 5);
        assertThat(last.voterIds()).hasSize(5).contains(1, 4, 6);
        // No zone holds three votes: losing one zone never loses the majority of five.
        assertThat(last.voters().stream().collect(Collectors.groupingBy(Member::zone, Collectors.counting())))
                .allSatisfy((zone, votes) -> assertThat(votes).isLessThanOrEqualTo(2));
        assertThat(last.listenerIds()).hasSize(2);
    }

    @Test
    void moreVotersThanTheTargetShrinkKeepingZonesSpread() {
        List<Member> m = members("a", "a", "b", "c", "c");
        VoterPlacement.Configuration next = VoterPlacement.nextStep(m, Set.of(1, 2, 3, 4, 5), Set.of(), 3);
        assertThat(next.voterIds()).containsExactlyInAnyOrder(1, 3, 4);
        assertThat(next.listenerIds()).containsExactlyInAnyOrder(2, 5);
    }

    @Test
    void membersWithoutAnEligibleVoterGetNoStep() {
        assertThat(VoterPlacement.nextStep(members("a", "b"), Set.of(7), Set.of(), 3)).isNull();
    }

    private static List<Member> pick(List<Member> members, Integer... ids) {
        Set<Integer> wanted = Set.of(ids);
        return members.stream().filter(x -> wanted.contains(x.id())).toList();
    }

    /**
     * Applies steps from {@code start} until none is left, checking that no step adds as many
     * voters as it keeps (Ratis's rule) nor turns a listener into a voter, and returns the last.
     */
    private static VoterPlacement.Configuration converge(List<Member> eligible, VoterPlacement.Configuration start, int maxVoters) {
        VoterPlacement.Configuration at = start;
        for (int steps = 0; steps < 20; steps++) {
            VoterPlacement.Configuration next = VoterPlacement.nextStep(eligible, at.voterIds(), at.listenerIds(), maxVoters);
            if (next == null) {
                return at;
            }
            Set<Integer> added = new HashSet<>(next.voterIds());
            added.removeAll(at.voterIds());
            long kept = next.voterIds().stream().filter(at.voterIds()::contains).count();
            assertThat(added.size() < kept || (at.voterIds().size() == 1 && next.voterIds().size() == 2))
                    .as("step %s -> %s", at.voterIds(), next.voterIds()).isTrue();
            assertThat(added).as("listeners promoted in place").doesNotContainAnyElementsOf(at.listenerIds());
            at = next;
        }
        throw new AssertionError("no fixed point after 20 steps from " + start);
    }
}
