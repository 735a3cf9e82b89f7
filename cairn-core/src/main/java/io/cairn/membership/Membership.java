package io.cairn.membership;

import io.cairn.placement.PartitionMap;
import io.cairn.placement.Placement;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The cluster's membership at one epoch: its active members and the partition map for them. A
 * node receives each new membership as an event ({@code ClusterNode.onMembership}): a static
 * member list is the first epoch, the metadata log ({@code io.cairn.metadata}) makes the later
 * ones. Epochs only grow.
 *
 * @param namespaces the user namespaces the cluster defines at this epoch (the default and system ones are every node's own)
 * @param plan   the running membership change's id (0: none); moving partitions report to it
 * @param paused whether the running change is paused (no partition starts moving)
 * @param defaultPolicy the default namespace's policy the cluster set at this epoch, or null (every node's own settings)
 */
public record Membership(long epoch, List<Member> members, PartitionMap map, long plan, boolean paused,
                         List<io.cairn.namespace.NamespaceSpec> namespaces, io.cairn.namespace.NamespaceSpec defaultPolicy) {
    public Membership(long epoch, List<Member> members, PartitionMap map) {
        this(epoch, members, map, 0, false);
    }

    public Membership(long epoch, List<Member> members, PartitionMap map, long plan, boolean paused) {
        this(epoch, members, map, plan, paused, List.of());
    }

    public Membership(long epoch, List<Member> members, PartitionMap map, long plan, boolean paused,
                      List<io.cairn.namespace.NamespaceSpec> namespaces) {
        this(epoch, members, map, plan, paused, namespaces, null);
    }

    public Membership {
        members = List.copyOf(members);
        namespaces = List.copyOf(namespaces);
        if (epoch < 1) {
            throw new IllegalArgumentException("epochs start at 1, got " + epoch);
        }
        if (map.epoch() != epoch) {
            throw new IllegalArgumentException("a partition map of epoch " + map.epoch() + " in membership epoch " + epoch);
        }
        Set<Integer> ids = new HashSet<>();
        for (Member m : members) {
            if (!ids.add(m.id())) {
                throw new IllegalArgumentException("member " + m.id() + " listed twice");
            }
        }
        for (int p = 0; p < map.partitions(); p++) {
            for (int node : map.preferenceList(p)) {
                if (!ids.contains(node)) {
                    throw new IllegalArgumentException("partition " + p + " names node " + node + ", not a member");
                }
            }
        }
    }

    /** The membership of {@code members} at {@code epoch}, with the map every node computes for it. */
    public static Membership of(long epoch, List<Member> members, int partitions, int replicationFactor) {
        return new Membership(epoch, members, Placement.compute(epoch, members, partitions, replicationFactor));
    }

    public boolean isMember(int node) {
        return members.stream().anyMatch(m -> m.id() == node);
    }
}
