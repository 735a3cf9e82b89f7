package io.cairn.request;

import java.util.Arrays;
import java.util.Objects;

/**
 * The client's idempotency key for a request, the fingerprint of what was asked, and how long
 * the outcome is kept.
 *
 * <p>The fingerprint is a digest of everything that defines the request (method, target, the
 * headers that change its meaning, body), so a reused key with a different request is detected.
 */
public record IdempotencyTag(String key, byte[] fingerprint, long retentionMillis) {
    public static final int MAX_KEY_LENGTH = 255;

    public IdempotencyTag {
        Objects.requireNonNull(key);
        Objects.requireNonNull(fingerprint);
        if (key.isEmpty() || key.length() > MAX_KEY_LENGTH) {
            throw new IllegalArgumentException("idempotency key must be 1 to " + MAX_KEY_LENGTH + " characters");
        }
        if (retentionMillis <= 0) {
            throw new IllegalArgumentException("retention must be positive");
        }
    }

    public boolean sameRequest(byte[] otherFingerprint) {
        return Arrays.equals(fingerprint, otherFingerprint);
    }

    /** Whether a key is acceptable: visible ASCII only, 1 to 255 characters. */
    public static boolean isValidKey(String key) {
        if (key == null || key.isEmpty() || key.length() > MAX_KEY_LENGTH) {
            return false;
        }
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c < 0x21 || c > 0x7E) {
                return false;
            }
        }
        return true;
    }
}
