package io.cairn.testkit;

import io.cairn.record.Record;
import io.cairn.clock.Version;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The checks run over a finished run's history and its healed final state.
 *
 * <p>All of them compare versions, because last-writer-wins by version is the contract of
 * {@code quorum} mode: a replica only ever replaces a record by a newer version, so "newer" is
 * what survives. Where a check meets a not-found answer (which carries no version) it accepts it
 * only if some delete of the key that may have taken effect could explain it.
 *
 * <ul>
 *   <li>{@link #readYourWrites}: a read with R + W > N, invoked after a write acknowledged at W
 *       completed, returns that write's version or a newer one (any key: quorums intersect).
 *       Under sloppy quorum this holds only for writes W home replicas acknowledged: one that
 *       fallbacks helped acknowledge may sit on fewer home replicas, where reads look, until its
 *       hints are handed off, so it sets no floor (the other checks still hold it fully). While
 *       partitions move, a write counts a majority of each of two replica sets and its answer
 *       does not say which set a fallback stood in for: with any fallback acknowledgement its
 *       home acknowledgements may be the incoming set's while reads ask the owners, so it sets no
 *       floor either (the simulator found one: an owner down behind a fallback, an owner whose
 *       disk refused the write, and the incoming replica's acknowledgement making up the count).
 *   <li>{@link #lostWrites}: after the heal phase, the newest copy of each key on its home replicas
 *       and the final R=all read are at least as new as every acknowledged write of the key.
 *   <li>{@link #convergence}: after the heal phase, anti-entropy and the final R=all reads, all
 *       home replicas hold the same live version (a tombstone and no record count alike: the
 *       purge rule lets replicas purge at different times), and no other node holds a copy.
 *   <li>{@link #integrity}: every value read was written by a put of that key that may have taken
 *       effect, with the version that put was acknowledged with.
 * </ul>
 * Reads that failed are not held to anything.
 */
final class HistoryChecker {
    /** What the home replicas of one key hold at the end, and the final R=all read of it. */
    record FinalState(String key, int[] homes, Map<Integer, Record> stored, Map<Integer, Record> strays, Operation finalRead) {}

    private final History history;
    private final int replicationFactor;
    private final long endMillis;
    // Partitions may move: a write counts a majority of each of two replica sets (joint quorums).
    private final boolean jointQuorums;

    HistoryChecker(History history, int replicationFactor, long endMillis) {
        this(history, replicationFactor, endMillis, false);
    }

    HistoryChecker(History history, int replicationFactor, long endMillis, boolean jointQuorums) {
        this.history = history;
        this.replicationFactor = replicationFactor;
        this.endMillis = endMillis;
        this.jointQuorums = jointQuorums;
    }

    List<Violation> readYourWrites() {
        List<Violation> out = new ArrayList<>();
        for (Operation read : history.operations()) {
            if (read.kind != Operation.Kind.GET || !(read.outcome == Operation.Outcome.FOUND || read.outcome == Operation.Outcome.NOT_FOUND)) {
                continue;
            }
            Operation floor = null;
            for (Operation w : history.on(read.key)) {
                if (w.isWrite() && w.acknowledgedByHomeQuorum(replicationFactor, jointQuorums) && w.completedStep < read.invokedStep
                        && read.quorumSize + w.quorumSize > replicationFactor
                        && (floor == null || w.version.isNewerThan(floor.version))) {
                    floor = w;
                }
            }
            if (floor == null) {
                continue;
            }
            if (read.outcome == Operation.Outcome.FOUND && floor.version.isNewerThan(read.record.version())) {
                out.add(new Violation(Violation.Kind.READ_YOUR_WRITES, read.completedAt,
                        read + " returned a version older than " + floor + ", which completed before the read began"));
            } else if (read.outcome == Operation.Outcome.NOT_FOUND && !explainedByDelete(read.key, floor.version, read.completedStep)) {
                out.add(new Violation(Violation.Kind.READ_YOUR_WRITES, read.completedAt,
                        read + " found nothing, but " + floor + " completed before the read began and no delete explains it"));
            }
        }
        return out;
    }

    List<Violation> integrity() {
        List<Violation> out = new ArrayList<>();
        for (Operation read : history.operations()) {
            if (read.outcome == Operation.Outcome.FOUND) {
                String problem = provenance(read.key, read.record, read.completedStep);
                if (problem != null) {
                    out.add(new Violation(Violation.Kind.INTEGRITY, read.completedAt, read + ": " + problem));
                }
            }
        }
        return out;
    }

    List<Violation> lostWrites(List<FinalState> finals) {
        List<Violation> out = new ArrayList<>();
        for (FinalState f : finals) {
            Operation floor = newestAcknowledged(f.key());
            Record newest = null;
            for (Record r : f.stored().values()) {
                // A tombstone of version 0 is anti-entropy's placeholder for a corrupt copy nobody else had: nothing.
                boolean placeholder = r != null && r.tombstone() && r.version().timestamp() == 0;
                if (r != null && !placeholder && (newest == null || r.version().isNewerThan(newest.version()))) {
                    newest = r;
                }
            }
            if (newest != null && !newest.tombstone()) {
                String problem = provenance(f.key(), newest, Long.MAX_VALUE);
                if (problem != null) {
                    out.add(new Violation(Violation.Kind.INTEGRITY, endMillis, "final copy of " + f.key() + ": " + problem));
                }
            }
            Operation read = f.finalRead();
            if (read == null || !(read.outcome == Operation.Outcome.FOUND || read.outcome == Operation.Outcome.NOT_FOUND)) {
                out.add(new Violation(Violation.Kind.LIVENESS, endMillis, "the final R=all read of " + f.key()
                        + " did not succeed after the cluster healed: " + read));
                continue;
            }
            if (floor == null) {
                continue;
            }
            if (newest == null && (floor.kind == Operation.Kind.DELETE || mayHaveDeletedAfter(f.key(), floor))) {
                // A tombstone purged everywhere: the delete holds as long as nothing older came back.
                continue;
            }
            if (newest == null || floor.version.isNewerThan(newest.version())) {
                out.add(new Violation(Violation.Kind.LOST_WRITE, endMillis, "acknowledged " + floor
                        + " is lost: the newest copy on the home replicas is " + newest + "; replicas " + describe(f.stored())));
            } else if (read.outcome == Operation.Outcome.FOUND && floor.version.isNewerThan(read.record.version())) {
                out.add(new Violation(Violation.Kind.LOST_WRITE, endMillis, "final " + read + " is older than acknowledged " + floor));
            } else if (read.outcome == Operation.Outcome.NOT_FOUND && !newest.tombstone()) {
                out.add(new Violation(Violation.Kind.LOST_WRITE, endMillis, "final " + read + " found nothing, but acknowledged "
                        + floor + " and the replicas hold " + newest));
            }
        }
        return out;
    }

    /**
     * Whether a delete of the key that may have taken effect can be newer than {@code floor}: one
     * acknowledged at a newer version, or one of unknown outcome (whose version nobody learnt).
     */
    private boolean mayHaveDeletedAfter(String key, Operation floor) {
        for (Operation d : history.on(key)) {
            // A delete whose outcome is unknown has no version the client learnt, so no causal token
            // covers it: even one answered before the write was sent may carry a version above it
            // (its coordinator's clock ahead) and take effect, after the write, by last-writer-wins.
            if (d.kind == Operation.Kind.DELETE && (d.outcome == Operation.Outcome.DELETED || d.outcome == Operation.Outcome.UNKNOWN)
                    && (d.version == null || d.version.isNewerThan(floor.version))) {
                return true;
            }
        }
        return false;
    }

    List<Violation> convergence(List<FinalState> finals) {
        List<Violation> out = new ArrayList<>();
        for (FinalState f : finals) {
            Version first = null;
            boolean firstSeen = false;
            boolean diverged = false;
            for (int home : f.homes()) {
                Record r = f.stored().get(home);
                // A tombstone and nothing are alike: one replica may have purged what another still holds.
                Version v = r == null || r.tombstone() ? null : r.version();
                if (!firstSeen) {
                    first = v;
                    firstSeen = true;
                } else if (v == null ? first != null : !v.equals(first)) {
                    diverged = true;
                }
            }
            if (diverged) {
                out.add(new Violation(Violation.Kind.DIVERGENCE, endMillis, "home replicas of " + f.key()
                        + " disagree after healing and a read at R=all: " + describe(f.stored())));
            }
            if (!f.strays().isEmpty()) {
                out.add(new Violation(Violation.Kind.DIVERGENCE, endMillis, "nodes that are not home replicas of " + f.key()
                        + " hold copies: " + describe(f.strays())));
            }
        }
        return out;
    }

    /**
     * Acknowledged writes to a single-writer key whose version is lower than that of an earlier
     * acknowledged write of the same writer: with clock skew between coordinators, last-writer-wins
     * keeps the earlier value, unless the later write carried the client's causal token (the
     * simulator's clients always do: then every inversion is a violation).
     */
    long versionInversions() {
        long inversions = 0;
        for (Operation w : history.operations()) {
            if (!w.acknowledged() || !history.isSingleWriter(w.key)) {
                continue;
            }
            for (Operation earlier : history.on(w.key)) {
                if (earlier.acknowledged() && earlier.completedStep < w.invokedStep && earlier.version.isNewerThan(w.version)) {
                    inversions++;
                    break;
                }
            }
        }
        return inversions;
    }

    private Operation newestAcknowledged(String key) {
        Operation floor = null;
        for (Operation w : history.on(key)) {
            if (w.acknowledged() && (floor == null || w.version.isNewerThan(floor.version))) {
                floor = w;
            }
        }
        return floor;
    }

    /** A not-found answer is explained by a delete invoked before it completed, not older than {@code floor}. */
    private boolean explainedByDelete(String key, Version floor, long beforeStep) {
        for (Operation d : history.on(key)) {
            if (d.kind == Operation.Kind.DELETE && d.mayHaveTakenEffect() && d.invokedStep < beforeStep
                    && (d.version == null || !floor.isNewerThan(d.version))) {
                return true;
            }
        }
        return false;
    }

    /** Null when the record is one a put of this key produced; otherwise what is wrong with it. */
    private String provenance(String key, Record record, long seenByStep) {
        Operation put = history.putOf(record.value());
        if (put == null || !put.key.equals(key)) {
            return "returned a value no put of " + key + " wrote";
        }
        if (put.outcome == Operation.Outcome.FAILED) {
            return "returned the value of " + put + ", reported as not executed";
        }
        if (put.invokedStep > seenByStep) {
            return "returned the value of " + put + " before it was written";
        }
        if (put.acknowledged() && !put.version.equals(record.version())) {
            return "returned the value of " + put + " under version " + record.version();
        }
        return null;
    }

    private static String describe(Map<Integer, Record> stored) {
        StringJoiner j = new StringJoiner(", ", "{", "}");
        stored.forEach((node, r) -> j.add("n" + node + "=" + (r == null ? "nothing" : r.version() + (r.tombstone() ? " tombstone" : ""))));
        return j.toString();
    }
}
