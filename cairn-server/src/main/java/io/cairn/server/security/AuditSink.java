package io.cairn.server.security;

import java.util.Map;

/** Where administrative actions and authentication failures are recorded; see {@link AuditLog}. Thread-safe, never blocks. */
public interface AuditSink {
    AuditSink NONE = (event, outcome, who, from, details) -> { };

    /**
     * @param event   what happened, dotted ({@code internode.refused}, {@code admin.faults}, ...)
     * @param outcome {@code refused}, {@code done}, ...
     * @param who     the actor as far as the node knows (a member, {@code unknown}), or null
     * @param from    the remote address, or null
     * @param details more fields, or null
     */
    void record(String event, String outcome, String who, String from, Map<String, ?> details);
}
