package io.cairn.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.membership.Member;
import io.cairn.namespace.Consistency;
import io.cairn.namespace.NamespaceSpec;
import io.cairn.placement.PartitionMap;
import io.cairn.placement.Quorum;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class ClusterMetadataTest {
    private static final int PARTITIONS = 64;

    private static Member member(int id, String zone) {
        return new Member(id, zone, "127.0.0.1:" + (7000 + id), "127.0.0.1:" + (8000 + id), id <= 3 ? "127.0.0.1:" + (9000 + id) : "");
    }

    private static ClusterState threeZones() {
        return ClusterState.bootstrap(List.of(member(1, "a"), member(2, "b"), member(3, "c")), PARTITIONS, 3);
    }

    private static ClusterState applied(ClusterState s, MetadataCommand c) {
        ClusterMetadata.Result r = ClusterMetadata.apply(s, c);
        assertThat(r.refusal()).as("refusal of %s", c).isNull();
        return r.state();
    }

    /** Drives every move of the running plan to its end, as the incoming replicas and finishers would. */
    private static ClusterState completeMoves(ClusterState s) {
        while (s.plan() != null) {
            long plan = s.plan().id();
            boolean progressed = false;
            for (int p = 0; p < s.partitions(); p++) {
                Assignment a = s.assignments().get(p);
                if (a.moving() && !a.readsNext()) {
                    for (int node : a.incoming()) {
                        ClusterState next = applied(s, new MetadataCommand.StreamDone(plan, p, node));
                        progressed |= next.epoch() > s.epoch();
                        s = next;
                    }
                }
            }
            ClusterState now = s;
            int[] serving = IntStream.range(0, now.partitions()).filter(p -> now.assignments().get(p).readsNext()).toArray();
            if (serving.length > 0) {
                s = applied(s, new MetadataCommand.Finish(plan, serving));
                progressed = true;
            }
            assertThat(progressed).as("a plan that cannot progress: %s", s.plan()).isTrue();
        }
        return s;
    }

    @Test
    void bootstrapIsTheMapEveryNodeComputesForTheStaticList() {
        ClusterState s = threeZones();
        PartitionMap map = s.membership().map();
        assertThat(s.epoch()).isEqualTo(1);
        for (int p = 0; p < PARTITIONS; p++) {
            assertThat(map.slot(p).moving()).isFalse();
            assertThat(map.replicas(p)).hasSize(3);
        }
        assertThat(io.cairn.membership.Membership.of(1, s.activeMembers(), PARTITIONS, 3).map().replicas(7)).containsExactly(map.replicas(7));
    }

    @Test
    void aJoinMovesPartitionsThroughJointQuorumsAndEndsBalanced() {
        ClusterState s = applied(threeZones(), new MetadataCommand.Join(member(4, "a")));
        assertThat(s.epoch()).isEqualTo(2);
        assertThat(s.member(4).orElseThrow().state()).isEqualTo(NodeState.JOINING);
        long moving = s.assignments().stream().filter(Assignment::moving).count();
        assertThat(moving).isBetween(1L, (long) PARTITIONS);
        Assignment a = s.assignments().stream().filter(Assignment::moving).findFirst().orElseThrow();
        int p = s.assignments().indexOf(a);
        PartitionMap map = s.membership().map();
        assertThat(map.writeGroups(p).length).isEqualTo(2);
        assertThat(map.replicas(p)).containsExactly(a.owners());
        assertThat(map.takesWrites(p, 4)).isTrue();
        assertThat(map.isReplica(p, 4)).as("no reads before it holds the partition").isFalse();
        assertThat(a.since()).isEqualTo(2);
        assertThat(a.previousSince()).isEqualTo(1);

        ClusterState done = completeMoves(s);
        assertThat(done.plan()).isNull();
        assertThat(done.member(4).orElseThrow().state()).isEqualTo(NodeState.NORMAL);
        int[] counts = done.membership().map().replicaCounts(List.of(1, 2, 3, 4));
        assertThat(Arrays.stream(counts).sum()).isEqualTo(3 * PARTITIONS);
        // Zone a has two nodes, b and c one each: every partition spans the three zones.
        assertThat(counts).containsExactly(PARTITIONS / 2, PARTITIONS, PARTITIONS, PARTITIONS / 2);
        for (Assignment x : done.assignments()) {
            assertThat(x.moving()).isFalse();
            assertThat(Arrays.stream(x.owners()).mapToObj(n -> done.member(n).orElseThrow().member().zone()).distinct().count()).isEqualTo(3);
        }
    }

    /** Incoming replica → how many partitions move to it. */
    private static java.util.Map<Integer, Integer> movingTo(ClusterState s) {
        java.util.Map<Integer, Integer> out = new java.util.HashMap<>();
        for (Assignment a : s.assignments()) {
            for (int n : a.incoming()) {
                out.merge(n, 1, Integer::sum);
            }
        }
        return out;
    }

    private static ClusterState window(int window) {
        return applied(threeZones(), new MetadataCommand.SetSettings(settings("moves.window", Integer.toString(window)), true));
    }

    @Test
    void aJoinStreamsAtMostTheWindowAtOnceAndStartsTheRestAsOthersAreStreamedInTheSameEntries() {
        assertThat(ClusterMetadata.moveWindow(threeZones())).isEqualTo(ClusterMetadata.DEFAULT_MOVE_WINDOW);
        ClusterState s = applied(window(3), new MetadataCommand.Join(member(4, "a")));
        assertThat(ClusterMetadata.moveWindow(s)).isEqualTo(3);
        List<Integer> moving = IntStream.range(0, PARTITIONS).filter(p -> s.assignments().get(p).moving()).boxed().toList();
        assertThat(moving).hasSize(3);
        assertThat(s.queued()).hasSize(PARTITIONS / 2 - 3);
        // A queued partition is stable: its writes go to its owners alone, not to the joining node.
        PartitionMap map = s.membership().map();
        int waiting = s.queued().getFirst().partition();
        assertThat(map.slot(waiting).moving()).isFalse();
        assertThat(map.takesWrites(waiting, 4)).isFalse();
        assertThat(s.queued().getFirst().target()).contains(4);
        assertThat(MetadataCodec.decodeState(MetadataCodec.encode(s))).isEqualTo(s);
        assertThat(MetadataCodec.encode(s)[0]).as("the format with a queue").isEqualTo((byte) 5);

        // A stream done switches its reads: that entry starts the next one, the streamed one moving on to its finish.
        long plan = s.plan().id();
        int first = moving.getFirst();
        ClusterState streamed = applied(s, new MetadataCommand.StreamDone(plan, first, 4));
        assertThat(streamed.epoch()).isEqualTo(s.epoch() + 1);
        assertThat(streamed.queued()).hasSize(s.queued().size() - 1);
        assertThat(streamed.assignments().stream().filter(Assignment::moving)).hasSize(4);
        assertThat(ClusterMetadata.streamsOwed(streamed)).isEqualTo(java.util.Map.of(4, 3));
        Assignment started = streamed.assignments().get(waiting);
        assertThat(started.moving()).isTrue();
        assertThat(started.since()).isEqualTo(streamed.epoch());
        assertThat(streamed.membership().map().takesWrites(waiting, 4)).isTrue();
        ClusterState finished = applied(streamed, new MetadataCommand.Finish(plan, new int[] {first}));
        assertThat(finished.queued()).as("a finish frees no stream").hasSize(streamed.queued().size());

        ClusterState done = completeMoves(finished);
        assertThat(done.queued()).isEmpty();
        assertThat(done.member(4).orElseThrow().state()).isEqualTo(NodeState.NORMAL);
        assertThat(done.membership().map().replicaCounts(List.of(1, 2, 3, 4))).containsExactly(PARTITIONS / 2, PARTITIONS, PARTITIONS,
                PARTITIONS / 2);
    }

    @Test
    void aPausedPlanStartsNothingFromTheQueueACancelledOneDropsItAndAWiderWindowStartsMoreAtOnce() {
        ClusterState s = applied(window(2), new MetadataCommand.Join(member(4, "a")));
        long plan = s.plan().id();
        ClusterState paused = applied(s, new MetadataCommand.Pause(true));
        int[] moving = IntStream.range(0, PARTITIONS).filter(p -> paused.assignments().get(p).moving()).toArray();
        ClusterState after = applied(applied(paused, new MetadataCommand.StreamsDone(plan, 4, moving)), new MetadataCommand.Finish(plan, moving));
        assertThat(after.assignments().stream().filter(Assignment::moving)).isEmpty();
        assertThat(after.plan()).as("the queue keeps the plan running").isNotNull();
        assertThat(after.queued()).hasSize(s.queued().size());
        ClusterState resumed = applied(after, new MetadataCommand.Pause(false));
        assertThat(resumed.assignments().stream().filter(Assignment::moving)).hasSize(2);
        assertThat(resumed.queued()).hasSize(s.queued().size() - 2);

        ClusterState wider = applied(resumed, new MetadataCommand.SetSettings(settings("moves.window", "10"), false));
        assertThat(wider.assignments().stream().filter(Assignment::moving)).hasSize(10);

        ClusterState cancelled = applied(wider, new MetadataCommand.Cancel());
        assertThat(cancelled.queued()).isEmpty();
        assertThat(cancelled.plan()).isNull();
        assertThat(cancelled.member(4).orElseThrow().state()).as("it streamed and owns the two that finished").isEqualTo(NodeState.NORMAL);
    }

    @Test
    void partitionsThatLostAReplicaMoveAtOnceWhateverTheWindowAndEachIncomingReplicaHasItsOwn() {
        ClusterState four = completeMoves(applied(threeZones(), new MetadataCommand.Join(member(4, "a"))));
        ClusterState narrow = applied(four, new MetadataCommand.SetSettings(settings("moves.window", "1"), true));
        // Node 4 dies: every partition it held is down a replica and is refilled at once.
        ClusterState removed = applied(narrow, new MetadataCommand.Remove(4, false));
        long held = four.assignments().stream().filter(a -> Assignment.contains(a.owners(), 4)).count();
        assertThat(removed.assignments().stream().filter(Assignment::moving).count()).isEqualTo(held);
        assertThat(removed.queued()).isEmpty();
        assertThat(completeMoves(removed).membership().map().replicaCounts(List.of(1, 2, 3))).containsExactly(PARTITIONS, PARTITIONS,
                PARTITIONS);

        // A decommission with three incoming replicas: at most one partition moves to each.
        ClusterState five = completeMoves(applied(narrow, new MetadataCommand.Join(member(5, "b"))));
        ClusterState leaving = applied(five, new MetadataCommand.Decommission(1, false));
        assertThat(movingTo(leaving).values()).allMatch(n -> n == 1);
        assertThat(movingTo(leaving).size()).isGreaterThan(1);
        ClusterState gone = completeMoves(leaving);
        assertThat(gone.member(1).orElseThrow().state()).isEqualTo(NodeState.REMOVED);
    }

    @Test
    void aRetriedCommandChangesNothing() {
        ClusterState s = applied(threeZones(), new MetadataCommand.Join(member(4, "a")));
        ClusterMetadata.Result again = ClusterMetadata.apply(s, new MetadataCommand.Join(member(4, "a")));
        assertThat(again.refusal()).isNull();
        assertThat(again.state()).isEqualTo(s);
        int p = IntStream.range(0, PARTITIONS).filter(i -> s.assignments().get(i).moving()).findFirst().orElseThrow();
        ClusterState once = applied(s, new MetadataCommand.StreamDone(s.plan().id(), p, 4));
        assertThat(applied(once, new MetadataCommand.StreamDone(s.plan().id(), p, 4))).isEqualTo(once);
        assertThat(applied(once, new MetadataCommand.StreamDone(s.plan().id() + 1, p, 4)))
                .as("a report for another plan").isEqualTo(once);
    }

    @Test
    void oneStreamsDoneReportsSeveralPartitionsAtOneEpoch() {
        ClusterState s = applied(threeZones(), new MetadataCommand.Join(member(4, "a")));
        long plan = s.plan().id();
        int[] moving = IntStream.range(0, PARTITIONS).filter(i -> Assignment.contains(s.assignments().get(i).incoming(), 4)).limit(5).toArray();
        assertThat(moving).hasSize(5);
        int[] reported = {moving[0], moving[1], moving[2], moving[0], PARTITIONS + 3, -1};

        ClusterState batch = applied(s, new MetadataCommand.StreamsDone(plan, 4, reported));

        assertThat(batch.epoch()).isEqualTo(s.epoch() + 1);
        ClusterState oneByOne = s;
        for (int i = 0; i < 3; i++) {
            oneByOne = applied(oneByOne, new MetadataCommand.StreamDone(plan, moving[i], 4));
            Assignment a = batch.assignments().get(moving[i]);
            Assignment b = oneByOne.assignments().get(moving[i]);
            assertThat(a.readsNext()).isEqualTo(b.readsNext()).isTrue();
            assertThat(a.streamed()).containsExactly(4);
            assertThat(a.since()).isEqualTo(batch.epoch());
        }
        assertThat(batch.assignments().get(moving[3])).as("not reported").isEqualTo(s.assignments().get(moving[3]));
        assertThat(applied(batch, new MetadataCommand.StreamsDone(plan, 4, reported))).as("reported again").isEqualTo(batch);
        assertThat(applied(batch, new MetadataCommand.StreamsDone(plan, 2, new int[] {moving[3]}))).as("not incoming there").isEqualTo(batch);
        assertThat(applied(batch, new MetadataCommand.StreamsDone(plan + 1, 4, new int[] {moving[3]}))).as("another plan").isEqualTo(batch);
        MetadataCommand c = new MetadataCommand.StreamsDone(plan, 4, reported);
        assertThat(MetadataCodec.decodeCommand(MetadataCodec.encode(c))).isEqualTo(c);
    }

    @Test
    void unsafeOrConflictingChangesAreRefusedWithTheReason() {
        ClusterState s = threeZones();
        assertThat(ClusterMetadata.apply(s, new MetadataCommand.Decommission(2, false)).refusal())
                .satisfies(r -> assertThat(r.kind()).isEqualTo(ClusterMetadata.Refusal.Kind.UNSAFE))
                .satisfies(r -> assertThat(r.message()).contains("fewer than the 3 replicas"));
        assertThat(ClusterMetadata.apply(s, new MetadataCommand.Remove(9, false)).refusal().kind())
                .isEqualTo(ClusterMetadata.Refusal.Kind.UNKNOWN_NODE);
        ClusterState four = completeMoves(applied(s, new MetadataCommand.Join(member(4, "a"))));
        assertThat(ClusterMetadata.apply(four, new MetadataCommand.Decommission(2, false)).refusal().message())
                .contains("zone");
        assertThat(ClusterMetadata.apply(four, new MetadataCommand.Decommission(2, true)).refusal()).isNull();
        ClusterState joining = applied(four, new MetadataCommand.Join(member(5, "b")));
        assertThat(ClusterMetadata.apply(joining, new MetadataCommand.Decommission(1, false)).refusal().kind())
                .isEqualTo(ClusterMetadata.Refusal.Kind.CONFLICT);
        assertThat(ClusterMetadata.apply(joining, new MetadataCommand.Join(new Member(6, "c", "127.0.0.1:7001", "127.0.0.1:8006"))).refusal().kind())
                .isEqualTo(ClusterMetadata.Refusal.Kind.INVALID);
        ClusterState leaving = applied(four, new MetadataCommand.Decommission(4, false));
        assertThat(ClusterMetadata.apply(leaving, new MetadataCommand.Join(member(4, "a"))).refusal())
                .as("the same member again while it leaves is not a retried join")
                .satisfies(r -> assertThat(r.kind()).isEqualTo(ClusterMetadata.Refusal.Kind.CONFLICT))
                .satisfies(r -> assertThat(r.message()).contains("leaving").contains("cancel"));
        ClusterState removed = completeMoves(applied(four, new MetadataCommand.Remove(4, false)));
        assertThat(ClusterMetadata.apply(removed, new MetadataCommand.Join(member(4, "a"))).refusal().message()).contains("never reused");
    }

    @Test
    void aRemovedNodesPlacesAreRefilledFromTheSurvivors() {
        ClusterState four = completeMoves(applied(threeZones(), new MetadataCommand.Join(member(4, "a"))));
        ClusterState s = applied(four, new MetadataCommand.Remove(1, false));
        assertThat(s.member(1).orElseThrow().state()).isEqualTo(NodeState.REMOVED);
        for (Assignment a : s.assignments()) {
            assertThat(a.involves(1)).isFalse();
        }
        assertThat(s.membership().isMember(1)).isFalse();
        ClusterState done = completeMoves(s);
        for (Assignment a : done.assignments()) {
            assertThat(a.owners()).hasSize(3).doesNotContain(1);
        }
    }

    @Test
    void aReplacementTakesOverExactlyTheDeadNodesPartitions() {
        ClusterState s = threeZones();
        ClusterState r = applied(s, new MetadataCommand.Replace(2, member(5, "b"), false));
        for (int p = 0; p < PARTITIONS; p++) {
            int[] before = s.assignments().get(p).owners();
            Assignment a = r.assignments().get(p);
            int[] expected = Arrays.stream(before).map(n -> n == 2 ? 5 : n).toArray();
            assertThat(a.next()).containsExactly(expected);
            assertThat(a.incoming()).containsExactly(5);
        }
        ClusterState done = completeMoves(r);
        assertThat(done.member(5).orElseThrow().state()).isEqualTo(NodeState.NORMAL);
        assertThat(done.member(2).orElseThrow().state()).isEqualTo(NodeState.REMOVED);
    }

    @Test
    void aNodeDyingDuringAJoinCanBeRemovedAndTheJoinFinishes() {
        ClusterState four = completeMoves(applied(threeZones(), new MetadataCommand.Join(member(4, "a"))));
        ClusterState s = applied(four, new MetadataCommand.Join(member(5, "b")));
        long plan = s.plan().id();
        s = applied(s, new MetadataCommand.Remove(2, false));
        assertThat(s.plan().id()).as("the running plan goes on").isEqualTo(plan);
        ClusterState done = completeMoves(s);
        assertThat(done.member(5).orElseThrow().state()).isEqualTo(NodeState.NORMAL);
        for (Assignment a : done.assignments()) {
            assertThat(a.owners()).hasSize(3).doesNotContain(2);
        }
    }

    @Test
    void cancelRevertsPartitionsStillReadFromTheirOwners() {
        ClusterState s = applied(threeZones(), new MetadataCommand.Join(member(4, "a")));
        int p = IntStream.range(0, PARTITIONS).filter(i -> s.assignments().get(i).moving()).findFirst().orElseThrow();
        ClusterState served = applied(s, new MetadataCommand.StreamDone(s.plan().id(), p, 4));
        assertThat(served.assignments().get(p).readsNext()).isTrue();
        ClusterState cancelled = applied(served, new MetadataCommand.Cancel());
        for (int i = 0; i < PARTITIONS; i++) {
            assertThat(cancelled.assignments().get(i).moving()).isEqualTo(i == p);
        }
        ClusterState done = completeMoves(cancelled);
        assertThat(done.member(4).orElseThrow().state()).as("it owns the partition that finished").isEqualTo(NodeState.NORMAL);
        ClusterState other = applied(threeZones(), new MetadataCommand.Join(member(4, "a")));
        ClusterState undone = applied(other, new MetadataCommand.Cancel());
        assertThat(undone.plan()).isNull();
        assertThat(undone.member(4).orElseThrow().state()).isEqualTo(NodeState.REMOVED);
    }

    @Test
    void aMemberListeningForTwoServicesAtOneAddressIsRefused() {
        Member sameHttpAndInternode = new Member(4, "a", "127.0.0.1:7004", "127.0.0.1:7004");
        Member metadataOnHttp = new Member(5, "b", "127.0.0.1:7005", "127.0.0.1:8005", "127.0.0.1:7005");
        for (MetadataCommand c : List.of(new MetadataCommand.Join(sameHttpAndInternode), new MetadataCommand.Join(metadataOnHttp),
                new MetadataCommand.Replace(2, sameHttpAndInternode, false))) {
            ClusterMetadata.Result r = ClusterMetadata.apply(threeZones(), c);
            assertThat(r.refusal().kind()).as(c.toString()).isEqualTo(ClusterMetadata.Refusal.Kind.INVALID);
            assertThat(r.refusal().message()).contains("two services at one address");
        }
    }

    @Test
    void removeAndReplaceOfANodeStillHeardAreRefusedUnlessForced() {
        MetadataCommand remove = new MetadataCommand.Remove(2, false);
        MetadataCommand replace = new MetadataCommand.Replace(2, member(5, "b"), false);
        java.util.function.IntPredicate twoIsUp = n -> n == 2;
        for (MetadataCommand c : List.of(remove, replace)) {
            ClusterMetadata.Refusal r = ClusterMetadata.preflight(c, twoIsUp, false);
            assertThat(r.kind()).isEqualTo(ClusterMetadata.Refusal.Kind.UNSAFE);
            assertThat(r.message()).contains("node 2 is up").contains("decommission").contains("force=true");
            assertThat(ClusterMetadata.preflight(c, twoIsUp, true)).as("forced").isNull();
            assertThat(ClusterMetadata.preflight(c, n -> false, false)).as("counted down").isNull();
        }
        assertThat(ClusterMetadata.preflight(new MetadataCommand.Decommission(2, false), twoIsUp, false)).isNull();
        assertThat(ClusterMetadata.preflight(new MetadataCommand.Join(member(5, "b")), n -> true, false)).isNull();
    }

    @Test
    void cancellingAReplaceWhoseReplacementNeverStartedDropsItAndRefillsFromTheOthers() {
        ClusterState four = completeMoves(applied(threeZones(), new MetadataCommand.Join(member(4, "a"))));
        ClusterState replacing = applied(four, new MetadataCommand.Replace(2, member(5, "b"), true));
        ClusterState cancelled = applied(replacing, new MetadataCommand.Cancel());
        assertThat(cancelled.epoch()).isEqualTo(replacing.epoch() + 1);
        assertThat(cancelled.member(5).orElseThrow().state()).as("the replacement is dropped").isEqualTo(NodeState.REMOVED);
        assertThat(cancelled.member(2).orElseThrow().state()).as("the replaced node stays gone").isEqualTo(NodeState.REMOVED);
        assertThat(cancelled.plan().cancelled()).isTrue();
        for (Assignment a : cancelled.assignments()) {
            assertThat(a.involves(5)).isFalse();
            assertThat(a.involves(2)).isFalse();
        }
        ClusterState done = completeMoves(cancelled);
        for (Assignment a : done.assignments()) {
            assertThat(a.owners()).hasSize(3).doesNotContain(2, 5);
        }
        assertThat(ClusterMetadata.apply(done, new MetadataCommand.Join(member(5, "b"))).refusal().message()).contains("never reused");

        // Three members: dropping the replacement would leave two to hold three replicas.
        ClusterState three = applied(threeZones(), new MetadataCommand.Replace(2, member(5, "b"), false));
        ClusterMetadata.Result refused = ClusterMetadata.apply(three, new MetadataCommand.Cancel());
        assertThat(refused.refusal().kind()).isEqualTo(ClusterMetadata.Refusal.Kind.UNSAFE);
        assertThat(refused.refusal().message()).contains("start node 5");
        assertThat(refused.state()).isSameAs(three);

        // A replacement that streamed a partition is running: the cancel lets its partitions finish, as before.
        int p = IntStream.range(0, PARTITIONS).filter(i -> replacing.assignments().get(i).moving()).findFirst().orElseThrow();
        ClusterState started = applied(replacing, new MetadataCommand.StreamDone(replacing.plan().id(), p, 5));
        ClusterState finishing = applied(started, new MetadataCommand.Cancel());
        assertThat(finishing.member(5).orElseThrow().state()).isEqualTo(NodeState.JOINING);
        assertThat(completeMoves(finishing).member(5).orElseThrow().state()).isEqualTo(NodeState.NORMAL);
    }

    @Test
    void epochsGrowByOneWithEveryChangeAndAssignmentEpochsStayOrdered() {
        Random random = new Random(7);
        // A small window, so that partitions wait in the queue and start as others finish.
        ClusterState s = applied(threeZones(), new MetadataCommand.SetSettings(settings("moves.window", "2"), true));
        ClusterState start = s;
        int nextId = 4;
        List<MetadataCommand> script = new ArrayList<>();
        for (int step = 0; step < 400; step++) {
            MetadataCommand c;
            List<Member> active = s.activeMembers();
            int pick = active.get(random.nextInt(active.size())).id();
            c = switch (random.nextInt(9)) {
                case 0 -> new MetadataCommand.Join(member(nextId++, "abc".charAt(random.nextInt(3)) + ""));
                case 1 -> new MetadataCommand.Decommission(pick, random.nextBoolean());
                case 2 -> new MetadataCommand.Remove(pick, random.nextBoolean());
                case 3 -> new MetadataCommand.Cancel();
                case 4 -> new MetadataCommand.Replace(pick, member(nextId++, "abc".charAt(random.nextInt(3)) + ""), false);
                case 5 -> new MetadataCommand.StreamsDone(s.plan() == null ? 1 : s.plan().id(), pick,
                        random.ints(1 + random.nextInt(6), -1, PARTITIONS + 1).toArray());
                default -> {
                    if (s.plan() == null) {
                        yield new MetadataCommand.Pause(true);
                    }
                    int p = random.nextInt(PARTITIONS);
                    Assignment a = s.assignments().get(p);
                    yield a.readsNext() ? new MetadataCommand.Finish(s.plan().id(), new int[] {p})
                            : new MetadataCommand.StreamDone(s.plan().id(), p, a.incoming().length == 0 ? pick : a.incoming()[0]);
                }
            };
            script.add(c);
            ClusterMetadata.Result r = ClusterMetadata.apply(s, c);
            ClusterState next = r.state();
            assertThat(next.epoch()).isIn(s.epoch(), s.epoch() + 1);
            if (r.refused()) {
                assertThat(next).isEqualTo(s);
            }
            assertThat(MetadataCodec.decodeState(MetadataCodec.encode(next))).isEqualTo(next);
            assertThat(MetadataCodec.decodeCommand(MetadataCodec.encode(c))).isEqualTo(c);
            assertThat(next.activeMembers().size()).as("after %s: %s", c, next.members()).isGreaterThanOrEqualTo(3);
            if (next.plan() != null && !next.plan().paused()) {
                // Nothing waits while an incoming replica of it has room.
                for (ClusterState.Queued q : next.queued()) {
                    Assignment a = next.assignments().get(q.partition());
                    assertThat(Arrays.stream(q.target()).filter(n -> !Assignment.contains(a.owners(), n)))
                            .as("after %s: %s waits", c, q).anyMatch(n -> ClusterMetadata.streamsOwed(next).getOrDefault(n, 0) >= 2);
                }
            }
            next.membership(); // validates the map
            s = next;
        }
        // Replaying the same entries gives the same state: the state machine is deterministic.
        ClusterState replay = start;
        for (MetadataCommand c : script) {
            replay = ClusterMetadata.apply(replay, c).state();
        }
        assertThat(replay).isEqualTo(s);
    }

    @Test
    void damagedEntriesAreRefusedNotHalfApplied() {
        byte[] good = MetadataCodec.encode(threeZones());
        Random random = new Random(3);
        for (int i = 0; i < 2000; i++) {
            byte[] bad = good.clone();
            int cut = random.nextInt(bad.length);
            byte[] damaged = random.nextBoolean() ? Arrays.copyOf(bad, cut) : flip(bad, cut, random);
            try {
                ClusterState decoded = MetadataCodec.decodeState(damaged);
                decoded.membership();
            } catch (MetadataCodec.MetadataCodecException | IllegalArgumentException expected) {
                // refused
            }
        }
        assertThatThrownBy(() -> MetadataCodec.decodeCommand(new byte[] {42})).isInstanceOf(MetadataCodec.MetadataCodecException.class);
        assertThatThrownBy(() -> MetadataCodec.decodeCommand(new byte[] {1, 0})).isInstanceOf(MetadataCodec.MetadataCodecException.class);
    }

    private static byte[] flip(byte[] b, int at, Random random) {
        b[at] ^= (byte) (1 + random.nextInt(255));
        return b;
    }

    @Test
    void namespacesAreCreatedChangedAndRefusedByTheLogWithIdsItAssigns() {
        ClusterState s = threeZones();
        NamespaceSpec locks = new NamespaceSpec(0, "locks", Consistency.SERIAL, null, null, 0, 0);
        ClusterState created = applied(s, new MetadataCommand.PutNamespace(locks, 4));
        assertThat(created.epoch()).isEqualTo(s.epoch() + 1);
        assertThat(created.namespace("locks").orElseThrow().id()).isEqualTo(NamespaceSpec.FIRST_USER_ID);
        assertThat(created.membership().namespaces()).extracting(NamespaceSpec::name).containsExactly("locks");
        // The same definition again changes nothing, not even the epoch.
        assertThat(applied(created, new MetadataCommand.PutNamespace(locks.withId(99), 4))).isEqualTo(created);

        ClusterState second = applied(created, new MetadataCommand.PutNamespace(new NamespaceSpec(0, "flags", Consistency.QUORUM, Quorum.ONE,
                null, 0, 512), 4));
        assertThat(second.namespace("flags").orElseThrow().id()).isEqualTo(NamespaceSpec.FIRST_USER_ID + 1);
        // A change keeps the id.
        ClusterState changed = applied(second, new MetadataCommand.PutNamespace(new NamespaceSpec(0, "locks", Consistency.QUORUM, null, null,
                60_000, 0), 4));
        assertThat(changed.namespace("locks").orElseThrow().id()).isEqualTo(NamespaceSpec.FIRST_USER_ID);
        assertThat(changed.namespace("locks").orElseThrow().consistency()).isEqualTo(Consistency.QUORUM);

        // Guardrails: refused, and nothing changes.
        for (NamespaceSpec bad : List.of(
                new NamespaceSpec(0, "weak", Consistency.SERIAL, Quorum.ONE, null, 0, 0),
                new NamespaceSpec(0, "toomany", Consistency.QUORUM, null, new Quorum(Quorum.Kind.COUNT, 4), 0, 0),
                new NamespaceSpec(0, "default", Consistency.SERIAL, null, null, 0, 0),
                new NamespaceSpec(0, "default", Consistency.QUORUM, null, new Quorum(Quorum.Kind.COUNT, 4), 0, 0),
                new NamespaceSpec(0, "default", Consistency.QUORUM, null, null, -1, 0),
                new NamespaceSpec(0, "Bad", Consistency.QUORUM, null, null, 0, 0))) {
            ClusterMetadata.Result r = ClusterMetadata.apply(changed, new MetadataCommand.PutNamespace(bad, 4));
            assertThat(r.refusal()).as(bad.name()).isNotNull();
            assertThat(r.refusal().kind()).isEqualTo(ClusterMetadata.Refusal.Kind.INVALID_NAMESPACE);
            assertThat(r.state()).isEqualTo(changed);
        }
        ClusterMetadata.Result full = ClusterMetadata.apply(changed, new MetadataCommand.PutNamespace(
                new NamespaceSpec(0, "third", Consistency.QUORUM, null, null, 0, 0), 2));
        assertThat(full.refusal().kind()).isEqualTo(ClusterMetadata.Refusal.Kind.NAMESPACE_CONFLICT);
        assertThat(full.refusal().message()).contains("limits.maxNamespaces=2");
    }

    @Test
    void theDefaultNamespacesPolicyIsOneEntryOfTheLogBesideTheUserNamespaces() {
        ClusterState s = applied(threeZones(), new MetadataCommand.PutNamespace(new NamespaceSpec(0, "locks", Consistency.SERIAL, null, null, 0, 0), 4));
        assertThat(s.defaultPolicy()).isNull();
        NamespaceSpec policy = new NamespaceSpec(0, "default", Consistency.QUORUM, Quorum.ONE, Quorum.ALL, 30_000, 64);
        ClusterState set = applied(s, new MetadataCommand.PutNamespace(policy, 1));
        assertThat(set.epoch()).isEqualTo(s.epoch() + 1);
        assertThat(set.defaultPolicy()).isEqualTo(policy.withId(io.cairn.namespace.Namespace.DEFAULT_ID));
        assertThat(set.membership().defaultPolicy()).isEqualTo(set.defaultPolicy());
        // Not a user namespace: not listed among them, not counted against their limit (1, reached).
        assertThat(set.namespaces()).extracting(NamespaceSpec::name).containsExactly("locks");
        assertThat(applied(set, new MetadataCommand.PutNamespace(policy.withId(77), 1))).as("the same policy again").isEqualTo(set);
        ClusterState changed = applied(set, new MetadataCommand.PutNamespace(new NamespaceSpec(0, "default", Consistency.QUORUM, null, null, 0, 0), 1));
        assertThat(changed.epoch()).isEqualTo(set.epoch() + 1);
        assertThat(changed.defaultPolicy().writeQuorum()).isNull();
        // Kept through the codec (format 3); a state without one still writes format 2.
        assertThat(MetadataCodec.decodeState(MetadataCodec.encode(set))).isEqualTo(set);
        assertThat(MetadataCodec.encode(set)[0]).isEqualTo((byte) 3);
        assertThat(MetadataCodec.encode(s)[0]).isEqualTo((byte) 2);
        // A serial default is refused with the way to get one.
        ClusterMetadata.Result serial = ClusterMetadata.apply(set, new MetadataCommand.PutNamespace(
                new NamespaceSpec(0, "default", Consistency.SERIAL, null, null, 0, 0), 1));
        assertThat(serial.refusal().message()).contains("quorum namespace");
        assertThat(serial.state()).isEqualTo(set);
        // A state claiming a policy for another namespace under the default's id does not decode.
        byte[] damaged = MetadataCodec.encode(set);
        byte[] renamed = new String(damaged, java.nio.charset.StandardCharsets.ISO_8859_1).replace("default", "dexault")
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        assertThatThrownBy(() -> MetadataCodec.decodeState(renamed)).isInstanceOf(MetadataCodec.MetadataCodecException.class);
    }

    @Test
    void namespacesSurviveTheCodecAndAStateWrittenBeforeNamespacesStillDecodes() {
        ClusterState s = applied(threeZones(), new MetadataCommand.PutNamespace(new NamespaceSpec(0, "sessions", Consistency.QUORUM,
                Quorum.MAJORITY, new Quorum(Quorum.Kind.COUNT, 2), 1_800_000, 4096), 256));
        assertThat(MetadataCodec.decodeState(MetadataCodec.encode(s))).isEqualTo(s);
        MetadataCommand put = new MetadataCommand.PutNamespace(new NamespaceSpec(0, "locks", Consistency.SERIAL, null, Quorum.ALL, 0, 0), 7);
        assertThat(MetadataCodec.decodeCommand(MetadataCodec.encode(put))).isEqualTo(put);
        // Format 1 (before namespaces): the same bytes without the namespace list.
        byte[] withNone = MetadataCodec.encode(threeZones());
        byte[] formatOne = Arrays.copyOf(withNone, withNone.length - 4);
        formatOne[0] = 1;
        assertThat(MetadataCodec.decodeState(formatOne)).isEqualTo(threeZones());
        // A damaged namespace is refused, never half-read.
        byte[] damaged = MetadataCodec.encode(s);
        damaged[damaged.length - 8 - 8 - 5 - 5 - 1] = 9; // the consistency class
        assertThatThrownBy(() -> MetadataCodec.decodeState(damaged)).isInstanceOf(MetadataCodec.MetadataCodecException.class);
    }

    private static java.util.SortedMap<String, String> settings(String... nameValue) {
        java.util.SortedMap<String, String> m = new java.util.TreeMap<>();
        for (int i = 0; i < nameValue.length; i += 2) {
            m.put(nameValue[i], nameValue[i + 1]);
        }
        return m;
    }

    @Test
    void theFirstSettingsOfferedAreTheClustersAndLaterChangesMergeIntoThem() {
        ClusterState s = threeZones();
        assertThat(s.settings()).isEmpty();
        // A change before any record is refused: the record is whole or absent.
        ClusterMetadata.Result early = ClusterMetadata.apply(s, new MetadataCommand.SetSettings(settings("ttl.purgeGrace", "1000ms"), false));
        assertThat(early.refusal().kind()).isEqualTo(ClusterMetadata.Refusal.Kind.CONFLICT);
        assertThat(early.state()).isSameAs(s);

        ClusterState recorded = applied(s, new MetadataCommand.SetSettings(
                settings("limits.maxValueBytes", "1048576", "ttl.purgeGrace", "14400000ms"), true));
        assertThat(recorded.epoch()).isEqualTo(s.epoch() + 1);
        assertThat(recorded.settings()).containsEntry("limits.maxValueBytes", "1048576").hasSize(2);
        // Another member's first offer, with other values, changes nothing: the first one applied won.
        ClusterState again = applied(recorded, new MetadataCommand.SetSettings(settings("limits.maxValueBytes", "65536"), true));
        assertThat(again).isSameAs(recorded);

        ClusterState changed = applied(recorded, new MetadataCommand.SetSettings(settings("limits.maxValueBytes", "262144"), false));
        assertThat(changed.epoch()).isEqualTo(recorded.epoch() + 1);
        assertThat(changed.settings()).containsEntry("limits.maxValueBytes", "262144").containsEntry("ttl.purgeGrace", "14400000ms");
        assertThat(applied(changed, new MetadataCommand.SetSettings(settings("limits.maxValueBytes", "262144"), false))).isSameAs(changed);
        // Membership changes keep the record.
        assertThat(applied(changed, new MetadataCommand.Join(member(4, "a"))).settings()).isEqualTo(changed.settings());

        for (var bad : List.of(settings("limits", "1"), settings("limits.max Value", "1"), settings("limits.maxValueBytes", ""),
                settings("limits.maxValueBytes", "1;2"), settings("limits.maxValueBytes", "x".repeat(33)))) {
            ClusterMetadata.Result r = ClusterMetadata.apply(changed, new MetadataCommand.SetSettings(bad, false));
            assertThat(r.refusal()).as("%s", bad).isNotNull();
            assertThat(r.refusal().kind()).isEqualTo(ClusterMetadata.Refusal.Kind.INVALID_SETTING);
            assertThat(r.state()).isSameAs(changed);
        }
        java.util.SortedMap<String, String> tooMany = new java.util.TreeMap<>();
        for (int i = 0; i <= ClusterMetadata.MAX_SETTINGS; i++) {
            tooMany.put("a.s" + i, "1");
        }
        assertThat(ClusterMetadata.apply(changed, new MetadataCommand.SetSettings(tooMany, false)).refused()).isTrue();
    }

    @Test
    void settingsSurviveTheCodecBesideADefaultPolicyAndOlderStatesStillDecode() {
        MetadataCommand set = new MetadataCommand.SetSettings(settings("cluster.hintWindow", "10800000ms", "limits.maxKeyBytes", "1024"), true);
        assertThat(MetadataCodec.decodeCommand(MetadataCodec.encode(set))).isEqualTo(set);
        ClusterState withSettings = applied(threeZones(), set);
        assertThat(MetadataCodec.decodeState(MetadataCodec.encode(withSettings))).isEqualTo(withSettings);
        ClusterState both = applied(withSettings, new MetadataCommand.PutNamespace(new NamespaceSpec(0, "default", Consistency.QUORUM,
                Quorum.MAJORITY, Quorum.MAJORITY, 0, 0), 256));
        assertThat(both.defaultPolicy()).isNotNull();
        assertThat(MetadataCodec.decodeState(MetadataCodec.encode(both))).isEqualTo(both);
        // A state without settings keeps the format a node of the release before reads.
        assertThat(MetadataCodec.encode(threeZones())[0]).isEqualTo((byte) 2);
        assertThat(MetadataCodec.encode(withSettings)[0]).isEqualTo((byte) 4);
        // A damaged record is refused, never half-read: a value that is no canonical value.
        byte[] damaged = MetadataCodec.encode(withSettings);
        damaged[damaged.length - 1] = ';';
        assertThatThrownBy(() -> MetadataCodec.decodeState(damaged)).isInstanceOf(MetadataCodec.MetadataCodecException.class);
    }
}
