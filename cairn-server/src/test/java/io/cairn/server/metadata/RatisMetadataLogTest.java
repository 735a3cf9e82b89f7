package io.cairn.server.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.membership.Member;
import io.cairn.metadata.ClusterMetadata;
import io.cairn.metadata.ClusterState;
import io.cairn.metadata.MetadataCommand;
import io.cairn.metadata.NodeState;
import io.cairn.server.security.CertificateAuthority;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The metadata log on real Ratis servers over loopback gRPC: commands, refusals, failover, restarts, listeners. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RatisMetadataLogTest {
    private static final Duration WAIT = Duration.ofSeconds(30); // Promotions take several election timeouts; a loaded machine stretches them.

    @TempDir
    Path dir;

    @Test
    void votersApplyACommandFromAFollowerAndRefuseUnknownNodesAndDamagedEntries() throws Exception {
        try (LoopbackGroup group = new LoopbackGroup(dir, 3, 3, LoopbackGroup.SETTINGS).startAll()) {
            int leader = group.leader(WAIT);
            int follower = leader % 3 + 1;
            Member four = LoopbackGroup.member(4, false);

            ClusterMetadata.Result joined = group.node(follower).submit(new MetadataCommand.Join(four)).join();

            assertThat(joined.refused()).isFalse();
            assertThat(joined.state().epoch()).isEqualTo(2);
            assertThat(joined.state().member(4)).map(r -> r.state()).contains(NodeState.JOINING);
            for (int id = 1; id <= 3; id++) {
                assertThat(group.node(id).awaitEpoch(2, WAIT).join()).isEqualTo(joined.state());
                assertThat(group.published(id)).containsExactly(group.bootstrap, joined.state());
            }

            ClusterMetadata.Result unknown = group.node(follower).submit(new MetadataCommand.Decommission(99, false)).join();
            assertThat(unknown.refused()).isTrue();
            assertThat(unknown.refusal().kind()).isEqualTo(ClusterMetadata.Refusal.Kind.UNKNOWN_NODE);
            assertThat(unknown.state().epoch()).isEqualTo(2);

            ClusterMetadata.Result damaged = group.node(leader).submitEntry(new byte[] {(byte) 0xEE, 1, 2, 3}).join();
            assertThat(damaged.refused()).isTrue();
            assertThat(damaged.refusal().kind()).isEqualTo(ClusterMetadata.Refusal.Kind.INVALID);
            assertThat(damaged.state()).isEqualTo(joined.state());
            ClusterMetadata.Result empty = group.node(follower).submitEntry(new byte[0]).join();
            assertThat(empty.refusal().kind()).isEqualTo(ClusterMetadata.Refusal.Kind.INVALID);

            ClusterMetadata.Result paused = group.node(follower).submit(new MetadataCommand.Pause(true)).join();
            assertThat(paused.refused()).isFalse();
            assertThat(paused.state().epoch()).isEqualTo(3);
            for (int id = 1; id <= 3; id++) {
                assertThat(group.node(id).awaitEpoch(3, WAIT).join()).isEqualTo(paused.state());
                assertThat(group.publishedEpochs(id)).containsExactly(1L, 2L, 3L);
            }
        }
    }

    @Test
    void aThrowingSubscriberBreaksNeitherTheLogNorTheOtherSubscribers() throws Exception {
        try (LoopbackGroup group = new LoopbackGroup(dir, 3, 3, LoopbackGroup.SETTINGS).startAll()) {
            RatisMetadataLog node = group.node(1);
            List<Long> thrownAt = new CopyOnWriteArrayList<>();
            node.subscribe(s -> {
                thrownAt.add(s.epoch());
                throw new IllegalArgumentException("a subscriber's bug at epoch " + s.epoch());
            });
            List<Long> after = new CopyOnWriteArrayList<>();
            node.subscribe(s -> after.add(s.epoch()));

            node.submit(new MetadataCommand.Join(LoopbackGroup.member(4, false))).join();
            node.submit(new MetadataCommand.Pause(true)).join();
            node.submit(new MetadataCommand.Pause(false)).join();
            node.awaitEpoch(4, WAIT).join();

            assertThat(thrownAt).containsExactly(1L, 2L, 3L, 4L);
            assertThat(after).containsExactly(1L, 2L, 3L, 4L);
            assertThat(group.publishedEpochs(1)).containsExactly(1L, 2L, 3L, 4L);
        }
    }

    @Test
    void survivesItsLeaderFailsWithoutAMajorityAndRecoversFromSnapshotAndLog() throws Exception {
        MetadataSettings settings = LoopbackGroup.SETTINGS.withSnapshotEveryEntries(3).withLogSizes(8 << 10, 4 << 10);
        try (LoopbackGroup group = new LoopbackGroup(dir, 3, 3, settings).startAll()) {
            int first = group.leader(WAIT);
            RatisMetadataLog any = group.node(first);
            any.submit(new MetadataCommand.Join(LoopbackGroup.member(4, false))).join();
            for (int i = 0; i < 4; i++) {
                assertThat(any.submit(new MetadataCommand.Pause(i % 2 == 0)).join().refused()).isFalse();
            }
            assertThat(any.current().epoch()).isEqualTo(6);

            group.stop(first);
            int second = group.leader(WAIT);
            assertThat(second).isNotEqualTo(first);
            ClusterMetadata.Result afterFailover = group.node(second).submit(new MetadataCommand.Pause(true)).join();
            assertThat(afterFailover.refused()).isFalse();
            assertThat(afterFailover.state().epoch()).isEqualTo(7);

            group.stop(second);
            int last = Stream.of(1, 2, 3).filter(id -> id != first && id != second).findFirst().orElseThrow();
            long started = System.nanoTime();
            assertThatThrownBy(() -> group.node(last).submit(new MetadataCommand.Pause(false)).join())
                    .isInstanceOf(CompletionException.class)
                    .cause().isInstanceOf(MetadataUnavailableException.class)
                    .hasMessageContaining("no majority");
            Duration took = Duration.ofNanos(System.nanoTime() - started);
            assertThat(took).isLessThan(settings.requestTimeout().plusSeconds(1));

            ClusterState before = group.node(last).current();
            assertThat(before.epoch()).isGreaterThanOrEqualTo(7);
            group.stopAll();
            assertThat(snapshots(group.storage(first))).as("snapshots of the first leader").isNotEmpty();

            // One node alone cannot commit anything: what it holds now came from its own disk.
            for (int id : List.of(first, second, last)) {
                RatisMetadataLog alone = group.start(id);
                ClusterState recovered = alone.awaitEpoch(id == first ? 6 : 7, WAIT).join();
                assertThat(recovered.epoch()).isEqualTo(id == first ? 6 : 7);
                group.stop(id);
            }

            // Together again: a leader, the newest state everywhere, and new commands.
            group.startAll();
            ClusterMetadata.Result resumed = group.node(first).submit(new MetadataCommand.Pause(false)).join();
            assertThat(resumed.refused()).isFalse();
            assertThat(resumed.state().epoch()).isEqualTo(before.epoch() + 1);
            for (int id = 1; id <= 3; id++) {
                assertThat(group.node(id).awaitEpoch(resumed.state().epoch(), WAIT).join()).isEqualTo(resumed.state());
            }
        }
    }

    @Test
    void aMemberOutsideTheVotersFollowsEveryEpochAsAListener() throws Exception {
        try (LoopbackGroup group = new LoopbackGroup(dir, 3, 3, LoopbackGroup.SETTINGS).startAll()) {
            Member four = LoopbackGroup.member(4, true);
            RatisMetadataLog listener = group.start(four);

            ClusterMetadata.Result joined = listener.submit(new MetadataCommand.Join(four)).join();
            assertThat(joined.refused()).isFalse();
            listener.awaitEpoch(2, WAIT).join();
            int leader = group.leader(WAIT);
            waitUntil(() -> group.node(leader).configured(RaftPeerRole.LISTENER).contains(4), "node 4 becomes a listener");
            assertThat(group.node(leader).configured(RaftPeerRole.FOLLOWER)).containsExactlyInAnyOrder(1, 2, 3);

            group.node(1).submit(new MetadataCommand.Pause(true)).join();
            ClusterMetadata.Result last = listener.submit(new MetadataCommand.Pause(false)).join();
            assertThat(listener.awaitEpoch(4, WAIT).join()).isEqualTo(last.state());
            assertThat(group.publishedEpochs(4)).containsExactly(1L, 2L, 3L, 4L);
            LoopbackGroup.assertConsecutive(group.published(4));
        }
    }

    @Test
    void aServerThatAppliesNothingWhileTheGroupGoesOnFollowsItByPolling() throws Exception {
        try (LoopbackGroup group = new LoopbackGroup(dir, 3, 3, LoopbackGroup.SETTINGS).startAll()) {
            // Node 4 runs a log server but never joins: the group never streams it an entry, as
            // for a server that stopped applying them.
            Member four = LoopbackGroup.member(4, true);
            RatisMetadataLog stalled = group.start(four);
            ClusterMetadata.Result joined = group.node(1).submit(new MetadataCommand.Join(LoopbackGroup.member(5, false))).join();
            assertThat(joined.state().epoch()).isEqualTo(2);
            assertThat(stalled.awaitEpoch(2, WAIT).join()).isEqualTo(joined.state());
            assertThat(stalled.current()).isEqualTo(joined.state());
            assertThat(group.publishedEpochs(4)).containsExactly(1L, 2L);
        }
    }

    /**
     * A server learns a committed entry only from the leader's next append; a node whose peers
     * show it a newer epoch asks the group at once instead (requests of that epoch wait on it).
     */
    @Test
    void aServerBehindTheEpochItsPeersShowAsksTheGroupAtOnce() throws Exception {
        try (LoopbackGroup group = new LoopbackGroup(dir, 3, 3, LoopbackGroup.SETTINGS).startAll()) {
            // Node 4 runs a log server that never joins (the group streams it nothing), with
            // election timeouts so long that its stall check would notice only after 40 s.
            java.util.concurrent.atomic.AtomicLong peers = new java.util.concurrent.atomic.AtomicLong();
            RatisMetadataLog behind = group.startWith(LoopbackGroup.member(4, true),
                    LoopbackGroup.SETTINGS.withElectionTimeout(Duration.ofSeconds(40), Duration.ofSeconds(50)));
            behind.followPeers(peers::get);
            ClusterMetadata.Result joined = group.node(1).submit(new MetadataCommand.Join(LoopbackGroup.member(5, false))).join();
            Thread.sleep(1_000);
            assertThat(behind.current().epoch()).as("no peer showed a newer epoch: it asked nothing").isEqualTo(1);

            peers.set(joined.state().epoch());
            assertThat(behind.awaitEpoch(2, WAIT).join()).isEqualTo(joined.state());
            assertThat(group.publishedEpochs(4)).containsExactly(1L, 2L);
        }
    }

    @Test
    void aMemberWithoutAMetadataAddressFollowsByPolling() throws Exception {
        try (LoopbackGroup group = new LoopbackGroup(dir, 3, 3, LoopbackGroup.SETTINGS).startAll()) {
            Member five = LoopbackGroup.member(5, false);
            RatisMetadataLog poller = group.start(five);

            ClusterMetadata.Result joined = poller.submit(new MetadataCommand.Join(five)).join();
            assertThat(poller.awaitEpoch(2, WAIT).join()).isEqualTo(joined.state());
            ClusterMetadata.Result paused = group.node(2).submit(new MetadataCommand.Pause(true)).join();
            assertThat(poller.awaitEpoch(3, WAIT).join()).isEqualTo(paused.state());
            assertThat(poller.current()).isEqualTo(paused.state());
            List<Long> epochs = group.publishedEpochs(5);
            assertThat(epochs).isSorted().doesNotHaveDuplicates().startsWith(1L).endsWith(3L);
        }
    }

    @Test
    void onlyHoldersOfACertificateFromTheClusterCaReachTheLog() throws Exception {
        try (LoopbackGroup group = new LoopbackGroup(dir, 3, 3, LoopbackGroup.SETTINGS).startAll()) {
            // A stranger with its own CA, and one without TLS at all: neither may join (or do anything).
            Path otherCa = dir.resolve("other-ca");
            CertificateAuthority.init(otherCa, "other", CertificateAuthority.DEFAULT_CA_VALIDITY);
            CertificateAuthority.issueNode(otherCa, 5, List.of("127.0.0.1"), dir.resolve("tls-stranger"), CertificateAuthority.DEFAULT_NODE_VALIDITY);
            Member five = LoopbackGroup.member(5, false);
            Member six = LoopbackGroup.member(6, false);
            RatisMetadataLog stranger = group.start(five, MetadataTls.load(dir.resolve("tls-stranger"), 5, java.time.Clock.systemUTC()));
            RatisMetadataLog plaintext = group.start(six, null);
            for (RatisMetadataLog outsider : List.of(stranger, plaintext)) {
                Member who = outsider == stranger ? five : six;
                assertThatThrownBy(() -> outsider.submit(new MetadataCommand.Join(who)).join())
                        .isInstanceOf(CompletionException.class)
                        .cause().isInstanceOf(MetadataUnavailableException.class);
            }
            assertThat(group.node(1).current().epoch()).as("nothing was applied").isEqualTo(1);
            assertThat(stranger.current().epoch()).isEqualTo(1);

            // What a joining node that the log does not answer is told (ElasticMembership asks
            // once): a certificate from another CA, on either side, is told apart from a member that is down.
            Member one = group.members.get(0);
            MetadataTls strangerTls = MetadataTls.load(dir.resolve("tls-stranger"), 5, java.time.Clock.systemUTC());
            MetadataTls.Probe theirs = strangerTls.probe(one.metadataHost(), one.metadataPort(), java.time.Duration.ofSeconds(2));
            assertThat(theirs.outcome()).as(theirs.detail()).isEqualTo(MetadataTls.Probe.Outcome.REFUSED);
            assertThat(theirs.detail()).contains("did not issue");
            Path memberTls = dir.resolve("tls-n2");
            MetadataTls trustingOurs = new MetadataTls(strangerTls.key(), strangerTls.certificate(),
                    MetadataTls.load(memberTls, 2, java.time.Clock.systemUTC()).trusted());
            MetadataTls.Probe mine = trustingOurs.probe(one.metadataHost(), one.metadataPort(), java.time.Duration.ofSeconds(2));
            assertThat(mine.outcome()).as(mine.detail()).isEqualTo(MetadataTls.Probe.Outcome.REFUSED);
            assertThat(mine.detail()).contains("refuse this node's certificate");
            MetadataTls.Probe member = MetadataTls.load(memberTls, 2, java.time.Clock.systemUTC())
                    .probe(one.metadataHost(), one.metadataPort(), java.time.Duration.ofSeconds(2));
            assertThat(member.outcome()).as(member.detail()).isEqualTo(MetadataTls.Probe.Outcome.ACCEPTED);
            MetadataTls.Probe down = strangerTls.probe("127.0.0.1", io.cairn.server.TestPorts.free(), java.time.Duration.ofSeconds(2));
            assertThat(down.outcome()).as(down.detail()).isEqualTo(MetadataTls.Probe.Outcome.UNREACHABLE);
            // A member of the cluster CA is served as before.
            ClusterMetadata.Result joined = group.node(2).submit(new MetadataCommand.Join(LoopbackGroup.member(7, false))).join();
            assertThat(joined.refused()).isFalse();
        }
    }

    @Test
    void theLeaderGrowsASingleVoterGroupToThreeVotersOneAtATime() throws Exception {
        try (LoopbackGroup group = new LoopbackGroup(dir, 3, 1, LoopbackGroup.SETTINGS).startAll()) {
            waitUntil(() -> group.node(1).configured(RaftPeerRole.FOLLOWER).equals(Set.of(1, 2, 3)), "nodes 2 and 3 vote");
            ClusterMetadata.Result paused = group.node(3).submit(new MetadataCommand.Pause(true)).join();
            assertThat(paused.refusal().kind()).isEqualTo(ClusterMetadata.Refusal.Kind.CONFLICT); // No plan runs.
            ClusterMetadata.Result decommissioned = group.node(3).submit(new MetadataCommand.Decommission(99, false)).join();
            assertThat(decommissioned.refusal().kind()).isEqualTo(ClusterMetadata.Refusal.Kind.UNKNOWN_NODE);
            group.stop(1);
            ClusterMetadata.Result joined = group.node(2).submit(new MetadataCommand.Join(LoopbackGroup.member(9, false))).join();
            assertThat(joined.refused()).isFalse();
            assertThat(group.node(3).awaitEpoch(2, WAIT).join()).isEqualTo(joined.state());
        }
    }

    @Test
    void aRemovedVoterLeavesTheGroupAndAListenerTakesItsVote() throws Exception {
        try (LoopbackGroup group = new LoopbackGroup(dir, 4, 3, LoopbackGroup.SETTINGS).startAll()) {
            int leader = group.leader(WAIT);
            waitUntil(() -> group.node(leader).configured(RaftPeerRole.LISTENER).equals(Set.of(4)), "node 4 listens");
            assertThat(group.node(leader).configured(RaftPeerRole.FOLLOWER)).containsExactlyInAnyOrder(1, 2, 3);

            ClusterMetadata.Result removed = group.node(4).submit(new MetadataCommand.Remove(1, false)).join();
            assertThat(removed.refused()).as("%s", removed.refusal()).isFalse();
            waitUntil(() -> {
                for (int id = 2; id <= 4; id++) {
                    RatisMetadataLog n = group.node(id);
                    if (n.isLeader()) {
                        return n.configured(RaftPeerRole.FOLLOWER).equals(Set.of(2, 3, 4)) && n.configured(RaftPeerRole.LISTENER).isEmpty();
                    }
                }
                return false;
            }, "node 1 leaves and node 4 votes");
            group.stop(1);
            ClusterMetadata.Result paused = group.node(2).submit(new MetadataCommand.Pause(true)).join();
            assertThat(paused.refused()).as("%s", paused.refusal()).isFalse();
            for (int id = 2; id <= 4; id++) {
                assertThat(group.node(id).awaitEpoch(paused.state().epoch(), WAIT).join()).isEqualTo(paused.state());
                LoopbackGroup.assertConsecutive(group.published(id));
            }
        }
    }

    /**
     * Once every voter of the first epoch has left, a joining node (whose own state is that first
     * epoch) reaches the group through the contacts the member it joins through gave it; without
     * them its join finds no one, and the refusal names the voters it asked.
     */
    @Test
    void aNodeJoiningAfterEveryFirstVoterLeftReachesTheGroupThroughItsContacts() throws Exception {
        // The first epoch has one member; nodes 2 and 3 join and take the votes, then node 1 leaves.
        try (LoopbackGroup group = new LoopbackGroup(dir, 1, 1, LoopbackGroup.SETTINGS).startAll()) {
            List<Member> newcomers = new java.util.ArrayList<>();
            for (int id = 2; id <= 3; id++) {
                Member m = LoopbackGroup.member(id, true);
                newcomers.add(m);
                group.start(m);
                ClusterMetadata.Result joined = committed(group.node(1), new MetadataCommand.Join(m));
                assertThat(joined.refused()).as("%s", joined.refusal()).isFalse();
                completeMoves(group.node(1), joined.state());
            }
            ClusterMetadata.Result removed = committed(group.node(2), new MetadataCommand.Remove(1, false));
            assertThat(removed.refused()).as("%s", removed.refusal()).isFalse();
            completeMoves(group.node(2), removed.state());
            waitUntil(() -> {
                for (int id = 2; id <= 3; id++) {
                    RatisMetadataLog n = group.node(id);
                    if (n.isLeader()) {
                        return n.configured(RaftPeerRole.FOLLOWER).equals(Set.of(2, 3));
                    }
                }
                return false;
            }, "nodes 2 and 3 are the voters");
            group.stop(1);

            // Without contacts: only the first epoch's voters, all gone.
            Member eight = LoopbackGroup.member(8, true);
            RatisMetadataLog lost = group.start(eight);
            assertThatThrownBy(() -> lost.submit(new MetadataCommand.Join(eight)).join())
                    .hasCauseInstanceOf(MetadataUnavailableException.class)
                    .hasMessageContaining("n1@" + group.members.get(0).metadataAddress())
                    .hasMessageNotContaining("voters ()");
            group.stop(8);

            Member nine = LoopbackGroup.member(9, true);
            RatisMetadataLog joiner = group.startJoining(nine, newcomers);
            ClusterMetadata.Result joined = joiner.submit(new MetadataCommand.Join(nine)).join();
            assertThat(joined.refused()).as("%s", joined.refusal()).isFalse();
            assertThat(joiner.awaitEpoch(joined.state().epoch(), WAIT).join().member(9)).map(r -> r.state()).contains(NodeState.JOINING);
        }
    }

    /** Drives every move of the running plan to its end through {@code via}, as the incoming replicas and finishers would. */
    private static void completeMoves(RatisMetadataLog via, ClusterState s) throws InterruptedException {
        while (s.plan() != null) {
            long plan = s.plan().id();
            for (int p = 0; p < s.partitions(); p++) {
                io.cairn.metadata.Assignment a = s.assignments().get(p);
                if (a.moving() && !a.readsNext()) {
                    for (int node : a.incoming()) {
                        s = committed(via, new MetadataCommand.StreamDone(plan, p, node)).state();
                    }
                }
            }
            ClusterState now = s;
            int[] serving = java.util.stream.IntStream.range(0, now.partitions()).filter(p -> now.assignments().get(p).readsNext()).toArray();
            if (serving.length > 0) {
                s = committed(via, new MetadataCommand.Finish(plan, serving)).state();
            }
        }
    }

    /** {@code command}'s outcome, asked again while the group has no leader that commits (voters change under it here). */
    private static ClusterMetadata.Result committed(RatisMetadataLog via, MetadataCommand command) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            try {
                return via.submit(command).join();
            } catch (CompletionException e) {
                if (!(e.getCause() instanceof MetadataUnavailableException) || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }

    private static List<Path> snapshots(Path storage) throws java.io.IOException {
        try (Stream<Path> files = Files.walk(storage)) {
            return files.filter(p -> p.getFileName().toString().matches("snapshot\\.\\d+_\\d+")).toList();
        }
    }

    private static void waitUntil(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(20);
        }
    }
}
