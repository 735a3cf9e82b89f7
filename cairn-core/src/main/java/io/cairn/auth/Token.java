package io.cairn.auth;

import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A token as the store keeps it: its public id, a name saying whose it is, the SHA-256 of its
 * secret, its roles, when it was made, by whom, and when it expires ({@link #NEVER} for never).
 * Immutable once written: revocation and the early end a rotation sets are separate entries
 * (see {@link TokenState}), so no write ever has to win a last-writer-wins race against another.
 */
public record Token(String id, String name, byte[] secretHash, List<Role> roles, long createdAtMillis, long expiresAtMillis,
                    String createdBy) {
    public static final long NEVER = 0;
    public static final int MAX_ROLES = 32;
    public static final int MAX_NAME = 64;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@:+/=-]{0,63}");
    private static final Pattern CREATOR = Pattern.compile("[ -~]{1,128}");

    public Token {
        if (!Credential.validId(id)) {
            throw new IllegalArgumentException("token id must be 16 lowercase hex digits");
        }
        if (!validName(name)) {
            throw new IllegalArgumentException("token name must match " + NAME + ", got '" + name + "'");
        }
        if (secretHash.length != 32) {
            throw new IllegalArgumentException("a secret hash is 32 bytes");
        }
        if (roles.isEmpty() || roles.size() > MAX_ROLES) {
            throw new IllegalArgumentException("a token has 1 to " + MAX_ROLES + " roles");
        }
        if (createdAtMillis < 0 || expiresAtMillis < 0 || (expiresAtMillis != NEVER && expiresAtMillis <= createdAtMillis)) {
            throw new IllegalArgumentException("a token expires after it is created");
        }
        if (!CREATOR.matcher(createdBy).matches()) {
            throw new IllegalArgumentException("createdBy must be 1-128 printable ASCII characters");
        }
        secretHash = secretHash.clone();
        roles = List.copyOf(roles);
    }

    public static boolean validName(String name) {
        return name != null && NAME.matcher(name).matches();
    }

    @Override
    public byte[] secretHash() {
        return secretHash.clone();
    }

    /** Whether any one of this token's roles meets {@code need}. */
    public boolean allows(Need need) {
        for (Role r : roles) {
            if (r.meets(need)) {
                return true;
            }
        }
        return false;
    }

    boolean secretMatches(Credential presented) {
        return presented.matches(secretHash);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Token t && t.id.equals(id) && t.name.equals(name) && MessageDigest.isEqual(t.secretHash, secretHash)
                && t.roles.equals(roles) && t.createdAtMillis == createdAtMillis && t.expiresAtMillis == expiresAtMillis
                && t.createdBy.equals(createdBy);
    }

    @Override
    public int hashCode() {
        return id.hashCode() * 31 + Arrays.hashCode(secretHash);
    }

    @Override
    public String toString() {
        return "Token[" + id + " " + name + " " + roles + "]";
    }
}
