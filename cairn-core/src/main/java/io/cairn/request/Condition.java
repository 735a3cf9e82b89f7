package io.cairn.request;

import io.cairn.record.Record;
import io.cairn.clock.Version;
import java.util.Set;

/**
 * A precondition on the current state of a key, checked atomically with the write it guards.
 *
 * <p>{@code ifMatch} with {@code ifMatchGiven}: the key must be live with one of these versions
 * ({@code If-Match}); an empty set — every tag the client sent was foreign or weak — never
 * matches. {@code ifMatchAny}: the key must be live ({@code If-Match: *}). {@code ifNoneMatchAny}:
 * the key must not be live ({@code If-None-Match: *}, create-only).
 */
public record Condition(Set<Version> ifMatch, boolean ifMatchAny, boolean ifNoneMatchAny, boolean ifMatchGiven) {
    public static final Condition NONE = new Condition(Set.of(), false, false, false);

    public Condition {
        ifMatch = Set.copyOf(ifMatch);
        ifMatchGiven = ifMatchGiven || ifMatchAny || !ifMatch.isEmpty();
        if (ifNoneMatchAny && ifMatchGiven) {
            throw new IllegalArgumentException("If-Match and If-None-Match: * cannot both hold");
        }
    }

    public Condition(Set<Version> ifMatch, boolean ifMatchAny, boolean ifNoneMatchAny) {
        this(ifMatch, ifMatchAny, ifNoneMatchAny, false);
    }

    public static Condition ifMatch(Version version) {
        return new Condition(Set.of(version), false, false, true);
    }

    /** {@code If-Match} with a list of versions; an empty list can never match. */
    public static Condition ifMatchOneOf(Set<Version> versions) {
        return new Condition(versions, false, false, true);
    }

    public static Condition ifAbsent() {
        return new Condition(Set.of(), false, true, false);
    }

    public boolean isNone() {
        return !ifMatchGiven && !ifNoneMatchAny;
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
        if (ifMatchGiven) {
            return live && ifMatch.contains(current.version());
        }
        return true;
    }
}
