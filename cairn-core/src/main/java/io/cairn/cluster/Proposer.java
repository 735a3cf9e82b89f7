package io.cairn.cluster;

import io.cairn.metadata.MetadataCommand;

/**
 * The port through which the core reports to the metadata log (a stream is done, partitions may
 * finish moving). Fire and forget: the outcome comes back as a later membership, and every report
 * is idempotent, so one that is lost is simply sent again.
 */
@FunctionalInterface
public interface Proposer {
    Proposer NONE = command -> { };

    void propose(MetadataCommand command);
}
