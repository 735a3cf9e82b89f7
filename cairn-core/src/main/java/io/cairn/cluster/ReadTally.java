package io.cairn.cluster;

import io.cairn.record.Record;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Collects replica replies to one read and decides, as pure logic, what to answer and which
 * replicas to repair (after riak_kv_get_core: it tallies and returns a decision, never acts).
 *
 * <p>A reply is the replica's stored record for the key (tombstones and expired records
 * included, because their versions matter) or null when it holds nothing. Once {@code required}
 * replies arrived, the answer is the newest record among them (last-writer-wins by version), and
 * every replier holding something older or nothing is stale. Replies arriving later can still
 * reveal a newer version; {@link #newest()} and {@link #stale()} always reflect all replies.
 */
final class ReadTally {
    private final Set<Integer> replicas;
    private final int required;
    private final Map<Integer, Record> replies = new LinkedHashMap<>();
    private final Set<Integer> failed = new LinkedHashSet<>();

    public ReadTally(Set<Integer> replicas, int required) {
        if (required < 1 || required > replicas.size()) {
            throw new IllegalArgumentException("required " + required + " of " + replicas.size() + " replicas");
        }
        this.replicas = Set.copyOf(replicas);
        this.required = required;
    }

    public enum Decision { PENDING, READY, FAILED }

    public Decision reply(int node, Record record) {
        if (replicas.contains(node) && !failed.contains(node) && !replies.containsKey(node)) {
            replies.put(node, record);
        }
        return decision();
    }

    public Decision fail(int node) {
        if (replicas.contains(node) && !replies.containsKey(node)) {
            failed.add(node);
        }
        return decision();
    }

    public Decision decision() {
        if (replies.size() >= required) {
            return Decision.READY;
        }
        if (replicas.size() - failed.size() < required) {
            return Decision.FAILED;
        }
        return Decision.PENDING;
    }

    public int replies() {
        return replies.size();
    }

    /** The newest record among all replies, or null when no replier holds anything. */
    public Record newest() {
        Record best = null;
        for (Record r : replies.values()) {
            if (r != null && (best == null || r.version().isNewerThan(best.version()))) {
                best = r;
            }
        }
        return best;
    }

    /** Repliers whose copy is older than {@link #newest()} or missing. */
    public Set<Integer> stale() {
        Record best = newest();
        Set<Integer> stale = new LinkedHashSet<>();
        if (best == null) {
            return stale;
        }
        replies.forEach((node, r) -> {
            if (r == null || best.version().isNewerThan(r.version())) {
                stale.add(node);
            }
        });
        return stale;
    }

    /** Replicas that have not replied or failed yet. */
    public Set<Integer> unanswered() {
        Set<Integer> s = new LinkedHashSet<>(replicas);
        s.removeAll(replies.keySet());
        s.removeAll(failed);
        return s;
    }
}
