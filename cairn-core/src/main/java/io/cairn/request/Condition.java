package io.cairn.request;

import io.cairn.record.Record;
import io.cairn.version.Version;
import java.util.Set;

/**
 * A precondition on the current state of a key, checked atomically with the write it guards.
 *
 * <p>{@code ifMatch}: the key must be live with one of these versions ({@code If-Match}).
 * {@code ifMatchAny}: the key must be live ({@code If-Match: *}). {@code ifNoneMatchAny}: the key
 * must not be live ({@code If-None-Match: *}, create-only).
 */
public record Condition(Set<Version> ifMatch, boolean ifMatchAny, boolean ifNoneMatchAny) {
    public static final Condition NONE = new Condition(Set.of(), false, false);

    public Condition {
        ifMatch = Set.copyOf(ifMatch);
        if (ifNoneMatchAny && (ifMatchAny || !ifMatch.isEmpty())) {
            throw new IllegalArgumentException("If-Match and If-None-Match: * cannot both hold");
        }
    }

    public static Condition ifMatch(Version version) {
        return new Condition(Set.of(version), false, false);
    }

    public static Condition ifAbsent() {
        return new Condition(Set.of(), false, true);
    }

    public boolean isNone() {
        return ifMatch.isEmpty() && !ifMatchAny && !ifNoneMatchAny;
    }

    /** Whether the condition holds given the current record (null when there is none). */
    public boolean holds(Record current, long nowMillis) {
        boolean live = current != null && current.isLiveAt(nowMillis);
        if (ifNoneMatchAny) {
            return !live;
        }
        if (ifMatchAny) {
            return live;
        }
        if (!ifMatch.isEmpty()) {
            return live && ifMatch.contains(current.version());
        }
        return true;
    }
}
