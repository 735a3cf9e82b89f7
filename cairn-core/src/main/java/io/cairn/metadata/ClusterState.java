package io.cairn.metadata;

import io.cairn.membership.Member;
import io.cairn.membership.Membership;
import io.cairn.namespace.NamespaceSpec;
import io.cairn.placement.PartitionMap;
import io.cairn.placement.Placement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.HashSet;
import java.util.Set;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What the metadata log says about the cluster after its entries up to {@link #epoch}: members and
 * their states, every partition's assignment, and the membership change in progress. A value;
 * {@link ClusterMetadata#apply} makes the next one.
 *
 * @param plan the running membership change, or null
 * @param namespaces the user namespaces, in the order they were created
 * @param defaultPolicy the default namespace's policy as an operator set it ({@code PUT
 *                      /admin/namespaces/default}), or null: every node's own settings
 * @param settings the settings every member must share, by name, in their canonical form
 *                 ({@link ClusterMetadata#settingsProblem}); empty until the cluster recorded them
 * @param queued   partitions the running plan will move but has not started yet, in the order it
 *                 starts them, each with its target replicas: still stable, routed by their owners
 *                 alone ({@link ClusterMetadata}, "the window")
 */
public record ClusterState(long epoch, int partitions, int replicationFactor, List<MemberRecord> members, List<Assignment> assignments,
                           Plan plan, List<NamespaceSpec> namespaces, NamespaceSpec defaultPolicy, SortedMap<String, String> settings,
                           List<Queued> queued) {
    /** A partition waiting for its turn to move, and where it goes. */
    public record Queued(int partition, int[] target) {
        public Queued {
            target = target.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Queued q && q.partition == partition && java.util.Arrays.equals(q.target, target);
        }

        @Override
        public int hashCode() {
            return partition * 31 + java.util.Arrays.hashCode(target);
        }

        @Override
        public String toString() {
            return partition + "->" + java.util.Arrays.toString(target);
        }
    }

    public ClusterState(long epoch, int partitions, int replicationFactor, List<MemberRecord> members, List<Assignment> assignments, Plan plan,
                        List<NamespaceSpec> namespaces, NamespaceSpec defaultPolicy, SortedMap<String, String> settings) {
        this(epoch, partitions, replicationFactor, members, assignments, plan, namespaces, defaultPolicy, settings, List.of());
    }

    public ClusterState(long epoch, int partitions, int replicationFactor, List<MemberRecord> members, List<Assignment> assignments, Plan plan) {
        this(epoch, partitions, replicationFactor, members, assignments, plan, List.of());
    }

    public ClusterState(long epoch, int partitions, int replicationFactor, List<MemberRecord> members, List<Assignment> assignments, Plan plan,
                        List<NamespaceSpec> namespaces) {
        this(epoch, partitions, replicationFactor, members, assignments, plan, namespaces, null);
    }

    public ClusterState(long epoch, int partitions, int replicationFactor, List<MemberRecord> members, List<Assignment> assignments, Plan plan,
                        List<NamespaceSpec> namespaces, NamespaceSpec defaultPolicy) {
        this(epoch, partitions, replicationFactor, members, assignments, plan, namespaces, defaultPolicy, new TreeMap<>());
    }

    public ClusterState {
        String settingsProblem = ClusterMetadata.settingsProblem(settings);
        if (settingsProblem != null) {
            throw new IllegalArgumentException(settingsProblem);
        }
        settings = Collections.unmodifiableSortedMap(new TreeMap<>(settings));
        members = List.copyOf(members);
        namespaces = List.copyOf(namespaces);
        Set<String> names = new HashSet<>();
        Set<Integer> nsIds = new HashSet<>();
        for (NamespaceSpec ns : namespaces) {
            if (!names.add(ns.name()) || !nsIds.add(ns.id()) || ns.id() < NamespaceSpec.FIRST_USER_ID) {
                throw new IllegalArgumentException("namespace " + ns.name() + " (id " + ns.id() + ") is listed twice or has a system id");
            }
        }
        if (defaultPolicy != null && (defaultPolicy.id() != io.cairn.namespace.Namespace.DEFAULT_ID
                || defaultPolicy.problemAsDefault(replicationFactor) != null)) {
            throw new IllegalArgumentException("not a default namespace policy: " + defaultPolicy);
        }
        assignments = List.copyOf(assignments);
        queued = List.copyOf(queued);
        if (epoch < 1) {
            throw new IllegalArgumentException("epochs start at 1, got " + epoch);
        }
        if (replicationFactor < 1) {
            throw new IllegalArgumentException("replication factor " + replicationFactor);
        }
        if (assignments.size() != partitions || partitions < 1) {
            throw new IllegalArgumentException(assignments.size() + " assignments for " + partitions + " partitions");
        }
        Set<Integer> ids = new HashSet<>();
        Set<Integer> active = new HashSet<>();
        for (MemberRecord m : members) {
            if (!ids.add(m.id())) {
                throw new IllegalArgumentException("member " + m.id() + " listed twice");
            }
            if (m.state().active()) {
                active.add(m.id());
            }
        }
        for (int p = 0; p < partitions; p++) {
            Assignment a = assignments.get(p);
            if (a.since() > epoch) {
                throw new IllegalArgumentException("partition " + p + " assigned at epoch " + a.since() + " after " + epoch);
            }
            requireActive(active, a.owners(), p);
            if (a.next() != null) {
                requireActive(active, a.next(), p);
            }
        }
        if (!queued.isEmpty() && plan == null) {
            throw new IllegalArgumentException(queued.size() + " partitions queued to move with no plan running");
        }
        Set<Integer> seen = new HashSet<>();
        for (Queued q : queued) {
            if (q.partition() < 0 || q.partition() >= partitions || !seen.add(q.partition())) {
                throw new IllegalArgumentException("queued partition " + q.partition() + " is out of range or queued twice");
            }
            if (assignments.get(q.partition()).moving()) {
                throw new IllegalArgumentException("partition " + q.partition() + " is queued to move and moving");
            }
            if (q.target().length < 1 || q.target().length > replicationFactor || new HashSet<>(Arrays.stream(q.target()).boxed().toList()).size()
                    != q.target().length) {
                throw new IllegalArgumentException("partition " + q.partition() + " queued with target " + Arrays.toString(q.target()));
            }
            requireActive(active, q.target(), q.partition());
        }
    }

    private static void requireActive(Set<Integer> active, int[] nodes, int partition) {
        for (int node : nodes) {
            if (!active.contains(node)) {
                throw new IllegalArgumentException("partition " + partition + " names node " + node + ", not an active member");
            }
        }
    }

    /** The first epoch of a cluster started from a static member list: the map every node computes for it. */
    public static ClusterState bootstrap(List<Member> members, int partitions, int replicationFactor) {
        int[][] homes = Placement.homes(members, partitions, replicationFactor);
        List<Assignment> assignments = new ArrayList<>(partitions);
        for (int[] h : homes) {
            assignments.add(Assignment.stable(h, 1, 1));
        }
        return new ClusterState(1, partitions, replicationFactor, members.stream().map(m -> new MemberRecord(m, NodeState.NORMAL)).toList(),
                assignments, null);
    }

    public Optional<MemberRecord> member(int id) {
        return members.stream().filter(m -> m.id() == id).findFirst();
    }

    /** Members that take part in the cluster (every state but removed). */
    public List<Member> activeMembers() {
        return members.stream().filter(m -> m.state().active()).map(MemberRecord::member).toList();
    }

    /** What nodes route by: the active members and the partition map of this epoch. */
    public Membership membership() {
        List<Member> active = activeMembers();
        List<PartitionMap.Slot> slots = new ArrayList<>(partitions);
        for (int p = 0; p < partitions; p++) {
            Assignment a = assignments.get(p);
            int[] first = new PartitionMap.Slot(a.owners(), a.next(), a.readsNext(), a.streamed(), a.since(), a.previousSince(), new int[0])
                    .writeTargets();
            int[] readers = a.readsNext() ? a.next() : a.owners();
            int[] order = concat(readers, first);
            slots.add(new PartitionMap.Slot(a.owners(), a.next(), a.readsNext(), a.streamed(), a.since(), a.previousSince(),
                    Placement.preferences(p, order, active)));
        }
        int n = Math.min(replicationFactor, active.size());
        return new Membership(epoch, active, new PartitionMap(epoch, n, slots), plan == null ? 0 : plan.id(),
                plan != null && plan.paused(), namespaces, defaultPolicy);
    }

    /** {@code a} then {@code b}, each id once, in that order (a few ids: a linear scan). */
    private static int[] concat(int[] a, int[] b) {
        int[] out = new int[a.length + b.length];
        int n = 0;
        for (int[] part : new int[][] {a, b}) {
            next:
            for (int id : part) {
                for (int i = 0; i < n; i++) {
                    if (out[i] == id) {
                        continue next;
                    }
                }
                out[n++] = id;
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    ClusterState with(long nextEpoch, List<MemberRecord> nextMembers, List<Assignment> nextAssignments, Plan nextPlan) {
        return with(nextEpoch, nextMembers, nextAssignments, nextPlan, queued);
    }

    ClusterState with(long nextEpoch, List<MemberRecord> nextMembers, List<Assignment> nextAssignments, Plan nextPlan, List<Queued> nextQueued) {
        return new ClusterState(nextEpoch, partitions, replicationFactor, nextMembers, nextAssignments, nextPlan, namespaces, defaultPolicy, settings,
                nextQueued);
    }

    ClusterState withNamespaces(long nextEpoch, List<NamespaceSpec> nextNamespaces) {
        return new ClusterState(nextEpoch, partitions, replicationFactor, members, assignments, plan, nextNamespaces, defaultPolicy, settings, queued);
    }

    ClusterState withDefaultPolicy(long nextEpoch, NamespaceSpec policy) {
        return new ClusterState(nextEpoch, partitions, replicationFactor, members, assignments, plan, namespaces, policy, settings, queued);
    }

    ClusterState withSettings(long nextEpoch, SortedMap<String, String> nextSettings) {
        return new ClusterState(nextEpoch, partitions, replicationFactor, members, assignments, plan, namespaces, defaultPolicy, nextSettings, queued);
    }

    public Optional<NamespaceSpec> namespace(String name) {
        return namespaces.stream().filter(ns -> ns.name().equals(name)).findFirst();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClusterState s && s.epoch == epoch && s.partitions == partitions && s.replicationFactor == replicationFactor
                && s.members.equals(members) && s.assignments.equals(assignments) && Objects.equals(s.plan, plan)
                && s.namespaces.equals(namespaces) && Objects.equals(s.defaultPolicy, defaultPolicy) && s.settings.equals(settings)
                && s.queued.equals(queued);
    }

    @Override
    public int hashCode() {
        return Objects.hash(epoch, members, assignments, plan, namespaces, defaultPolicy, settings, queued);
    }
}
