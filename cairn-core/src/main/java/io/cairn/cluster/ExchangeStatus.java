package io.cairn.cluster;

import java.util.List;

/** What a node's exchanges know of its replicas' convergence, for {@code /admin/repair}. */
public final class ExchangeStatus {
    private ExchangeStatus() {}

    /**
     * One partition of one namespace on this node, over its other replicas.
     *
     * @param sinceLastExchangeMillis time since the oldest of its pairs last completed a round; -1
     *                                when some pair never has
     * @param differingSegments       segments the last rounds found differing (summed over peers)
     * @param differingKeys           records the last rounds found to move and did not move yet
     * @param bytesToRepair           about how many bytes those records hold
     * @param errors                  why the last round with a peer failed, per peer
     */
    public record Partition(String namespace, int partition, long sinceLastExchangeMillis, int differingSegments, int differingKeys,
                            long bytesToRepair, List<String> errors) {}

    /**
     * Counters since start.
     *
     * @param bytesMoved     value bytes of the records pushed and fetched
     * @param bytesExchanged every byte the rounds this node started sent and received: tree
     *                       hashes, listings, records, and about 64 bytes of framing per message
     * @param keysSkippedRecent differences left to a later round because the newer copy was
     *                       written within two request timeouts (most likely still in flight)
     */
    public record Totals(long rounds, long roundsClean, long roundsFailed, long keysPushed, long keysFetched, long bytesMoved,
                         long bytesExchanged, long keysSkippedRecent) {
        public Totals plus(Totals o) {
            return new Totals(rounds + o.rounds, roundsClean + o.roundsClean, roundsFailed + o.roundsFailed, keysPushed + o.keysPushed,
                    keysFetched + o.keysFetched, bytesMoved + o.bytesMoved, bytesExchanged + o.bytesExchanged,
                    keysSkippedRecent + o.keysSkippedRecent);
        }

        public static final Totals ZERO = new Totals(0, 0, 0, 0, 0, 0, 0, 0);
    }
}
