package io.cairn.cluster;

/** The hints a node holds for one target: how many, their bytes, and when the oldest was stored (0 when none). */
public record HintBacklog(long count, long bytes, long oldestMillis) {}
