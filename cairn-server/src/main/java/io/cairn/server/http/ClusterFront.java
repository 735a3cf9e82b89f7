package io.cairn.server.http;

import io.cairn.coordinator.ClientResult;
import io.cairn.quorum.Quorum;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** What the HTTP front end needs from the cluster driver; futures may complete on any thread. */
public interface ClusterFront {
    CompletableFuture<ClientResult> put(byte[] key, byte[] value, String contentType, long ttlMillis, Quorum w);

    CompletableFuture<ClientResult> delete(byte[] key, Quorum w);

    CompletableFuture<ClientResult> get(byte[] key, Quorum r);

    Quorum defaultReadQuorum();

    Quorum defaultWriteQuorum();

    int replicationFactor();

    /** Members, liveness as this node sees it, hint backlogs, partition map summary. */
    CompletableFuture<Map<String, Object>> clusterView();

    /** A partition's preference list with member details; null when the partition does not exist. */
    CompletableFuture<Map<String, Object>> partitionView(int partition);

    /** A key's partition, preference list and each replica's stored version. */
    CompletableFuture<Map<String, Object>> keyView(byte[] key);
}
