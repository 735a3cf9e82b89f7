package io.cairn.cluster;

import io.cairn.message.Message;
import io.cairn.placement.Partitioner;
import io.cairn.request.WriteRequest;
import java.nio.charset.StandardCharsets;

/**
 * Which of a node's core shards handles a client request or a message from a peer. Pure and
 * thread-safe: the driver calls it on whatever thread a request or message arrives on, then hands
 * the work to that shard's thread.
 *
 * <ul>
 *   <li>Shard {@code s} of {@code K} owns the partitions {@code p} with {@code p mod K == s}:
 *       reads, writes and inspections of a key go to its partition's shard, and so do the replica
 *       requests of peers (replica writes, reads, hinted writes, hand-offs), whatever shard of
 *       the peer sent them.</li>
 *   <li>A write request goes to the shard of its idempotency key when it has one (so the in-flight
 *       rule of one key is kept by one shard), else to the shard of its first operation's key.
 *       A batch's other keys are coordinated by that shard too: any shard may coordinate any key.</li>
 *   <li>Responses go to the shard whose request id they answer, heartbeats and their answers to
 *       the shard of their sequence: both are the shard's residue modulo {@code K}
 *       ({@link Shard}). Peers may run another shard count: a ping is answered by the shard of
 *       its sequence modulo this node's count, and the pong returns to the sender's shard by the
 *       sender's count.</li>
 * </ul>
 */
public final class ShardRouter {
    private final int shards;
    private final Partitioner partitioner;

    public ShardRouter(int shards, Partitioner partitioner) {
        this.shards = Shard.requireCount(shards);
        this.partitioner = partitioner;
    }

    public int shards() {
        return shards;
    }

    public int ofPartition(int partition) {
        return partition % shards;
    }

    public int ofKey(byte[] key) {
        return ofPartition(partitioner.partitionOf(key));
    }

    public int ofRequest(WriteRequest request) {
        if (request.idempotency() != null) {
            return ofKey(request.idempotency().key().getBytes(StandardCharsets.US_ASCII));
        }
        return request.ops().isEmpty() ? 0 : ofKey(request.ops().get(0).key());
    }

    public int ofMessage(Message m) {
        return switch (m) {
            case Message.WriteRequest w -> ofKey(w.key());
            case Message.HintedWrite h -> ofKey(h.key());
            case Message.ReadRequest r -> ofKey(r.key());
            case Message.WriteResponse w -> Math.floorMod(w.requestId(), shards);
            case Message.ReadResponse r -> Math.floorMod(r.requestId(), shards);
            case Message.TreeRequest t -> ofPartition(t.partition());
            case Message.KeysRequest k -> ofPartition(k.partition());
            case Message.TreeResponse t -> Math.floorMod(t.requestId(), shards);
            case Message.KeysResponse k -> Math.floorMod(k.requestId(), shards);
            case Message.StreamRequest r -> ofPartition(r.partition());
            case Message.StreamResponse r -> Math.floorMod(r.requestId(), shards);
            case Message.StateStreamResponse r -> Math.floorMod(r.requestId(), shards);
            case Message.PaxosRequest r -> ofKey(r.key());
            case Message.PaxosResponse r -> Math.floorMod(r.requestId(), shards);
            case Message.Ping p -> Math.floorMod(p.sequence(), shards);
            case Message.Pong p -> Math.floorMod(p.sequence(), shards);
        };
    }
}
