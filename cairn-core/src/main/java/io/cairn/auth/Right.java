package io.cairn.auth;

/** What a role may do in a namespace; each right includes the ones before it. */
public enum Right {
    READ, WRITE, ADMIN;

    public boolean includes(Right other) {
        return ordinal() >= other.ordinal();
    }

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
