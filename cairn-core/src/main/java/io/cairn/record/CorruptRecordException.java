package io.cairn.record;

/** A stored or transferred record failed its checksum or could not be decoded. */
public final class CorruptRecordException extends RuntimeException {
    public CorruptRecordException(String message) {
        super(message);
    }
}
