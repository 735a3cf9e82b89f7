package io.cairn.storage;

/** When a write counts as stored. */
public enum Durability {
    /** On stable storage (WAL fsynced) before the write is acknowledged; concurrent writes share fsyncs. */
    SYNC,
    /** In the WAL's OS buffers; fsynced periodically, so a machine crash may lose the last interval. */
    ASYNC
}
