package io.cairn.cluster;

import java.util.List;

/**
 * What a node's Paxos proposers did: operations started, writes chosen (their own or, after a
 * retry, found chosen), conditions that failed, earlier rounds finished, rounds retried (refused
 * or short of a majority) or restarted above a newer record, and operations given up as
 * contended or with an unknown outcome.
 */
public final class PaxosStats {
    long started;
    long committed;
    long conditionFailed;
    long finished;
    long retries;
    long restarted;
    long contended;
    long unknown;
    long foundCommitted;
    long ruledOut;
    long queued;
    long widened;
    long staleStamps;
    long leased;
    long leaseLost;
    long answeredChosen;
    long strays;
    long ruleOutRetries;

    public long started() {
        return started;
    }

    public long committed() {
        return committed;
    }

    public long conditionFailed() {
        return conditionFailed;
    }

    public long finishedForOthers() {
        return finished;
    }

    public long retries() {
        return retries;
    }

    public long restarted() {
        return restarted;
    }

    public long contended() {
        return contended;
    }

    public long unknown() {
        return unknown;
    }

    /** Operations whose overtaken proposal a later round found committed (so they succeeded, not "unknown"). */
    public long foundCommitted() {
        return foundCommitted;
    }

    /** Operations whose overtaken proposals a later round proved never chosen (so they decided afresh, not "unknown"). */
    public long ruledOut() {
        return ruledOut;
    }

    /** Operations that waited for another of this node's operations on their key to end before their first round. */
    public long queued() {
        return queued;
    }

    /** Phases sent to a bare majority that then went to the other replicas too (one refused or failed, or the hedge passed). */
    public long widened() {
        return widened;
    }

    /** Stamped writes (idempotent requests') refused because the key had been written at a newer version: nothing changed, the request restamps. */
    public long staleStamps() {
        return staleStamps;
    }

    /** Writes proposed under a lease, skipping their first prepare. */
    public long leased() {
        return leased;
    }

    /** Writes proposed under a lease whose proposal then failed (another proposer, or a plain write, came between), so a full round followed. */
    public long leaseLost() {
        return leaseLost;
    }

    /** Writes of a serial namespace answered once chosen, their commit still running. */
    public long answeredChosen() {
        return answeredChosen;
    }

    /** Records of serial namespaces no round chose, found on some replicas and finished before a round decided on them. */
    public long strays() {
        return strays;
    }

    /** Rounds retried because a replica's refusal kept them from ruling out an earlier proposal of their operation (instead of answering "unknown"). */
    public long ruleOutRetries() {
        return ruleOutRetries;
    }

    public static PaxosStats sum(List<PaxosStats> all) {
        PaxosStats s = new PaxosStats();
        for (PaxosStats p : all) {
            s.started += p.started;
            s.committed += p.committed;
            s.conditionFailed += p.conditionFailed;
            s.finished += p.finished;
            s.retries += p.retries;
            s.restarted += p.restarted;
            s.contended += p.contended;
            s.unknown += p.unknown;
            s.foundCommitted += p.foundCommitted;
            s.ruledOut += p.ruledOut;
            s.ruleOutRetries += p.ruleOutRetries;
            s.queued += p.queued;
            s.widened += p.widened;
            s.staleStamps += p.staleStamps;
            s.leased += p.leased;
            s.leaseLost += p.leaseLost;
            s.answeredChosen += p.answeredChosen;
            s.strays += p.strays;
        }
        return s;
    }
}
