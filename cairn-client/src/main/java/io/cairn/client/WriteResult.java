package io.cairn.client;

import java.net.URI;
import java.time.Instant;
import java.util.Optional;

/**
 * What an acknowledged put or delete returned: the new version's ETag (a delete's is its
 * tombstone's), the expiry, and how the answer came about: which endpoint gave it, after how many
 * attempts, and whether it was the stored outcome of an earlier attempt ({@code replayed}).
 */
public final class WriteResult {
    private final String etag;
    private final Instant expiresAt;
    private final boolean replayed;
    private final boolean recorded;
    private final String idempotencyKey;
    private final URI endpoint;
    private final int attempts;

    WriteResult(String etag, Instant expiresAt, boolean replayed, boolean recorded, String idempotencyKey, URI endpoint, int attempts) {
        this.etag = etag;
        this.expiresAt = expiresAt;
        this.replayed = replayed;
        this.recorded = recorded;
        this.idempotencyKey = idempotencyKey;
        this.endpoint = endpoint;
        this.attempts = attempts;
    }

    /** The written version as an opaque, quoted ETag. */
    public String etag() {
        return etag;
    }

    /** When the written value expires, if it does. */
    public Optional<Instant> expiresAt() {
        return Optional.ofNullable(expiresAt);
    }

    /**
     * True when the server answered with the stored outcome of an earlier attempt of this write
     * ({@code Idempotent-Replayed: true}): the write happened once, and this is its answer.
     */
    public boolean replayed() {
        return replayed;
    }

    /**
     * False when the write ran but the server could not keep its outcome for the idempotency key
     * ({@code Idempotent-Recorded: false}): a later retry with the same key might run it again.
     */
    public boolean outcomeRecorded() {
        return recorded;
    }

    /** The {@code Idempotency-Key} the write carried, if it carried one. */
    public Optional<String> idempotencyKey() {
        return Optional.ofNullable(idempotencyKey);
    }

    /** The endpoint that answered. */
    public URI endpoint() {
        return endpoint;
    }

    /** How many attempts the write took (1 when the first one answered). */
    public int attempts() {
        return attempts;
    }

    @Override
    public String toString() {
        return "WriteResult[" + etag + (expiresAt == null ? "" : ", expires " + expiresAt) + (replayed ? ", replayed" : "")
                + ", " + endpoint + ", attempts " + attempts + "]";
    }
}
