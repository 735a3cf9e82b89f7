package io.cairn.server.metadata;

import io.cairn.membership.Member;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Decides the metadata group's next configuration from the cluster's members: which vote and
 * which only listen. Pure; the {@link GroupReconfigurer} asks it and carries the answer out.
 *
 * <p>The target: {@code maxVoters} voters (fewer while fewer members qualify) among the active
 * members with a metadata address, keeping the current voters where possible (a voter change costs
 * a catch-up and a joint-consensus round) and spreading the rest across zones (a zone outage must
 * not take the majority); every other such member is a listener. Removed members and members
 * without a metadata address leave the configuration.
 *
 * <p>Ratis refuses a change that adds as many new voters as it keeps old ones (a new majority
 * that never voted together may elect nobody, RATIS-1912), so one step adds at most one voter
 * fewer than it keeps (from a single voter: one); steps repeat until the target is reached. A
 * member waiting for its vote is left out of the configuration rather than made a listener first.
 *
 * <p>Ratis 3.3.0 never marks a listener that the current leader added as caught up, so that
 * server stays in its starting state; were the leader to promote it, it could not vote until
 * another leader took over, and losing the old leader could then leave no majority. So a listener
 * becomes a voter in two steps: it leaves the configuration, then joins as a new voter, which
 * Ratis stages and marks caught up like any new voter.
 */
final class VoterPlacement {
    private VoterPlacement() {}

    /** A configuration: ids sorted ascending. */
    record Configuration(List<Member> voters, List<Member> listeners) {
        Set<Integer> voterIds() {
            return voters.stream().map(Member::id).collect(Collectors.toSet());
        }

        Set<Integer> listenerIds() {
            return listeners.stream().map(Member::id).collect(Collectors.toSet());
        }
    }

    /**
     * The next step from the configuration ({@code voters}, {@code listeners}) toward the target
     * for {@code eligible} (the active members with a metadata address), or null when it is
     * already there, or no step is possible (no current voter is eligible any more: an operator
     * must rebuild the group).
     */
    static Configuration nextStep(List<Member> eligible, Set<Integer> voters, Set<Integer> listeners, int maxVoters) {
        List<Member> byId = eligible.stream().sorted(Comparator.comparingInt(Member::id)).toList();
        List<Member> kept = byId.stream().filter(m -> voters.contains(m.id())).toList();
        if (kept.isEmpty()) {
            return null;
        }
        int target = Math.min(maxVoters, byId.size());
        List<Member> keptVoters = spread(kept, List.of(), target);
        // Members outside the configuration first: they join in one step, a listener in two.
        List<Member> candidates = byId.stream().filter(m -> !voters.contains(m.id()))
                .sorted(Comparator.comparing((Member m) -> listeners.contains(m.id())).thenComparingInt(Member::id)).toList();
        List<Member> waiting = spread(candidates, keptVoters, target - keptVoters.size());
        int newAllowed = voters.size() == 1 && keptVoters.size() == 1 ? 1 : keptVoters.size() - 1;
        List<Member> nextVoters = new ArrayList<>(keptVoters);
        Set<Integer> leaving = new HashSet<>();
        for (Member m : waiting.subList(0, Math.min(Math.max(newAllowed, 0), waiting.size()))) {
            if (listeners.contains(m.id())) {
                leaving.add(m.id());
            } else {
                nextVoters.add(m);
            }
        }
        Set<Integer> voterIds = nextVoters.stream().map(Member::id).collect(Collectors.toSet());
        Set<Integer> waitingIds = waiting.stream().map(Member::id).collect(Collectors.toSet());
        List<Member> nextListeners = byId.stream()
                .filter(m -> !voterIds.contains(m.id()) && !leaving.contains(m.id()))
                .filter(m -> !waitingIds.contains(m.id()) || listeners.contains(m.id()))
                .toList();
        Configuration next = new Configuration(nextVoters.stream().sorted(Comparator.comparingInt(Member::id)).toList(), nextListeners);
        if (next.voterIds().equals(voters) && next.listenerIds().equals(listeners)) {
            return null;
        }
        return next;
    }

    /**
     * Picks {@code count} of {@code candidates}, each time one from the zone with the fewest picks
     * so far (counting {@code already}); ties go to the earlier candidate.
     */
    private static List<Member> spread(List<Member> candidates, List<Member> already, int count) {
        Map<String, Integer> perZone = new HashMap<>();
        for (Member m : already) {
            perZone.merge(m.zone(), 1, Integer::sum);
        }
        List<Member> left = new ArrayList<>(candidates);
        List<Member> picked = new ArrayList<>();
        while (picked.size() < count && !left.isEmpty()) {
            Member best = left.getFirst();
            for (Member m : left) {
                if (perZone.getOrDefault(m.zone(), 0) < perZone.getOrDefault(best.zone(), 0)) {
                    best = m;
                }
            }
            left.remove(best);
            picked.add(best);
            perZone.merge(best.zone(), 1, Integer::sum);
        }
        return picked;
    }
}
