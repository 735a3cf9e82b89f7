package io.cairn.antientropy;

/**
 * The safe purge rule's question: may this replica remove a tombstone or expired record of
 * partition ({@code namespaceId}, {@code partition}) in tree branch {@code branch}, applied at
 * stamp {@code stamp}? Yes only once every other replica of the partition is known to hold it (or
 * something newer, or to hold nothing under its key while it is past its purge point): an exchange
 * compared trees with each of them at a stamp after it. See {@link PurgeLedger}.
 */
@FunctionalInterface
public interface PurgeGate {
    boolean confirmed(int namespaceId, int partition, int branch, long stamp);

    /** Single node: no other replica to wait for. */
    PurgeGate ALONE = (namespaceId, partition, branch, stamp) -> true;
}
