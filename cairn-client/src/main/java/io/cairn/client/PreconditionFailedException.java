package io.cairn.client;

import java.net.URI;
import java.util.Map;
import java.util.Optional;

/**
 * A conditional write's condition did not hold ({@code 412 precondition_failed}): nothing was
 * written. {@link #currentEtag()} is the key's version at the time, or empty when it had no live
 * value.
 */
public class PreconditionFailedException extends CairnException {
    private static final long serialVersionUID = 1L;

    private final String currentEtag;

    public PreconditionFailedException(String message, Map<String, Object> details, String currentEtag, URI endpoint) {
        super("precondition_failed", message, 412, details, false, endpoint, null);
        this.currentEtag = currentEtag;
    }

    /** The key's current version, or empty when the key has no live value. */
    public Optional<String> currentEtag() {
        return Optional.ofNullable(currentEtag);
    }
}
