package io.cairn.metadata;

/**
 * Where a member is in its life in the cluster, as the metadata log records it.
 *
 * <ul>
 *   <li>{@code JOINING}: registered; partitions are moving to it; it owns only those already moved.</li>
 *   <li>{@code NORMAL}: a full member.</li>
 *   <li>{@code LEAVING}: being decommissioned; its partitions are moving away; it still serves them until each has moved.</li>
 *   <li>{@code REMOVED}: gone for good (decommissioned, removed or replaced); its id is never reused.</li>
 * </ul>
 */
public enum NodeState {
    JOINING, NORMAL, LEAVING, REMOVED;

    /** Whether a node in this state takes part in the cluster (transport, heartbeats, epoch barriers). */
    public boolean active() {
        return this != REMOVED;
    }
}
