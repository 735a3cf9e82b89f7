package io.cairn.record;

import io.cairn.cluster.ClusterSettings;

/** A foundation class that reaches up into the cluster layer: what ArchitectureTest.LAYERS must catch. */
public final class LayerViolationFixture {
    ClusterSettings reachesUp;
}
