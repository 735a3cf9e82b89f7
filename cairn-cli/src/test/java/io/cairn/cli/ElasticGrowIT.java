package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * An elastic cluster over three zones as real processes, under continuous writes at W=quorum:
 * it grows 3 → 5 while a source of the first join's streams is {@code kill -9}ed mid-stream and
 * restarted, then loses a whole zone (two nodes killed together), whose nodes are removed so the
 * survivors re-replicate their partitions. No write through a live member fails, and every
 * acknowledged write ends on every final replica (read per replica, no read repair). The metadata
 * log runs with five voters ({@code metadata.voters=5}): it grows to five as the joiners arrive,
 * keeps its majority when the zone's two voters die together, carries the removals, and shrinks to
 * the three survivors.
 */
class ElasticGrowIT extends WithClusterProcesses {
    private static final Duration CHANGE = Duration.ofSeconds(120);

    @Test
    void growsUnderLoadThroughASourceCrashThenSurvivesLosingAZone() throws Exception {
        // Streams throttled hard (per node, split over its core shards), so the first join is
        // still streaming when a source dies.
        // A 5 s request deadline: a write during a move needs a quorum of both replica sets, the
        // joiner's included, and here five JVMs share two cores while one ingests, one restarts
        // from a kill -9 and the load runs. A clean CI run on an idle machine (2026-12-06) saw one
        // write answer 504 at the 2 s default with the second joiner and a crashed owner both
        // short of its incoming set: the machine's scheduling, not the move protocol (the answer
        // was honest, outcome unknown, as it was in a84ba5a's run at a 1 s deadline). A local run
        // saw it once more at 5 s, so the writer now settles a 504 as a client must: the same
        // blind write again (ElasticHarness counts those); only a retry that fails too is a
        // failure.
        cluster = new ClusterProcesses(tmp, 3, List.of("cluster.heartbeatInterval=100ms", "cluster.requestTimeout=5s",
                "cluster.hintReplayInterval=200ms", "moves.maxConcurrent=4", "moves.maxBytesPerSecond=256KiB", "moves.chunkSize=16KiB", "metadata.voters=5"),
                true, 2, 3);
        ElasticHarness h = new ElasticHarness(cluster, Set.of(1, 2, 3), 1024);
        h.maxVoters = 5; // Each settled change has as many voters as members, up to five.
        try (h) {
            // About 1 KiB values for a few seconds: a few MB the joiners must stream in.
            Thread.sleep(4_000);
            h.pause(20);

            // Node 4 (zone-1) joins; mid-stream, node 2 (an owner of every partition) is killed and restarted.
            cluster.join(4, 1);
            cluster.awaitReady(4);
            h.live.add(4);
            awaitStreaming(h, 4);
            h.live.remove(2);
            cluster.kill(2);
            Thread.sleep(1_500);
            cluster.start(2);
            cluster.awaitReady(2);
            h.live.add(2);
            h.awaitChangeDone(1, Set.of(1, 2, 3, 4), CHANGE);

            // Node 5 (zone-2) joins: five nodes over three zones.
            cluster.join(5, 3);
            cluster.awaitReady(5);
            h.live.add(5);
            h.awaitChangeDone(3, Set.of(1, 2, 3, 4, 5), CHANGE);

            // Losing zone-1 (nodes 1 and 4) leaves every quorum: each partition has one replica per zone.
            JsonNode whatIf = h.get(2, "/admin/what-if?lose=zone:zone-1");
            assertThat(whatIf.path("nodes").toString()).isEqualTo("[1,4]");
            JsonNode ns = whatIf.path("namespaces").path("default");
            assertThat(ns.path("unavailableForQuorumWrites").size()).as(whatIf.toString()).isZero();
            assertThat(ns.path("unavailableForQuorumReads").size()).as(whatIf.toString()).isZero();
            assertThat(ns.path("underReplicated").size()).as(whatIf.toString()).isEqualTo(256);
            assertThat(whatIf.path("metadata").path("votersLost").toString()).as(whatIf.toString()).isEqualTo("[1,4]");
            assertThat(whatIf.path("metadata").path("majorityKept").asBoolean()).as(whatIf.toString()).isTrue();

            h.live.remove(1);
            h.live.remove(4);
            cluster.kill(1);
            cluster.kill(4);
            h.awaitDown(2, 1);
            h.awaitDown(3, 4);
            // Two of the log's five voters are gone: the three left are a majority, so the log
            // takes the removals below. Removing node 1 leaves a node in every zone; removing node 4 as well leaves two zones,
            // which needs the override and says so without it. The second removal folds into the first.
            h.change(2, "/admin/membership/remove?node=1", 200);
            JsonNode refused = h.change(3, "/admin/membership/remove?node=4", 422);
            assertThat(refused.path("message").asText()).contains("zone");
            h.change(3, "/admin/membership/remove?node=4&allowZoneLoss=true", 200);
            h.awaitChangeDone(2, Set.of(2, 3, 5), CHANGE);
            Thread.sleep(500);
        }
        h.assertEveryAcknowledgedWriteOnEveryReplica(2, 3, 1_000);
    }

    /** Waits until node {@code id} has streamed some of a partition in, and not all of them. */
    private void awaitStreaming(ElasticHarness h, int id) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        JsonNode view = null;
        while (System.nanoTime() < deadline) {
            view = h.get(id, "/admin/rebalance");
            if (view.path("thisNode").path("bytesStreamed").asLong() > 0) {
                assertThat(view.path("streamsRemaining").asInt()).as("still streaming: %s", view).isPositive();
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("node " + id + " streamed nothing within 60 s: " + view);
    }
}
