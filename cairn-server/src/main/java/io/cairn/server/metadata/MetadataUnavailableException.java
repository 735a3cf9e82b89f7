package io.cairn.server.metadata;

import io.cairn.error.ErrorCode;

/**
 * The metadata log could not take a command in time: no leader holding a majority of its voters
 * answered (too many voters down or cut off, or an election still running), or this node is
 * closing. Nothing is known about the command: it may still commit later, which is harmless
 * because every metadata command is idempotent and may be submitted again.
 */
public final class MetadataUnavailableException extends RuntimeException {
    public MetadataUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The operating error this is in the error table: retryable. */
    public ErrorCode code() {
        return ErrorCode.QUORUM_UNAVAILABLE;
    }
}
