package io.cairn.metadata;

import io.cairn.membership.Member;
import io.cairn.namespace.NamespaceCatalog;
import io.cairn.namespace.NamespaceSpec;
import io.cairn.placement.Placement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The metadata log's state machine: applies one {@link MetadataCommand} to a {@link ClusterState}
 * and returns the next state, or a refusal that names the problem. Pure and deterministic: every
 * node (and the simulator) applies the same entries in the same order to the same state.
 *
 * <p>An entry that changes anything makes a new epoch (one more than the last). A command that
 * would change nothing (a repeated join, a report for a plan that is over) is accepted and leaves
 * the state, epoch included, as it was.
 *
 * <p><b>Moves.</b> A membership change computes each partition's target replicas (the placement
 * of the new member set, or the dead node's partitions handed to its replacement). A partition
 * moving (see {@code PartitionMap}) has joint writes to owners and target, reads from the owners.
 * An incoming replica reports {@link MetadataCommand.StreamsDone}; once every incoming replica of a
 * partition did, reads go to the target set; a {@link MetadataCommand.Finish} then makes the
 * target the owners. When no partition moves and none is queued any more, the plan ends: a joining
 * node becomes normal, a leaving one removed.
 *
 * <p><b>The window.</b> A partition that lost a replica (a remove, a replace) starts moving at
 * once. Any other partition whose replicas differ from its target is <em>queued</em>, and starts
 * moving only while each of its incoming replicas has fewer than {@link #moveWindow} partitions
 * still to stream in (the cluster's {@code moves.window} setting, {@value #DEFAULT_MOVE_WINDOW}
 * when it names none), in the queue's order, at the next entry that changes the plan's moves (a
 * stream done, a finish, a resume): no extra entries. A queued partition is stable, its writes go to its
 * owners alone; so the joint quorums (every write waiting for a majority of two replica sets, one
 * of them holding a replica still storing its streams) cover the few partitions in flight, not
 * every partition a join will move.
 */
public final class ClusterMetadata {
    private ClusterMetadata() {}

    /** A command that cannot be applied, and why. */
    public record Refusal(Kind kind, String message) {
        public enum Kind {
            /** The command names a node the cluster does not know. */
            UNKNOWN_NODE,
            /** Another membership change is running, or the node is in the wrong state for it. */
            CONFLICT,
            /** It would leave fewer nodes than N, or break zone diversity without the override. */
            UNSAFE,
            /** The command itself is wrong (an id in use, a reused id). */
            INVALID,
            /** A namespace definition that breaks a rule ({@link NamespaceSpec#problem}). */
            INVALID_NAMESPACE,
            /** A namespace that cannot be created: the cluster's limit is reached. */
            NAMESPACE_CONFLICT,
            /** A record of the cluster's settings that is not well-formed ({@link #settingsProblem}). */
            INVALID_SETTING
        }

        public Refusal {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(message, "message");
        }
    }

    /** The state after a command: {@code refusal} is null when it was applied (possibly changing nothing). */
    public record Result(ClusterState state, Refusal refusal) {
        public boolean refused() {
            return refusal != null;
        }
    }

    /**
     * The check an operator's change passes before it goes to the log, on the node that takes it:
     * {@code remove} and {@code replace} are for a node that is gone (they drop its replicas at
     * once, without streaming them away), so they are refused while {@code up} says the node still
     * answers (this node's failure detector: it counts a node down only after missed heartbeats),
     * unless {@code force}. A live node leaves by {@code decommission}. Null when the change may go.
     */
    public static Refusal preflight(MetadataCommand command, java.util.function.IntPredicate up, boolean force) {
        int node = switch (command) {
            case MetadataCommand.Remove r -> r.node();
            case MetadataCommand.Replace r -> r.node();
            default -> 0;
        };
        if (node == 0 || force || !up.test(node)) {
            return null;
        }
        String what = command instanceof MetadataCommand.Remove ? "remove" : "replace";
        return new Refusal(Refusal.Kind.UNSAFE, "node " + node + " is up (its heartbeats still arrive here): " + what + " is for a node"
                + " that is gone, and drops its copies without streaming them away; decommission a live node, or add force=true if"
                + " it must go now (wait for it to be counted down after it stops)");
    }

    /** Partitions still to stream into one incoming replica at once when the cluster's settings name no {@code moves.window}. */
    public static final int DEFAULT_MOVE_WINDOW = 16;
    /** The largest {@code moves.window} taken; a larger recorded value counts as this. */
    public static final int MAX_MOVE_WINDOW = 65_536;
    /** The cluster-wide setting that sets {@link #moveWindow}. */
    public static final String MOVE_WINDOW_SETTING = "moves.window";

    /**
     * How many partitions one incoming replica may have still to stream in at once ({@link #streamsOwed}): the cluster's {@code moves.window}
     * setting, or {@link #DEFAULT_MOVE_WINDOW} when it names none or a value that is not a whole
     * number from 1 to {@link #MAX_MOVE_WINDOW} (the log keeps settings well-formed, not in range;
     * a node checks the range before it proposes one).
     */
    public static int moveWindow(ClusterState s) {
        String v = s.settings().get(MOVE_WINDOW_SETTING);
        if (v == null || !v.matches("[0-9]{1,9}")) {
            return DEFAULT_MOVE_WINDOW;
        }
        int w = Integer.parseInt(v);
        return w < 1 ? DEFAULT_MOVE_WINDOW : Math.min(w, MAX_MOVE_WINDOW);
    }

    public static Result apply(ClusterState s, MetadataCommand command) {
        return switch (command) {
            case MetadataCommand.Join j -> join(s, j.member());
            case MetadataCommand.Decommission d -> decommission(s, d.node(), d.allowZoneLoss());
            case MetadataCommand.Remove r -> remove(s, r.node(), r.allowZoneLoss());
            case MetadataCommand.Replace r -> replace(s, r.node(), r.replacement(), r.allowZoneLoss());
            case MetadataCommand.StreamDone d -> streamsDone(s, d.plan(), d.node(), new int[] {d.partition()});
            case MetadataCommand.StreamsDone d -> streamsDone(s, d.plan(), d.node(), d.partitions());
            case MetadataCommand.Finish f -> finish(s, f.plan(), f.partitions());
            case MetadataCommand.Pause p -> pause(s, p.paused());
            case MetadataCommand.Cancel c -> cancel(s);
            case MetadataCommand.PutNamespace n -> putNamespace(s, n.spec(), n.maxNamespaces());
            case MetadataCommand.SetSettings c -> setSettings(s, c.settings(), c.first());
        };
    }

    // ------------------------------------------------------------------ cluster-wide settings

    /** At most this many settings in the record, names and values within the lengths below. */
    public static final int MAX_SETTINGS = 64;
    private static final java.util.regex.Pattern SETTING_NAME = java.util.regex.Pattern.compile("[a-z][A-Za-z0-9]*(\\.[a-z][A-Za-z0-9]*){1,3}");
    private static final java.util.regex.Pattern SETTING_VALUE = java.util.regex.Pattern.compile("[A-Za-z0-9.]{1,32}");
    private static final int MAX_SETTING_NAME = 64;

    /**
     * What is wrong with {@code settings} as a record of cluster-wide settings, or null: at most
     * {@link #MAX_SETTINGS}, each name dotted words ({@code limits.maxValueBytes}, at most 64
     * characters), each value 1-32 letters, digits or dots (the canonical forms: bytes as a number,
     * durations as milliseconds and {@code ms}). What each value may be is the nodes' to check
     * before they propose it: a release that knows a setting's range checks it, the log only keeps
     * the record well-formed.
     */
    public static String settingsProblem(java.util.Map<String, String> settings) {
        if (settings.size() > MAX_SETTINGS) {
            return settings.size() + " settings; at most " + MAX_SETTINGS;
        }
        for (var e : settings.entrySet()) {
            if (e.getKey() == null || e.getKey().length() > MAX_SETTING_NAME || !SETTING_NAME.matcher(e.getKey()).matches()) {
                return "'" + e.getKey() + "' is not a setting's name";
            }
            if (e.getValue() == null || !SETTING_VALUE.matcher(e.getValue()).matches()) {
                return e.getKey() + ": '" + e.getValue() + "' is not a setting's canonical value";
            }
        }
        return null;
    }

    /**
     * The cluster's first record of its settings ({@code first}: only when none is kept yet, so
     * the first member's offer wins and every later one changes nothing), or a change of some of
     * them merged into the record (refused while there is none to merge into: the record is whole
     * or absent). Recording the same values again changes nothing.
     */
    private static Result setSettings(ClusterState s, java.util.SortedMap<String, String> settings, boolean first) {
        String problem = settingsProblem(settings);
        if (problem != null) {
            return refuse(s, Refusal.Kind.INVALID_SETTING, problem);
        }
        if (first) {
            return s.settings().isEmpty() && !settings.isEmpty() ? new Result(s.withSettings(s.epoch() + 1, settings), null) : unchanged(s);
        }
        if (s.settings().isEmpty()) {
            return refuse(s, Refusal.Kind.CONFLICT, "the cluster has not recorded its settings yet (its members do so once the metadata log"
                    + " has a leader); try again in a moment");
        }
        java.util.SortedMap<String, String> merged = new java.util.TreeMap<>(s.settings());
        merged.putAll(settings);
        problem = settingsProblem(merged);
        if (problem != null) {
            return refuse(s, Refusal.Kind.INVALID_SETTING, problem);
        }
        // A larger moves.window starts queued partitions at once (settle).
        return merged.equals(s.settings()) ? unchanged(s) : settle(s.withSettings(s.epoch() + 1, merged));
    }

    // ------------------------------------------------------------------ namespaces

    /**
     * Creates the namespace {@code spec} names (with the next free id) or changes its policy in
     * place (its id stays); either is a new epoch, so nodes route by it from the epoch on. The same
     * definition again changes nothing. Its id in the command is ignored: ids are the log's to give.
     */
    private static Result putNamespace(ClusterState s, NamespaceSpec spec, int maxNamespaces) {
        if (spec.name().equals(io.cairn.namespace.Namespace.DEFAULT_NAME)) {
            // The default namespace's policy: kept beside the user namespaces (the namespace itself
            // is every node's from the start), the same for every node from this epoch on.
            String problem = spec.problemAsDefault(s.replicationFactor());
            if (problem != null) {
                return refuse(s, Refusal.Kind.INVALID_NAMESPACE, problem);
            }
            NamespaceSpec policy = spec.asDefault();
            return policy.equals(s.defaultPolicy()) ? unchanged(s) : new Result(s.withDefaultPolicy(s.epoch() + 1, policy), null);
        }
        NamespaceCatalog.Change change = NamespaceCatalog.put(s.namespaces(), spec, s.replicationFactor(), maxNamespaces);
        if (change.refusal() != null) {
            return refuse(s, change.refusal().kind() == NamespaceCatalog.RefusalKind.INVALID ? Refusal.Kind.INVALID_NAMESPACE
                    : Refusal.Kind.NAMESPACE_CONFLICT, change.refusal().message());
        }
        return change.changed() ? new Result(s.withNamespaces(s.epoch() + 1, change.next()), null) : unchanged(s);
    }

    // ------------------------------------------------------------------ operator commands

    private static Result join(ClusterState s, Member m) {
        var existing = s.member(m.id());
        if (existing.isPresent()) {
            MemberRecord r = existing.get();
            if (!r.state().active()) {
                return refuse(s, Refusal.Kind.INVALID, "node id " + m.id() + " belonged to a node that was removed; ids are never reused");
            }
            if (r.state() == NodeState.LEAVING) {
                // Answering "applied" would tell the operator the node is joining back while it leaves.
                return refuse(s, Refusal.Kind.CONFLICT, "node " + m.id() + " is leaving the cluster (a decommission or replacement of it is"
                        + " running); cancel that change (POST /admin/rebalance/cancel) to keep the node");
            }
            if (r.member().equals(m)) {
                return unchanged(s); // A retried join.
            }
            return refuse(s, Refusal.Kind.INVALID, "node id " + m.id() + " is already member " + describe(r.member()));
        }
        Refusal clash = addressClash(s, m, -1);
        if (clash != null) {
            return new Result(s, clash);
        }
        if (s.plan() != null) {
            return busy(s);
        }
        List<MemberRecord> members = new ArrayList<>(s.members());
        members.add(new MemberRecord(m, NodeState.JOINING));
        Plan plan = new Plan(s.epoch() + 1, Plan.Kind.JOIN, m.id(), 0, false, false);
        return replan(s, members, targets(s, members), plan);
    }

    private static Result decommission(ClusterState s, int node, boolean allowZoneLoss) {
        var existing = s.member(node);
        if (existing.isEmpty()) {
            return unknown(s, node);
        }
        NodeState state = existing.get().state();
        if (state == NodeState.REMOVED) {
            return unchanged(s);
        }
        if (state == NodeState.LEAVING && s.plan() != null && s.plan().kind() == Plan.Kind.DECOMMISSION && s.plan().subject() == node) {
            return unchanged(s);
        }
        if (s.plan() != null) {
            return busy(s);
        }
        if (state != NodeState.NORMAL) {
            return refuse(s, Refusal.Kind.CONFLICT, "node " + node + " is " + state.name().toLowerCase() + "; only a normal member can be decommissioned");
        }
        List<MemberRecord> members = withState(s.members(), node, NodeState.LEAVING);
        Refusal unsafe = unsafe(s, members, allowZoneLoss, "decommissioning node " + node);
        if (unsafe != null) {
            return new Result(s, unsafe);
        }
        Plan plan = new Plan(s.epoch() + 1, Plan.Kind.DECOMMISSION, node, 0, false, false);
        return replan(s, members, targets(s, members), plan);
    }

    /**
     * A dead node leaves at once, even while another change runs (a node dying mid-change must
     * not freeze the cluster): its places are refilled from the survivors, and a running plan
     * goes on with the new targets.
     */
    private static Result remove(ClusterState s, int node, boolean allowZoneLoss) {
        var existing = s.member(node);
        if (existing.isEmpty()) {
            return unknown(s, node);
        }
        if (existing.get().state() == NodeState.REMOVED) {
            return unchanged(s);
        }
        List<MemberRecord> members = withState(s.members(), node, NodeState.REMOVED);
        Refusal unsafe = unsafe(s, members, allowZoneLoss, "removing node " + node);
        if (unsafe != null) {
            return new Result(s, unsafe);
        }
        Plan plan = s.plan() != null ? s.plan() : new Plan(s.epoch() + 1, Plan.Kind.REMOVE, node, 0, false, false);
        return replan(s, members, targets(s, members), plan);
    }

    private static Result replace(ClusterState s, int node, Member replacement, boolean allowZoneLoss) {
        var existing = s.member(node);
        if (existing.isEmpty()) {
            return unknown(s, node);
        }
        var incoming = s.member(replacement.id());
        if (existing.get().state() == NodeState.REMOVED && incoming.isPresent() && incoming.get().member().equals(replacement)
                && incoming.get().state().active()) {
            return unchanged(s); // A retried replace.
        }
        if (existing.get().state() == NodeState.REMOVED) {
            return refuse(s, Refusal.Kind.CONFLICT, "node " + node + " was already removed; join the new node instead");
        }
        if (incoming.isPresent()) {
            return refuse(s, Refusal.Kind.INVALID, "node id " + replacement.id() + " is already in use; a replacement needs a new id");
        }
        if (s.plan() != null) {
            return busy(s);
        }
        Refusal clash = addressClash(s, replacement, node);
        if (clash != null) {
            return new Result(s, clash);
        }
        List<MemberRecord> members = withState(s.members(), node, NodeState.REMOVED);
        members.add(new MemberRecord(replacement, NodeState.JOINING));
        Refusal unsafe = unsafe(s, members, allowZoneLoss, "replacing node " + node + " by node " + replacement.id());
        if (unsafe != null) {
            return new Result(s, unsafe);
        }
        int[][] targets = new int[s.partitions()][];
        for (int p = 0; p < s.partitions(); p++) {
            targets[p] = s.assignments().get(p).owners().clone();
            for (int i = 0; i < targets[p].length; i++) {
                if (targets[p][i] == node) {
                    targets[p][i] = replacement.id();
                }
            }
        }
        Plan plan = new Plan(s.epoch() + 1, Plan.Kind.REPLACE, node, replacement.id(), false, false);
        return replan(s, members, targets, plan);
    }

    private static Result pause(ClusterState s, boolean paused) {
        if (s.plan() == null) {
            return refuse(s, Refusal.Kind.CONFLICT, "no membership change is running");
        }
        if (s.plan().paused() == paused) {
            return unchanged(s);
        }
        // A resume starts queued partitions again (settle); a pause starts none.
        return settle(s.with(s.epoch() + 1, s.members(), s.assignments(), s.plan().paused(paused)));
    }

    private static Result cancel(ClusterState s) {
        if (s.plan() == null) {
            return refuse(s, Refusal.Kind.CONFLICT, "no membership change is running");
        }
        if (s.plan().kind() == Plan.Kind.REPLACE && holdsNothingYet(s, s.plan().replacement())) {
            return cancelUnstartedReplace(s);
        }
        if (s.plan().cancelled()) {
            return unchanged(s);
        }
        long e = s.epoch() + 1;
        List<Assignment> assignments = new ArrayList<>(s.partitions());
        for (Assignment a : s.assignments()) {
            // Reads still come from the owners: the move is undone. Once reads come from the new
            // replicas, undoing is another move; the partition finishes instead.
            // A partition that lost an owner to a removal has nowhere to go back to; it finishes too.
            boolean revertible = a.moving() && !a.readsNext() && a.owners().length == s.replicationFactor();
            assignments.add(revertible ? Assignment.stable(a.owners(), e, a.since()) : a);
        }
        // Queued partitions never started: they stay where they are.
        return settle(s.with(e, s.members(), assignments, s.plan().cancel(), List.of()));
    }

    /**
     * Whether {@code node} is a joining member that has streamed no partition yet (none reads from
     * it, it owns none, no incoming stream of it finished): nothing is lost when it is dropped.
     */
    private static boolean holdsNothingYet(ClusterState s, int node) {
        if (s.member(node).map(m -> m.state() != NodeState.JOINING).orElse(true)) {
            return false;
        }
        for (Assignment a : s.assignments()) {
            if (Assignment.contains(a.owners(), node) || Assignment.contains(a.streamed(), node)
                    || (a.readsNext() && Assignment.contains(a.next(), node))) {
                return false;
            }
        }
        return true;
    }

    /**
     * Cancels a replace whose replacement holds nothing yet (say, it never started). The replaced
     * node left when the replace began, so its partitions cannot go back to it: the replacement is
     * dropped instead (removed, its id never reused) and the partitions it was to take are
     * re-replicated onto the other members, as a remove of the replaced node would have done. Zone
     * diversity may shrink (the operator asked to cancel; {@code GET /admin/what-if} shows it), but
     * fewer than N data-holding members is refused: then only the replacement can finish the change.
     */
    private static Result cancelUnstartedReplace(ClusterState s) {
        int replacement = s.plan().replacement();
        List<MemberRecord> members = withState(s.members(), replacement, NodeState.REMOVED);
        Refusal unsafe = unsafe(s, members, true, "cancelling the replace of node " + s.plan().subject() + " (dropping node "
                + replacement + ", which holds no data yet)");
        if (unsafe != null) {
            return refuse(s, Refusal.Kind.UNSAFE, unsafe.message() + "; start node " + replacement + " (it needs no data: any node with"
                    + " its id and addresses) to let the replace finish");
        }
        return replan(s, members, targets(s, members), s.plan().cancel());
    }

    // ------------------------------------------------------------------ reports from moves

    /**
     * Incoming replica {@code node} holds {@code partitions}: each one it was still owed by becomes
     * streamed by it, and reads from the next set once every incoming replica has streamed it; all
     * at one new epoch. Partitions it already reported, or that are not moving to it, or of a plan
     * that is over, are left as they are; when none changes, nothing does (the epoch included).
     */
    private static Result streamsDone(ClusterState s, long plan, int node, int[] partitions) {
        if (s.plan() == null || s.plan().id() != plan) {
            return unchanged(s); // A late report for a plan that is over.
        }
        long e = s.epoch() + 1;
        List<Assignment> assignments = null;
        for (int partition : partitions) {
            if (partition < 0 || partition >= s.partitions()) {
                continue;
            }
            Assignment a = assignments == null ? s.assignments().get(partition) : assignments.get(partition);
            if (!a.moving() || a.readsNext() || !Assignment.contains(a.incoming(), node) || Assignment.contains(a.streamed(), node)) {
                continue;
            }
            int[] streamed = Arrays.copyOf(a.streamed(), a.streamed().length + 1);
            streamed[streamed.length - 1] = node;
            boolean all = Arrays.stream(a.incoming()).allMatch(n -> Assignment.contains(streamed, n));
            Assignment next = all
                    ? new Assignment(a.owners(), a.next(), true, streamed, e, a.since())
                    : new Assignment(a.owners(), a.next(), false, streamed, a.since(), a.previousSince());
            if (assignments == null) {
                assignments = new ArrayList<>(s.assignments());
            }
            assignments.set(partition, next);
        }
        return assignments == null ? unchanged(s) : settle(s.with(e, s.members(), assignments, s.plan()));
    }

    private static Result finish(ClusterState s, long plan, int[] partitions) {
        if (s.plan() == null || s.plan().id() != plan) {
            return unchanged(s);
        }
        long e = s.epoch() + 1;
        List<Assignment> assignments = new ArrayList<>(s.assignments());
        boolean changed = false;
        for (int p : partitions) {
            if (p < 0 || p >= s.partitions()) {
                continue;
            }
            Assignment a = assignments.get(p);
            if (a.moving() && a.readsNext()) {
                assignments.set(p, Assignment.stable(a.next(), e, a.since()));
                changed = true;
            }
        }
        return changed ? settle(s.with(e, s.members(), assignments, s.plan())) : unchanged(s);
    }

    // ------------------------------------------------------------------ planning

    /** The placement of the members that will hold data (normal and joining) for every partition. */
    private static int[][] targets(ClusterState s, List<MemberRecord> members) {
        List<Member> holders = members.stream().filter(m -> m.state() == NodeState.NORMAL || m.state() == NodeState.JOINING)
                .map(MemberRecord::member).toList();
        return Placement.homes(holders, s.partitions(), s.replicationFactor());
    }

    /**
     * Moves every partition whose replicas differ from its target, at a new epoch. A partition
     * keeps its assignment when it already is (or is moving to) its target and lost no replica. A
     * stable partition that lost none is queued (the window); the rest move now: their base (the
     * replicas holding its data: the next set once it serves reads, else the owners) minus removed
     * nodes become the owners, and the target the next set. The queue is made anew each time.
     */
    private static Result replan(ClusterState s, List<MemberRecord> members, int[][] targets, Plan plan) {
        long e = s.epoch() + 1;
        Set<Integer> removed = new HashSet<>();
        for (MemberRecord m : members) {
            if (!m.state().active() && s.member(m.id()).map(r -> r.state().active()).orElse(false)) {
                removed.add(m.id());
            }
        }
        List<Assignment> assignments = new ArrayList<>(s.partitions());
        List<ClusterState.Queued> queued = new ArrayList<>();
        for (int p = 0; p < s.partitions(); p++) {
            Assignment a = s.assignments().get(p);
            int[] target = targets[p];
            boolean lostReplica = removed.stream().anyMatch(a::involves);
            if (!lostReplica && (a.moving() ? Assignment.sameSet(a.next(), target) : Assignment.sameSet(a.owners(), target))) {
                assignments.add(a);
                continue;
            }
            if (!lostReplica && !a.moving()) {
                assignments.add(a);
                queued.add(new ClusterState.Queued(p, target));
                continue;
            }
            int[] base = Arrays.stream(a.base()).filter(n -> !removed.contains(n)).toArray();
            if (Assignment.sameSet(base, target)) {
                assignments.add(Assignment.stable(base, e, a.since()));
                continue;
            }
            int[] incoming = Arrays.stream(target).filter(n -> !Assignment.contains(base, n)).toArray();
            int[] streamed = a.moving() && !a.readsNext()
                    ? Arrays.stream(a.streamed()).filter(n -> Assignment.contains(incoming, n)).toArray() : new int[0];
            boolean allStreamed = Arrays.stream(incoming).allMatch(n -> Assignment.contains(streamed, n));
            assignments.add(new Assignment(base, target, allStreamed, streamed, e, a.since()));
        }
        return settle(s.with(e, members, assignments, plan, queued));
    }

    /**
     * Incoming replica → how many moving partitions it has still to stream in (not reported
     * streamed, not yet read from their next set): what {@link #moveWindow} bounds.
     */
    public static java.util.Map<Integer, Integer> streamsOwed(ClusterState s) {
        java.util.Map<Integer, Integer> owed = new java.util.HashMap<>();
        for (Assignment a : s.assignments()) {
            if (a.moving()) {
                for (int n : a.incoming()) {
                    if (!a.streamedIn(n)) {
                        owed.merge(n, 1, Integer::sum);
                    }
                }
            }
        }
        return owed;
    }

    /**
     * Starts queued partitions, in the queue's order, while the plan is not paused and each of a
     * partition's incoming replicas has fewer than {@link #moveWindow} partitions still to stream
     * in ({@link #streamsOwed}); at {@code s}'s epoch (every caller made a new one). A partition
     * with a full incoming replica waits, and one behind it, going elsewhere, may start. A
     * partition streamed in no longer counts, though it moves (joint writes) until its finish: the
     * streams stay fed while the reports and barriers of the finished ones go by, at the price of
     * up to a report interval's worth more partitions on joint quorums.
     */
    private static ClusterState admit(ClusterState s) {
        if (s.queued().isEmpty() || s.plan() == null || s.plan().paused()) {
            return s;
        }
        int window = moveWindow(s);
        java.util.Map<Integer, Integer> inFlight = streamsOwed(s);
        List<Assignment> assignments = null;
        List<ClusterState.Queued> left = new ArrayList<>(s.queued().size());
        for (ClusterState.Queued q : s.queued()) {
            Assignment a = s.assignments().get(q.partition());
            int[] incoming = a.incomingTo(q.target());
            boolean room = Arrays.stream(incoming).allMatch(n -> inFlight.getOrDefault(n, 0) < window);
            if (!room) {
                left.add(q);
                continue;
            }
            for (int n : incoming) {
                inFlight.merge(n, 1, Integer::sum);
            }
            if (assignments == null) {
                assignments = new ArrayList<>(s.assignments());
            }
            // No incoming replica (the target only drops one): it reads from the target at once.
            assignments.set(q.partition(), new Assignment(a.owners(), q.target(), incoming.length == 0, new int[0], s.epoch(), a.since()));
        }
        return assignments == null ? s : s.with(s.epoch(), s.members(), assignments, s.plan(), left);
    }

    /**
     * Starts what the window lets start ({@link #admit}), then ends the plan when no partition
     * moves or waits any more: joining nodes become normal, leaving ones removed.
     */
    private static Result settle(ClusterState s) {
        s = admit(s);
        if (s.plan() == null || !s.queued().isEmpty() || s.assignments().stream().anyMatch(Assignment::moving)) {
            return new Result(s, null);
        }
        List<MemberRecord> members = new ArrayList<>(s.members().size());
        for (MemberRecord m : s.members()) {
            boolean owns = s.assignments().stream().anyMatch(a -> a.involves(m.id()));
            NodeState next = switch (m.state()) {
                case JOINING -> owns || !s.plan().cancelled() ? NodeState.NORMAL : NodeState.REMOVED;
                case LEAVING -> owns ? NodeState.NORMAL : NodeState.REMOVED;
                default -> m.state();
            };
            members.add(m.with(next));
        }
        return new Result(s.with(s.epoch(), members, s.assignments(), null), null);
    }

    // ------------------------------------------------------------------ checks

    /** Refuses a member set that keeps fewer than N data-holding nodes, or fewer zones than before without the override. */
    private static Refusal unsafe(ClusterState s, List<MemberRecord> after, boolean allowZoneLoss, String what) {
        List<Member> holders = after.stream().filter(m -> m.state() == NodeState.NORMAL || m.state() == NodeState.JOINING)
                .map(MemberRecord::member).toList();
        if (holders.size() < s.replicationFactor()) {
            return new Refusal(Refusal.Kind.UNSAFE, what + " would leave " + holders.size() + " nodes to hold data, fewer than the "
                    + s.replicationFactor() + " replicas every partition needs");
        }
        long before = s.members().stream().filter(m -> m.state() == NodeState.NORMAL || m.state() == NodeState.JOINING)
                .map(m -> m.member().zone()).distinct().count();
        long zones = holders.stream().map(Member::zone).distinct().count();
        long needed = Math.min(before, s.replicationFactor());
        if (zones < needed && !allowZoneLoss) {
            return new Refusal(Refusal.Kind.UNSAFE, what + " would leave data in " + zones + " zone(s), so partitions could no longer span "
                    + needed + " zones; allow zone loss explicitly to do it anyway");
        }
        return null;
    }

    private static Refusal addressClash(ClusterState s, Member m, int replacing) {
        String http = m.httpAddress();
        String internode = m.internodeAddress();
        String metadata = m.metadataAddress();
        if (http.equals(internode) || (m.metadataVoter() && (metadata.equals(http) || metadata.equals(internode)))) {
            return new Refusal(Refusal.Kind.INVALID, "node " + m.id() + " would listen for two services at one address (http " + http
                    + ", internode " + internode + (m.metadataVoter() ? ", metadata " + metadata : "") + "): each needs its own port");
        }
        for (MemberRecord r : s.members()) {
            if (!r.state().active() || r.id() == replacing) {
                continue;
            }
            if (r.member().internodeAddress().equals(m.internodeAddress()) || r.member().httpAddress().equals(m.httpAddress())
                    || (m.metadataVoter() && r.member().metadataAddress().equals(m.metadataAddress()))) {
                return new Refusal(Refusal.Kind.INVALID, "node " + m.id() + " would listen where member " + describe(r.member()) + " does");
            }
        }
        return null;
    }

    private static String describe(Member m) {
        return m.id() + " (zone " + m.zone() + ", http " + m.httpAddress() + ", internode " + m.internodeAddress() + ")";
    }

    private static List<MemberRecord> withState(List<MemberRecord> members, int node, NodeState state) {
        List<MemberRecord> out = new ArrayList<>(members.size());
        for (MemberRecord m : members) {
            out.add(m.id() == node ? m.with(state) : m);
        }
        return out;
    }

    private static Result unchanged(ClusterState s) {
        return new Result(s, null);
    }

    private static Result refuse(ClusterState s, Refusal.Kind kind, String message) {
        return new Result(s, new Refusal(kind, message));
    }

    private static Result unknown(ClusterState s, int node) {
        return refuse(s, Refusal.Kind.UNKNOWN_NODE, "node " + node + " is not a member of this cluster");
    }

    private static Result busy(ClusterState s) {
        Plan p = s.plan();
        return refuse(s, Refusal.Kind.CONFLICT, "a membership change is running (" + p.kind().name().toLowerCase() + " of node " + p.subject()
                + ", plan " + p.id() + (p.paused() ? ", paused" : "") + "); wait for it, or cancel it");
    }
}
