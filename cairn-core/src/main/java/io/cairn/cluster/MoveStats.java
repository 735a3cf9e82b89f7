package io.cairn.cluster;

/**
 * What a node's partition moves did so far (sums over its shards).
 *
 * @param streamsRunning    partitions being streamed in now
 * @param bytesStreamed     record bytes received by streams and stored
 * @param recordsStreamed   records received by streams and stored
 * @param statesStreamed    Paxos states received by streams and joined into this node's
 * @param streamErrors      chunks that failed (an error answer, a timeout, a chunk refused as invalid, a failed store)
 * @param streamsCompleted  partitions fully streamed in (one per move and incoming replica)
 * @param chunksServed      chunks this node sent as an owner
 * @param partitionsDropped partitions whose records this node deleted after they moved away
 */
public record MoveStats(long streamsRunning, long bytesStreamed, long recordsStreamed, long statesStreamed, long streamErrors, long streamsCompleted,
                        long chunksServed, long partitionsDropped) {
    public static final MoveStats ZERO = new MoveStats(0, 0, 0, 0, 0, 0, 0, 0);

    public MoveStats plus(MoveStats o) {
        return new MoveStats(streamsRunning + o.streamsRunning, bytesStreamed + o.bytesStreamed, recordsStreamed + o.recordsStreamed,
                statesStreamed + o.statesStreamed, streamErrors + o.streamErrors, streamsCompleted + o.streamsCompleted,
                chunksServed + o.chunksServed, partitionsDropped + o.partitionsDropped);
    }
}
