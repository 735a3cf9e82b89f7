package io.cairn.client;

import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A batch's answer: one {@link Item} per operation, in order, each with its own outcome. The
 * request as a whole succeeded; look at each item.
 */
public final class BatchResult {
    private final List<Item> items;
    private final boolean replayed;
    private final URI endpoint;
    private final String idempotencyKey;

    BatchResult(List<Item> items, boolean replayed, URI endpoint, String idempotencyKey) {
        this.items = List.copyOf(items);
        this.replayed = replayed;
        this.endpoint = endpoint;
        this.idempotencyKey = idempotencyKey;
    }

    public List<Item> items() {
        return items;
    }

    public Item get(int index) {
        return items.get(index);
    }

    public int size() {
        return items.size();
    }

    /** True when the answer is the stored outcome of an earlier attempt of this batch. */
    public boolean replayed() {
        return replayed;
    }

    /** The endpoint that answered. */
    public URI endpoint() {
        return endpoint;
    }

    /** The idempotency key the batch carried, if it carried one. */
    public Optional<String> idempotencyKey() {
        return Optional.ofNullable(idempotencyKey);
    }

    /**
     * One operation's outcome: {@code 200} (a put or a found get), {@code 204} (a delete),
     * {@code 404} (a get that found nothing), or an error with its code.
     */
    public static final class Item {
        private final String op;
        private final String key;
        private final int status;
        private final String etag;
        private final Instant expiresAt;
        private final Value value;
        private final String code;
        private final String message;
        private final String currentEtag;
        private final URI endpoint;

        Item(String op, String key, int status, String etag, Instant expiresAt, Value value, String code, String message, String currentEtag,
             URI endpoint) {
            this.op = op;
            this.key = key;
            this.status = status;
            this.etag = etag;
            this.expiresAt = expiresAt;
            this.value = value;
            this.code = code;
            this.message = message;
            this.currentEtag = currentEtag;
            this.endpoint = endpoint;
        }

        /** {@code put}, {@code get} or {@code delete}. */
        public String op() {
            return op;
        }

        public String key() {
            return key;
        }

        /** The operation's own status, as for a single request. */
        public int status() {
            return status;
        }

        /** Whether the operation succeeded: a write applied, or a get that found a value. */
        public boolean succeeded() {
            return status >= 200 && status < 300;
        }

        /** The version written (or read), as an opaque, quoted ETag. */
        public Optional<String> etag() {
            return Optional.ofNullable(etag);
        }

        /** When the written or read value expires, if it does. */
        public Optional<Instant> expiresAt() {
            return Optional.ofNullable(expiresAt);
        }

        /** A get's value; empty when the key has none (and for writes). */
        public Optional<Value> value() {
            return Optional.ofNullable(value);
        }

        /** The error code of a failed operation ({@code precondition_failed}, {@code key_not_found}, ...). */
        public Optional<String> code() {
            return Optional.ofNullable(code);
        }

        /** For a failed condition: the key's current version, if it has one. */
        public Optional<String> currentEtag() {
            return Optional.ofNullable(currentEtag);
        }

        /**
         * The failure as the exception a single request would have thrown
         * ({@link PreconditionFailedException}, {@link OutcomeUnknownException}, ...); empty for a
         * success and for a get that found nothing.
         */
        public Optional<CairnException> failure() {
            if (succeeded() || "key_not_found".equals(code)) {
                return Optional.empty();
            }
            Map<String, Object> details = new java.util.HashMap<>();
            if (status == 412) {
                details.put("currentEtag", currentEtag);
            }
            String c = code == null ? "http_" + status : code;
            return Optional.of(Errors.from(status, c, message == null ? c : message, details, endpoint));
        }

        @Override
        public String toString() {
            return op + " " + key + " -> " + status + (code == null ? "" : " " + code) + (etag == null ? "" : " " + etag);
        }
    }
}
