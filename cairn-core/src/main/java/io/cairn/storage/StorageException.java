package io.cairn.storage;

/** The storage engine failed an operation (I/O error, corruption it detected, closed engine). */
public final class StorageException extends RuntimeException {
    public StorageException(String message, Throwable cause) {
        super(message, cause);
    }

    public StorageException(String message) {
        super(message);
    }
}
