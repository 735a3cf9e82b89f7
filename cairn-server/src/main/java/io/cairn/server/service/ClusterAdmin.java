package io.cairn.server.service;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/** The cluster's operator views and test controls; futures may complete on any thread. */
public interface ClusterAdmin {
    /** Members, liveness as this node sees it, hint backlogs, partition map summary. */
    CompletableFuture<Map<String, Object>> clusterView();

    /** A partition's preference list with member details; null when the partition does not exist. */
    CompletableFuture<Map<String, Object>> partitionView(int partition);

    /**
     * Cuts this node's internode traffic with exactly the peers in {@code block} (empty heals
     * every cut; null changes nothing), makes every operation of this node's disk take
     * {@code diskDelayMillis} longer (0 restores it; null changes nothing), holds this node's
     * metadata log where it is as if the node were cut off from the group ({@code metadataCut}
     * true; false heals; null changes nothing), and answers the faults now in force. Tests only:
     * refused with {@code route_not_found} unless {@code cluster.faultInjection} is on.
     */
    Map<String, Object> faults(Set<Integer> block, Long diskDelayMillis, Boolean metadataCut);

    /**
     * The repair backlog (anti-entropy): totals, and per partition of {@code namespace} (all when
     * null; only {@code partition} when not null) what the last rounds found; partitions that are
     * settled are left out unless {@code all}.
     *
     * @throws io.cairn.error.CairnException (invalid parameter) for a namespace this node does not have
     */
    CompletableFuture<Map<String, Object>> repairView(String namespace, Integer partition, boolean all);

    /**
     * Queues anti-entropy rounds now with every other replica, for the partitions asked for.
     *
     * @throws io.cairn.error.CairnException (invalid parameter) for an unknown namespace or partition
     */
    CompletableFuture<Map<String, Object>> repairNow(String namespace, Integer partition);

    /**
     * A key's partition, preference list and each replica's stored version, in the namespace named
     * {@code namespace} (null: the default one).
     *
     * @throws io.cairn.error.CairnException (invalid parameter) for an unknown namespace
     */
    CompletableFuture<Map<String, Object>> keyView(String namespace, byte[] key);
}
