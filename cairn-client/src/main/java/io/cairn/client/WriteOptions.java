package io.cairn.client;

import java.time.Duration;
import java.util.Objects;

/**
 * How a put or delete is made: its condition ({@code If-Match} an ETag, {@code If-Match: *},
 * {@code If-None-Match: *}), its TTL, its content type, its write quorum {@code w} and an
 * idempotency key of the caller's own. Immutable; each method returns a copy.
 *
 * <p>A write with a condition is a compare-and-swap: on a cluster a Paxos round on the key, so two
 * writers holding the same ETag never both succeed. Only one condition applies: setting one
 * replaces the other.
 */
public final class WriteOptions {
    /** The longest TTL the server takes. */
    static final Duration MAX_TTL = Duration.ofDays(36_500);
    private static final WriteOptions DEFAULTS = new WriteOptions(Condition.NONE, null, null, false, null, null, null);

    /** Which condition the write carries. */
    enum Condition { NONE, IF_MATCH, IF_EXISTS, IF_ABSENT }

    private final Condition condition;
    // Set only with IF_MATCH: one quoted entity tag.
    private final String etag;
    // Null: the namespace's default TTL, unless noExpiry.
    private final Duration ttl;
    private final boolean noExpiry;
    private final String contentType;
    private final Quorum w;
    private final String idempotencyKey;

    private WriteOptions(Condition condition, String etag, Duration ttl, boolean noExpiry, String contentType, Quorum w, String idempotencyKey) {
        this.condition = condition;
        this.etag = etag;
        this.ttl = ttl;
        this.noExpiry = noExpiry;
        this.contentType = contentType;
        this.w = w;
        this.idempotencyKey = idempotencyKey;
    }

    /** No condition, the namespace's default TTL and W, no content type. */
    public static WriteOptions defaults() {
        return DEFAULTS;
    }

    /**
     * Writes only if the key's current version is {@code etag}, as a read or write returned it
     * (quoted; an unquoted tag is quoted here).
     */
    public WriteOptions ifMatch(String etag) {
        return new WriteOptions(Condition.IF_MATCH, quoted(etag), ttl, noExpiry, contentType, w, idempotencyKey);
    }

    /** Writes only if the key has a live value ({@code If-Match: *}). */
    public WriteOptions ifExists() {
        return new WriteOptions(Condition.IF_EXISTS, null, ttl, noExpiry, contentType, w, idempotencyKey);
    }

    /** Creates only: writes only if the key has no live value ({@code If-None-Match: *}); puts only. */
    public WriteOptions ifAbsent() {
        return new WriteOptions(Condition.IF_ABSENT, null, ttl, noExpiry, contentType, w, idempotencyKey);
    }

    /** Drops the condition. */
    public WriteOptions unconditional() {
        return new WriteOptions(Condition.NONE, null, ttl, noExpiry, contentType, w, idempotencyKey);
    }

    /** Expires the value after {@code ttl} (positive, at most 36500 days; sent in milliseconds). */
    public WriteOptions ttl(Duration ttl) {
        Objects.requireNonNull(ttl, "ttl");
        if (ttl.toMillis() <= 0 || ttl.compareTo(MAX_TTL) > 0) {
            throw new IllegalArgumentException("a TTL is at least 1 ms and at most 36500 days, got " + ttl);
        }
        return new WriteOptions(condition, etag, ttl, false, contentType, w, idempotencyKey);
    }

    /** Never expires, even in a namespace with a default TTL ({@code ttl=none}). */
    public WriteOptions noExpiry() {
        return new WriteOptions(condition, etag, null, true, contentType, w, idempotencyKey);
    }

    /** The content type stored with the value and returned on reads. */
    public WriteOptions contentType(String contentType) {
        Objects.requireNonNull(contentType, "contentType");
        if (contentType.length() > 255 || contentType.chars().anyMatch(c -> c < 0x20 || c > 0x7e)) {
            throw new IllegalArgumentException("a content type is at most 255 visible ASCII characters");
        }
        return new WriteOptions(condition, etag, ttl, noExpiry, contentType, w, idempotencyKey);
    }

    /** Acknowledges the write once {@code w} replicas stored it durably (conditional writes ignore it). */
    public WriteOptions w(Quorum w) {
        return new WriteOptions(condition, etag, ttl, noExpiry, contentType, Objects.requireNonNull(w, "w"), idempotencyKey);
    }

    /**
     * Sends this {@code Idempotency-Key} instead of a random one: for an application that retries
     * a write itself, for instance after an {@link OutcomeUnknownException} (which names the key
     * the client used). 1 to 255 visible ASCII characters.
     */
    public WriteOptions idempotencyKey(String key) {
        Objects.requireNonNull(key, "key");
        if (key.isEmpty() || key.length() > 255 || key.chars().anyMatch(c -> c < 0x21 || c > 0x7e)) {
            throw new IllegalArgumentException("an idempotency key is 1 to 255 visible ASCII characters");
        }
        return new WriteOptions(condition, etag, ttl, noExpiry, contentType, w, key);
    }

    Condition condition() {
        return condition;
    }

    boolean conditional() {
        return condition != Condition.NONE;
    }

    /** The If-Match header's value, or null. */
    String ifMatchHeader() {
        return switch (condition) {
            case IF_MATCH -> etag;
            case IF_EXISTS -> "*";
            default -> null;
        };
    }

    /** The TTL as the API takes it ("1500ms", "none"), or null for the namespace's default. */
    String ttlText() {
        return noExpiry ? "none" : ttl == null ? null : ttl.toMillis() + "ms";
    }

    Duration ttl() {
        return ttl;
    }

    String contentTypeOrNull() {
        return contentType;
    }

    Quorum writeQuorum() {
        return w;
    }

    String idempotencyKeyOrNull() {
        return idempotencyKey;
    }

    /** An entity tag as the server wants it: quoted. Weak tags never match, so they are refused here. */
    static String quoted(String etag) {
        Objects.requireNonNull(etag, "etag");
        String t = etag.trim();
        if (t.startsWith("W/")) {
            throw new IllegalArgumentException("a weak entity tag never matches: " + etag);
        }
        if (!(t.length() >= 2 && t.startsWith("\"") && t.endsWith("\""))) {
            t = "\"" + t + "\"";
        }
        String inner = t.substring(1, t.length() - 1);
        if (inner.isEmpty() || inner.chars().anyMatch(c -> c == '"' || c <= 0x20 || c > 0x7e)) {
            throw new IllegalArgumentException("not an entity tag: " + etag);
        }
        return t;
    }
}
