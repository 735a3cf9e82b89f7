package io.cairn.cluster;

import io.cairn.record.Record;

/**
 * One home replica's stored copy of a key, as an inspection found it: the record as stored (null
 * when absent; tombstones and expired records included, stamps unchecked), or why there is none.
 */
public record ReplicaCopy(int replica, Record record, String error) {}
