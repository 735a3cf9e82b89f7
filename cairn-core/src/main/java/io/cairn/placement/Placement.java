package io.cairn.placement;

import io.cairn.membership.Member;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The placement function: members + partition count + N → {@link PartitionMap}, deterministic,
 * zone-aware, balanced, and stable under membership change.
 *
 * <p><b>Model.</b> Each partition ranks all nodes by a rendezvous (highest-random-weight) score,
 * {@code xxh64(partition, node id)}. Home replicas are taken down that ranking, skipping a node
 * whose zone already holds a replica while unused zones remain — so with at least N zones every
 * partition spans N distinct zones. Rendezvous hashing moves only the partitions whose top-N set
 * changes when a node joins or leaves (about N/nodes of them), and spreads load evenly in
 * expectation; a balancing pass then evens out the per-node replica counts (to within one of
 * each other where zones allow) by swapping a partition's replica from the most loaded node to
 * the least loaded eligible one, preferring partitions where that node ranks lowest.
 *
 * <p>The result depends only on the inputs (member order does not matter), so every node
 * computes the same map.
 */
public final class Placement {
    private static final int MAX_BALANCE_ROUNDS = 1_000_000;

    private Placement() {}

    public static PartitionMap compute(long epoch, List<Member> members, int partitions, int replicationFactor) {
        int[][] homes = homes(members, partitions, replicationFactor);
        List<Member> sorted = sorted(members);
        int[][] preferences = new int[partitions][];
        for (int p = 0; p < partitions; p++) {
            preferences[p] = preferences(p, homes[p], sorted);
        }
        return PartitionMap.stable(epoch, Math.min(replicationFactor, sorted.size()), preferences);
    }

    /**
     * The N home replicas of every partition for {@code members}: zone-aware and balanced (see
     * the class comment). A membership change computes the target of its moves with it.
     */
    public static int[][] homes(List<Member> members, int partitions, int replicationFactor) {
        if (members.isEmpty()) {
            throw new IllegalArgumentException("placement needs at least one member");
        }
        if (replicationFactor < 1) {
            throw new IllegalArgumentException("replication factor must be at least 1");
        }
        List<Member> sorted = sorted(members);
        int n = Math.min(replicationFactor, sorted.size());
        Map<Integer, String> zoneOf = new HashMap<>();
        sorted.forEach(m -> zoneOf.put(m.id(), m.zone()));
        int zones = (int) sorted.stream().map(Member::zone).distinct().count();

        int[][] ranking = new int[partitions][];
        List<List<Integer>> homes = new ArrayList<>(partitions);
        for (int p = 0; p < partitions; p++) {
            ranking[p] = rank(p, sorted);
            homes.add(pickHomes(ranking[p], n, zoneOf, zones));
        }
        balance(homes, ranking, sorted, n, zoneOf, zones);
        int[][] out = new int[partitions][];
        for (int p = 0; p < partitions; p++) {
            out[p] = homes.get(p).stream().mapToInt(Integer::intValue).toArray();
        }
        return out;
    }

    /**
     * A partition's preference list: {@code first} in its order, then every other member of
     * {@code members} by rendezvous rank (the fallbacks that keep hints for unreachable replicas).
     */
    public static int[] preferences(int partition, int[] first, List<Member> members) {
        LinkedHashSet<Integer> order = new LinkedHashSet<>();
        for (int id : first) {
            order.add(id);
        }
        for (int id : rank(partition, sorted(members))) {
            order.add(id);
        }
        return order.stream().mapToInt(Integer::intValue).toArray();
    }

    private static List<Member> sorted(List<Member> members) {
        List<Member> sorted = new ArrayList<>(members);
        sorted.sort(Comparator.comparingInt(Member::id));
        Set<Integer> ids = new HashSet<>();
        for (Member m : sorted) {
            if (!ids.add(m.id())) {
                throw new IllegalArgumentException("duplicate member id " + m.id());
            }
        }
        return sorted;
    }

    /** Node ids ordered by descending rendezvous score for this partition. */
    private static int[] rank(int partition, List<Member> members) {
        record Scored(int id, long score) {}
        List<Scored> scored = new ArrayList<>(members.size());
        for (Member m : members) {
            byte[] input = ByteBuffer.allocate(8).putInt(partition).putInt(m.id()).array();
            scored.add(new Scored(m.id(), KeyHash.xxh64(input)));
        }
        scored.sort(Comparator.comparingLong(Scored::score).reversed().thenComparingInt(Scored::id));
        return scored.stream().mapToInt(Scored::id).toArray();
    }

    private static List<Integer> pickHomes(int[] ranking, int n, Map<Integer, String> zoneOf, int zones) {
        List<Integer> homes = new ArrayList<>(n);
        Set<String> used = new HashSet<>();
        for (int id : ranking) {
            if (homes.size() == n) {
                break;
            }
            if (used.size() < Math.min(n, zones) && used.contains(zoneOf.get(id))) {
                continue;
            }
            homes.add(id);
            used.add(zoneOf.get(id));
        }
        for (int id : ranking) {
            if (homes.size() == n) {
                break;
            }
            if (!homes.contains(id)) {
                homes.add(id);
            }
        }
        return homes;
    }

    /**
     * Moves single replicas from the most to the least loaded node while that narrows the spread
     * and keeps the partition's zone diversity.
     */
    private static void balance(List<List<Integer>> homes, int[][] ranking, List<Member> members, int n,
                                Map<Integer, String> zoneOf, int zones) {
        Map<Integer, Integer> load = new HashMap<>();
        members.forEach(m -> load.put(m.id(), 0));
        homes.forEach(h -> h.forEach(id -> load.merge(id, 1, Integer::sum)));
        for (int round = 0; round < MAX_BALANCE_ROUNDS; round++) {
            boolean moved = false;
            List<Integer> byLoad = new ArrayList<>(load.keySet());
            byLoad.sort(Comparator.comparingInt((Integer id) -> load.get(id)).thenComparingInt(id -> id));
            outer:
            for (int hi = byLoad.size() - 1; hi > 0 && !moved; hi--) {
                int from = byLoad.get(hi);
                for (int lo = 0; lo < hi; lo++) {
                    int to = byLoad.get(lo);
                    if (load.get(from) - load.get(to) < 2) {
                        continue;
                    }
                    int best = -1;
                    int bestRank = -1;
                    for (int p = 0; p < homes.size(); p++) {
                        List<Integer> h = homes.get(p);
                        if (!h.contains(from) || h.contains(to) || !keepsZones(h, from, to, n, zoneOf, zones)) {
                            continue;
                        }
                        int r = indexOf(ranking[p], from);
                        if (r > bestRank) {
                            best = p;
                            bestRank = r;
                        }
                    }
                    if (best >= 0) {
                        List<Integer> h = homes.get(best);
                        h.set(h.indexOf(from), to);
                        load.merge(from, -1, Integer::sum);
                        load.merge(to, 1, Integer::sum);
                        moved = true;
                        break outer;
                    }
                }
            }
            if (!moved) {
                return;
            }
        }
    }

    private static boolean keepsZones(List<Integer> homes, int from, int to, int n, Map<Integer, String> zoneOf, int zones) {
        Set<String> before = new HashSet<>();
        Set<String> after = new HashSet<>();
        for (int id : homes) {
            before.add(zoneOf.get(id));
            after.add(zoneOf.get(id == from ? to : id));
        }
        return after.size() >= Math.min(before.size(), Math.min(n, zones));
    }

    private static int indexOf(int[] a, int v) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == v) {
                return i;
            }
        }
        return -1;
    }
}
