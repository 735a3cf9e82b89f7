package io.cairn.server.security;

/** Certificates or keys that cannot be used as configured; the message says which file and why. */
public final class SecurityConfigException extends RuntimeException {
    public SecurityConfigException(String message) {
        super(message);
    }

    public SecurityConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
