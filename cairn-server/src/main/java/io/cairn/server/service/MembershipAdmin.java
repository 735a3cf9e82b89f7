package io.cairn.server.service;

import io.cairn.metadata.ClusterMetadata;
import io.cairn.metadata.ClusterState;
import io.cairn.metadata.MetadataCommand;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The operator's side of an elastic cluster: membership and the partition moves (the admin routes
 * {@code /admin/membership}, {@code /admin/rebalance}, {@code /admin/what-if}).
 */
public interface MembershipAdmin {
    /** Epoch, members with their states and addresses, the running change, at the newest epoch this node applied. */
    Map<String, Object> membershipView();

    /** The same view of {@code state} (say, the state a change produced, which this node may not have applied yet). */
    Map<String, Object> membershipView(ClusterState state);

    /** The running change: each moving partition's replicas and step, what this node streamed, progress and an ETA. */
    Map<String, Object> rebalanceView();

    /**
     * Which partitions become unavailable for quorum reads or writes, and which under-replicated,
     * if {@code lost} nodes were gone.
     */
    Map<String, Object> whatIf(Set<Integer> lost, String description);

    /** The ids of the active members in {@code zone}. */
    Set<Integer> nodesInZone(String zone);

    /** The ids of every active member. */
    Set<Integer> activeMembers();

    /** Appends a change to the metadata log; fails with the metadata log's unavailability. */
    CompletableFuture<ClusterMetadata.Result> change(MetadataCommand command);

    /**
     * An operator's change: refused without reaching the log when {@link ClusterMetadata#preflight}
     * refuses it (say, removing a node this node still hears), else {@link #change}.
     */
    CompletableFuture<ClusterMetadata.Result> operatorChange(MetadataCommand command, boolean force);

    /** The cluster's first epoch, encoded, for a node that joins through this one. */
    String bootstrap();

    /**
     * The members of the metadata group, as this node knows them now ({@code id} and
     * {@code metadata} address each; its voters first, a bounded number), for a node that joins
     * through this one: the first epoch's voters may all have left the cluster since.
     */
    java.util.List<Map<String, Object>> joinContacts();

    /**
     * When this node leads the metadata log: the members it has seen acknowledge log entries (so
     * they have run a log server); empty otherwise. A member of the static list starting on an
     * empty data directory asks for it, to tell a lost disk from a first start.
     */
    java.util.List<Integer> acknowledgedLog();

    /**
     * The settings every member must share ({@code NodeConfig#clusterWideSettings}) as the
     * metadata log records them (this node's own while it records none), for a node that joins
     * through this one.
     */
    Map<String, String> clusterWideSettings();

    /** The cluster's record of those settings, the values this node runs with, and how they differ. */
    Map<String, Object> settingsView();

    /**
     * Records new values of some of those settings (in the settings grammar) in the metadata log;
     * each member takes them at its next start.
     *
     * @throws IllegalArgumentException naming every problem: a setting members do not share, a value that breaks a rule
     */
    CompletableFuture<ClusterMetadata.Result> changeSettings(Map<String, String> changes);
}
