package io.cairn.namespace;

import java.util.ArrayList;
import java.util.List;

/**
 * The rule for changing the list of user namespaces, shared by the cluster's metadata state
 * machine and a single node's own catalog: a definition is checked ({@link NamespaceSpec#problem}),
 * a new name gets the next free id unless the limit is reached, a known name keeps its id and takes
 * the new policy, and the same definition again changes nothing.
 */
public final class NamespaceCatalog {
    private NamespaceCatalog() {}

    /** What a put did: {@code next} is the new list (the same one when unchanged or refused). */
    public record Change(List<NamespaceSpec> next, NamespaceSpec applied, boolean changed, Refusal refusal) {}

    public enum RefusalKind {
        /** The definition breaks a rule. */
        INVALID,
        /** A new namespace beyond the limit. */
        LIMIT
    }

    public record Refusal(RefusalKind kind, String message) {}

    /**
     * Puts {@code spec} into {@code current} on a cluster of replication factor {@code n} that
     * keeps at most {@code max} user namespaces. {@code spec}'s own id is ignored.
     */
    public static Change put(List<NamespaceSpec> current, NamespaceSpec spec, int n, int max) {
        String problem = spec.problem(n);
        if (problem != null) {
            return new Change(current, null, false, new Refusal(RefusalKind.INVALID, problem));
        }
        List<NamespaceSpec> next = new ArrayList<>(current);
        for (int i = 0; i < current.size(); i++) {
            NamespaceSpec existing = current.get(i);
            if (existing.name().equals(spec.name())) {
                NamespaceSpec changed = spec.withId(existing.id());
                if (changed.equals(existing)) {
                    return new Change(current, existing, false, null);
                }
                next.set(i, changed);
                return new Change(List.copyOf(next), changed, true, null);
            }
        }
        if (current.size() >= max) {
            return new Change(current, null, false, new Refusal(RefusalKind.LIMIT,
                    "there are " + current.size() + " namespaces, the limit (limits.maxNamespaces=" + max + "); raise it on the members to create more"));
        }
        int id = current.stream().mapToInt(NamespaceSpec::id).max().orElse(NamespaceSpec.FIRST_USER_ID - 1) + 1;
        NamespaceSpec created = spec.withId(id);
        next.add(created);
        return new Change(List.copyOf(next), created, true, null);
    }
}
