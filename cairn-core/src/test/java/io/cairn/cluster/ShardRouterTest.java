package io.cairn.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.clock.Version;
import io.cairn.message.Message;
import io.cairn.message.Protocol;
import io.cairn.message.RequestIds;
import io.cairn.placement.Partitioner;
import io.cairn.record.Record;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ShardRouterTest {
    private final Partitioner partitioner = new Partitioner(64);

    @Test
    void theIdsAShardHandsOutComeBackToIt() {
        for (int count = 1; count <= 5; count++) {
            ShardRouter router = new ShardRouter(count, partitioner);
            for (int s = 0; s < count; s++) {
                Shard shard = new Shard(s, count);
                RequestIds ids = new RequestIds(shard.firstAtLeast(1_000_003), count);
                for (int i = 0; i < 20; i++) {
                    long id = ids.next(Protocol.REPLICATION);
                    assertThat(shard.owns(id)).isTrue();
                    assertThat(router.ofMessage(new Message.WriteResponse(Protocol.REPLICATION, id, true, null)))
                            .as("the answer to request %d of shard %d of %d", id, s, count).isEqualTo(s);
                }
            }
        }
    }

    @Test
    void firstAtLeastIsTheSmallestOwnedIdNotBelowTheFloor() {
        Shard shard = new Shard(2, 5);
        for (long floor = -12; floor < 40; floor++) {
            long first = shard.firstAtLeast(floor);
            assertThat(first).isBetween(floor, floor + 4);
            assertThat(shard.owns(first)).isTrue();
        }
    }

    @Test
    void aKeyAndEveryReplicaRequestForItGoToThePartitionsShard() {
        ShardRouter router = new ShardRouter(3, partitioner);
        for (int i = 0; i < 200; i++) {
            byte[] key = ("key-" + i).getBytes(StandardCharsets.UTF_8);
            int shard = partitioner.partitionOf(key) % 3;
            assertThat(router.ofKey(key)).isEqualTo(shard);
            Record r = Record.value(new Version(Version.pack(1_000, 0), 1), Record.NO_EXPIRY, null, new byte[] {1});
            assertThat(router.ofMessage(new Message.ReadRequest(Protocol.READ, 1, 7L * i, 1, key))).isEqualTo(shard);
            assertThat(router.ofMessage(new Message.WriteRequest(Protocol.REPAIR, 1, 7L * i + 1, 1, key, r))).isEqualTo(shard);
        }
    }

    @Test
    void shardCountsOutsideOneToTheMaximumAreRefused() {
        assertThatThrownBy(() -> new ShardRouter(0, partitioner)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ShardRouter(Shard.MAX_SHARDS + 1, partitioner)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Shard(3, 3)).isInstanceOf(IllegalArgumentException.class);
    }
}
