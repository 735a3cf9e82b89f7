package io.cairn.server.metadata;

import io.cairn.membership.Member;
import io.cairn.metadata.ClusterMetadata;
import io.cairn.metadata.ClusterState;
import io.cairn.metadata.MetadataCodec;
import io.cairn.metadata.MetadataCommand;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.proto.RaftProtos;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The metadata log on Apache Ratis (Raft over gRPC; Ratis shades its own gRPC and Netty).
 *
 * <p><b>Roles.</b> The group is fixed ({@link RaftPeers#GROUP_ID}); peer {@code n<id>} is the
 * member with that id, at its metadata address. A member named among the start voters starts as a
 * voter of that group. Any other member with a metadata address starts a server that belongs to
 * no configuration yet and waits: once the log holds it as an active member, the leader adds it
 * as a listener (or a voter, see {@link VoterPlacement}), and Ratis streams it the log (or a
 * snapshot) like to any follower, without it voting. We chose Ratis listeners over polling for
 * these members because they apply every entry themselves, so their subscribers see every epoch,
 * in order, as the voters' do. A member without a metadata address runs no server: it polls the
 * group for a newer state every {@link MetadataSettings#pollInterval()} (a read-only query
 * answered by the leader), and its subscribers see the newest state at each poll, which can skip
 * epochs.
 *
 * <p><b>Threads.</b> Ratis's own threads (its gRPC event loops, the state machine updater); one
 * publisher thread for subscribers ({@link StatePublisher}); one scheduler thread for the group
 * reconfiguration checks, the poller, and request timers; and two threads that carry blocking
 * client calls, with a bounded queue of commands waiting for them.
 *
 * <p><b>Failure.</b> A command that no leader commits within the request timeout fails with
 * {@link MetadataUnavailableException}, whatever the reason (no majority, an election in
 * progress, this node cut off); it may still commit later, which is harmless since commands are
 * idempotent.
 */
public final class RatisMetadataLog implements MetadataLog {
    private static final Logger log = LoggerFactory.getLogger(RatisMetadataLog.class);
    private static final int CALL_THREADS = 2;
    private static final int MAX_WAITING_CALLS = 1024;
    private static final long CLOSE_WAIT_MILLIS = 2_000;

    private final Member self;
    private final List<Member> startVoters;
    /**
     * A joining node's first contacts: the members with a metadata address that the member it
     * joins through knows now (empty otherwise). Its own state is the cluster's first epoch until
     * its join is applied here, and the voters of that epoch may all be gone; so until this node's
     * state lists it, its client asks these first.
     */
    private final List<Member> joinContacts;
    private final Path storageDir;
    private final MetadataSettings settings;
    // Ratis parameters: the TLS configuration of the log's gRPC servers and clients (empty: plaintext).
    private final Parameters parameters;
    private final StatePublisher publisher;
    private final ScheduledExecutorService scheduler;
    private final ThreadPoolExecutor calls;
    private final LogClients clients;
    /** Null for a member without a metadata address, which polls instead. */
    private final MetadataStateMachine stateMachine;
    private final Set<CompletableFuture<?>> pending = ConcurrentHashMap.newKeySet();
    private volatile RaftServer server;
    /**
     * Set once start() published the state the server started with; before, the state machine's
     * states (the snapshot it loads, entries it replays) are not published one by one: start()
     * publishes the newest of them. Volatile on both sides (with the state machine's state), so
     * a state applied while this is still false is seen by start().
     */
    private volatile boolean publishing;
    private volatile GroupReconfigurer reconfigurer;
    /**
     * A poller's newest state; with a server, the newest state a catch-up poll brought while the
     * server had stalled (see {@link #catchUp}), else the bootstrap state.
     */
    private volatile ClusterState polled;
    // The state this node's view is held at by the cut fault (see cut); null when not cut.
    private volatile ClusterState held;
    /** Set while a catch-up check runs; the two fields after it are touched only by that check. */
    private final java.util.concurrent.atomic.AtomicBoolean catchingUp = new java.util.concurrent.atomic.AtomicBoolean();
    /** The epoch the server had applied at the previous catch-up check, and for how many checks since. */
    private long appliedAtLastCheck = -1;
    private int unchangedChecks;
    // Written by the check, read by group() too.
    private volatile boolean stalled;
    /** Checks (election timeouts) a server's applied epoch must stand still before it asks the group. */
    static final int STALL_CHECKS = 3;
    /**
     * Checks (poll intervals) this node's state must stay older than an epoch a peer showed before
     * it asks the group: one is the normal moment while an epoch spreads over the members.
     */
    static final int AHEAD_CHECKS = 2;
    // The newest epoch the node's peers showed (see followPeers); 0 until a driver is followed.
    private volatile java.util.function.LongSupplier peerEpoch = () -> 0;
    /** Touched only by the catch-up check, as the stall fields above. */
    private int aheadChecks;
    private volatile boolean closed;
    /** Guarded by this. */
    private boolean started;

    /**
     * @param self        this node; it runs a log server at its metadata address if it has one
     * @param voters      the voters the group was created with (members with a metadata address);
     *                    used as the group of a new voter's storage and as the first contacts of
     *                    the client; a restarted member takes its configuration from its storage
     * @param storageDir  this node's own directory for the log and snapshots (say
     *                    {@code <dataDir>/metadata}); created if missing
     * @param bootstrap   the state of an empty log: the same on every node
     */
    public RatisMetadataLog(Member self, List<Member> voters, Path storageDir, ClusterState bootstrap, MetadataSettings settings) {
        this(self, voters, storageDir, bootstrap, settings, null);
    }

    /**
     * As above, with every gRPC channel and server of the log under mutual TLS ({@code tls}; null
     * for plaintext, which only tests use: a cluster node always passes its certificate).
     */
    public RatisMetadataLog(Member self, List<Member> voters, Path storageDir, ClusterState bootstrap, MetadataSettings settings,
                            MetadataTls tls) {
        this(self, voters, List.of(), storageDir, bootstrap, settings, tls);
    }

    /**
     * As above, for a joining node: {@code joinContacts} are the members with a metadata address
     * the member it joins through knows now, which its client asks first until this node's state
     * lists it (the first epoch's voters, in {@code voters}, may all have left since).
     */
    public RatisMetadataLog(Member self, List<Member> voters, List<Member> joinContacts, Path storageDir, ClusterState bootstrap,
                            MetadataSettings settings, MetadataTls tls) {
        this.parameters = tls == null ? new Parameters() : tls.parameters();
        this.self = Objects.requireNonNull(self, "self");
        this.startVoters = List.copyOf(voters);
        this.storageDir = Objects.requireNonNull(storageDir, "storageDir");
        this.settings = Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(bootstrap, "bootstrap");
        for (Member v : startVoters) {
            if (!v.metadataVoter()) {
                throw new IllegalArgumentException("voter " + v.id() + " has no metadata address");
            }
        }
        if (startVoters.stream().map(Member::id).distinct().count() != startVoters.size()) {
            throw new IllegalArgumentException("a voter is listed twice: " + startVoters);
        }
        this.joinContacts = List.copyOf(joinContacts);
        for (Member c : this.joinContacts) {
            if (!c.metadataVoter() || c.id() == self.id()) {
                throw new IllegalArgumentException("contact " + c.id() + " is this node or has no metadata address");
            }
        }
        if (this.joinContacts.stream().map(Member::id).distinct().count() != this.joinContacts.size()) {
            throw new IllegalArgumentException("a contact is listed twice: " + this.joinContacts);
        }
        String name = "cairn-metadata-n" + self.id();
        this.publisher = new StatePublisher(name + "-publisher");
        ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1, Thread.ofPlatform().name(name + "-scheduler").daemon().factory());
        timers.setRemoveOnCancelPolicy(true);
        this.scheduler = timers;
        this.calls = new ThreadPoolExecutor(CALL_THREADS, CALL_THREADS, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(MAX_WAITING_CALLS),
                Thread.ofPlatform().name(name + "-call-", 0).daemon().factory());
        this.clients = new LogClients(startVoters, scheduler, settings.requestTimeout(), parameters);
        this.stateMachine = self.metadataVoter() ? new MetadataStateMachine(bootstrap, this::applied) : null;
        this.polled = bootstrap;
    }

    @Override
    public synchronized void start() throws IOException {
        if (closed || started) {
            throw new IllegalStateException(closed ? "closed" : "already started");
        }
        started = true;
        Duration period = settings.electionTimeoutMax();
        if (stateMachine == null) {
            publisher.publish(polled);
            scheduler.scheduleWithFixedDelay(this::poll, 0, settings.pollInterval().toMillis(), TimeUnit.MILLISECONDS);
            return;
        }
        Files.createDirectories(storageDir);
        boolean voter = startVoters.stream().anyMatch(v -> v.id() == self.id());
        RaftServer s = RaftServer.newBuilder()
                .setServerId(RaftPeers.peerId(self.id()))
                .setGroup(RaftPeers.group(voter ? startVoters : List.of()))
                .setStateMachine(stateMachine)
                .setProperties(serverProperties())
                .setParameters(parameters)
                .setOption(RaftStorage.StartupOption.RECOVER)
                .build();
        try {
            s.start();
        } catch (IOException e) {
            s.close();
            throw e;
        }
        server = s;
        publishing = true;
        // The state recovered from storage (or the bootstrap state), unless one applied since
        // was already published.
        publisher.publish(stateMachine.current());
        GroupReconfigurer r = new GroupReconfigurer(s, stateMachine::current, scheduler, settings);
        reconfigurer = r;
        r.start(period);
        r.poke();
        // The check may block on the group (a read-only query): it runs on a call thread, never on
        // the scheduler's, which carries request timers; one at a time.
        scheduler.scheduleWithFixedDelay(() -> check(this::catchUp), period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
        long poll = settings.pollInterval().toMillis();
        scheduler.scheduleWithFixedDelay(() -> check(this::catchUpToPeers), poll, poll, TimeUnit.MILLISECONDS);
        log.info("metadata log started: {} as {} at {}, storage {}", RaftPeers.peerId(self.id()), voter ? "a voter" : "a waiting member",
                self.metadataAddress(), storageDir);
    }

    private RaftProperties serverProperties() {
        RaftProperties p = new RaftProperties();
        RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
        GrpcConfigKeys.Server.setHost(p, self.metadataHost());
        GrpcConfigKeys.Server.setPort(p, self.metadataPort());
        RaftServerConfigKeys.setStorageDir(p, List.of(storageDir.toFile()));
        RaftServerConfigKeys.Rpc.setTimeoutMin(p, millis(settings.electionTimeoutMin()));
        RaftServerConfigKeys.Rpc.setTimeoutMax(p, millis(settings.electionTimeoutMax()));
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, settings.snapshotEveryEntries());
        RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, 2);
        // A restart replays the log after the last threshold snapshot, the same path as always,
        // rather than depending on a snapshot taken while stopping.
        RaftServerConfigKeys.Snapshot.setTriggerWhenStopEnabled(p, false);
        RaftServerConfigKeys.Log.setPurgeGap(p, (int) Math.min(Integer.MAX_VALUE, settings.snapshotEveryEntries()));
        RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf(settings.logSegmentBytes()));
        RaftServerConfigKeys.Log.setPreallocatedSize(p, SizeInBytes.valueOf(Math.min(settings.logSegmentBytes(), 64 << 10)));
        RaftServerConfigKeys.Log.Appender.setBufferByteLimit(p, SizeInBytes.valueOf(settings.logEntryMaxBytes()));
        RaftServerConfigKeys.Log.setWriteBufferSize(p, SizeInBytes.valueOf(settings.logEntryMaxBytes() + 8L));
        return p;
    }

    private static TimeDuration millis(Duration d) {
        return TimeDuration.valueOf(d.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** From the state machine's updater thread: a state with a new epoch was applied (or loaded). */
    private void applied(ClusterState state) {
        if (!publishing || held != null) {
            return; // Still starting: start() publishes the newest state once the server runs.
        }
        publisher.publish(state);
        GroupReconfigurer r = reconfigurer;
        if (r != null) {
            r.poke();
        }
    }

    @Override
    public java.util.Map<String, Object> group() {
        RaftServer s = server;
        java.util.Map<String, Object> out = new java.util.LinkedHashMap<>();
        if (s == null) {
            return out;
        }
        try {
            RaftServer.Division division = s.getDivision(RaftPeers.GROUP_ID);
            org.apache.ratis.server.RaftConfiguration conf = division.getRaftConf();
            out.put("voters", conf.getCurrentPeers(org.apache.ratis.proto.RaftProtos.RaftPeerRole.FOLLOWER).stream()
                    .map(p -> RaftPeers.memberId(p.getId())).sorted().toList());
            out.put("listeners", conf.getCurrentPeers(org.apache.ratis.proto.RaftProtos.RaftPeerRole.LISTENER).stream()
                    .map(p -> RaftPeers.memberId(p.getId())).sorted().toList());
            out.put("changing", !conf.getPreviousPeers().isEmpty());
            var leader = division.getInfo().getLeaderId();
            out.put("leader", leader == null ? 0 : RaftPeers.memberId(leader));
            out.put("isLeader", division.getInfo().isLeader());
            // This node's own log server: its role and whether it runs (a closed one takes no part
            // in the group, and the node follows by polling; see catchUp), and how it learns epochs.
            out.put("role", division.getInfo().getCurrentRole().name().toLowerCase(java.util.Locale.ROOT));
            out.put("server", division.getInfo().getLifeCycleState().name().toLowerCase(java.util.Locale.ROOT));
            out.put("following", stalled ? "polling" : "log");
            if (division.getInfo().isLeader()) {
                out.put("acknowledged", acknowledged(division.getInfo()));
            }
        } catch (IOException | RuntimeException e) {
            out.put("error", String.valueOf(e));
        }
        return out;
    }

    @Override
    public synchronized void cut(boolean cut) {
        if (cut && held == null) {
            held = current();
            log.warn("fault injection: this node's metadata log is held at epoch {}, as if cut off from the group", held.epoch());
        } else if (!cut && held != null) {
            held = null;
            publisher.publish(current());
            log.warn("fault injection: this node's metadata log is no longer held");
        }
    }

    @Override
    public ClusterState current() {
        ClusterState h = held;
        if (h != null) {
            return h;
        }
        if (stateMachine == null) {
            return polled;
        }
        ClusterState applied = stateMachine.current();
        ClusterState caughtUp = polled;
        return caughtUp.epoch() > applied.epoch() ? caughtUp : applied;
    }

    @Override
    public void subscribe(Consumer<ClusterState> subscriber) {
        publisher.subscribe(subscriber);
    }

    @Override
    public CompletableFuture<ClusterState> awaitEpoch(long epoch, Duration timeout) {
        return publisher.awaitEpoch(epoch, timeout);
    }

    @Override
    public CompletableFuture<ClusterMetadata.Result> submit(MetadataCommand command) {
        return submitEntry(MetadataCodec.encode(command));
    }

    /** Appends {@code entry} as it is: the log's own commands, or damaged bytes in tests. */
    CompletableFuture<ClusterMetadata.Result> submitEntry(byte[] entry) {
        CompletableFuture<ClusterMetadata.Result> outcome = new CompletableFuture<>();
        if (closed) {
            return CompletableFuture.failedFuture(new MetadataUnavailableException("the metadata log on this node is closed", null));
        }
        if (held != null) {
            return CompletableFuture.failedFuture(new MetadataUnavailableException("this node is cut off from the metadata log (fault injection)", null));
        }
        pending.add(outcome);
        outcome.whenComplete((r, e) -> pending.remove(outcome));
        Duration timeout = settings.requestTimeout();
        ScheduledFuture<?> timer;
        try {
            timer = scheduler.schedule(() -> outcome.completeExceptionally(unavailable("no leader committed the command within " + timeout, null)),
                    timeout.toMillis(), TimeUnit.MILLISECONDS);
            calls.execute(() -> call(entry, outcome));
        } catch (RejectedExecutionException e) {
            outcome.completeExceptionally(closed ? unavailable("the metadata log on this node is closed", e)
                    : unavailable(MAX_WAITING_CALLS + " commands are already waiting for the metadata log", e));
            return outcome;
        }
        outcome.whenComplete((r, e) -> timer.cancel(false));
        return outcome;
    }

    private void call(byte[] entry, CompletableFuture<ClusterMetadata.Result> outcome) {
        if (outcome.isDone()) {
            return; // Timed out while waiting for a thread.
        }
        try {
            RaftClient client = clients.client(contacts(current()));
            RaftClientReply reply = client.io().send(Message.valueOf(UnsafeByteOperations.unsafeWrap(entry)));
            if (!reply.isSuccess()) {
                outcome.completeExceptionally(unavailable("the metadata group did not take the command", reply.getException()));
                return;
            }
            outcome.complete(LogMessages.decodeOutcome(reply.getMessage().getContent().toByteArray()));
        } catch (IOException e) {
            outcome.completeExceptionally(unavailable("no leader committed the command within " + settings.requestTimeout(), e));
        } catch (LogMessages.MalformedReplyException | IllegalStateException e) {
            // IllegalStateException: the clients were closed under us.
            outcome.completeExceptionally(unavailable("the metadata group's answer could not be read", e));
        }
    }

    /**
     * The members the client asks, besides the start voters: {@code state}'s, after the join
     * contacts while {@code state} does not list this node yet (a joining node's first epoch).
     */
    private java.util.Collection<Member> contacts(ClusterState state) {
        List<Member> members = state.activeMembers();
        if (joinContacts.isEmpty() || members.stream().anyMatch(m -> m.id() == self.id())) {
            return members;
        }
        List<Member> out = new java.util.ArrayList<>(joinContacts);
        out.addAll(members);
        return out;
    }

    private MetadataUnavailableException unavailable(String why, Throwable cause) {
        String voters = contactsDescription();
        return new MetadataUnavailableException("the metadata log has no majority: " + why + "; a majority of its voters (" + voters
                + ") must be up and reach each other", cause);
    }

    /**
     * The voters as this node knows them: its server's configuration, or, when that is empty (a
     * member without a server, or one still waiting to be added, such as a joining node), the
     * members its client asked.
     */
    private String contactsDescription() {
        RaftServer.Division d = division();
        if (d != null) {
            String configured = d.getRaftConf().getCurrentPeers().stream().map(p -> p.getId() + "@" + p.getAddress()).sorted()
                    .collect(Collectors.joining(", "));
            if (!configured.isEmpty()) {
                return configured;
            }
        }
        return clients.describeContacts();
    }

    /** Whether this node's log server leads the group now. */
    boolean isLeader() {
        RaftServer.Division d = division();
        return d != null && d.getInfo().isLeader();
    }

    /** The member ids of the given role in this node's view of the group's configuration (empty without a server). */
    Set<Integer> configured(RaftProtos.RaftPeerRole role) {
        RaftServer.Division d = division();
        if (d == null) {
            return Set.of();
        }
        return d.getRaftConf().getCurrentPeers(role).stream().map(p -> RaftPeers.memberId(p.getId())).collect(Collectors.toSet());
    }

    private RaftServer.Division division() {
        RaftServer s = server;
        if (s == null) {
            return null;
        }
        try {
            return s.getDivision(RaftPeers.GROUP_ID);
        } catch (IOException closed) {
            return null;
        }
    }

    /** A member without a log server: asks the group for a state newer than the one it has. */
    private void poll() {
        if (held != null) {
            return;
        }
        ClusterState newer = newerThan(polled);
        if (newer != null) {
            follow(newer);
        }
    }

    /** Runs a catch-up check on a call thread, unless one is running. */
    private void check(Runnable catchUpCheck) {
        if (catchingUp.compareAndSet(false, true)) {
            try {
                calls.execute(() -> {
                    try {
                        catchUpCheck.run();
                    } finally {
                        catchingUp.set(false);
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException busy) {
                catchingUp.set(false);
            }
        }
    }

    /**
     * The members that have acknowledged log entries to this leader (a match index above 0; an
     * appender starts at 0, so a member that never ran a log server, or not since this leader was
     * elected, is not among them). A member among them that starts on an empty data directory lost
     * its log: see {@code ElasticMembership}'s lost-disk check. Empty when the two views Ratis gives
     * of the followers do not line up (a reconfiguration between the two calls).
     */
    private static List<Integer> acknowledged(org.apache.ratis.server.DivisionInfo info) {
        List<org.apache.ratis.proto.RaftProtos.ServerRpcProto> followers = info.getRoleInfoProto().getLeaderInfo().getFollowerInfoList();
        long[] match = info.getFollowerMatchIndices();
        if (match == null || match.length != followers.size()) {
            return List.of();
        }
        List<Integer> out = new java.util.ArrayList<>();
        for (int i = 0; i < match.length; i++) {
            int id = RaftPeers.memberId(org.apache.ratis.protocol.RaftPeerId.valueOf(followers.get(i).getId().getId()));
            if (match[i] > 0 && id > 0) {
                out.add(id);
            }
        }
        out.sort(null);
        return out;
    }

    @Override
    public boolean serverDown() {
        if (server == null || closed || stateMachine == null) {
            return false;
        }
        try {
            RaftServer.Division d = division();
            return d == null || !d.getInfo().isAlive();
        } catch (RuntimeException e) {
            return true;
        }
    }

    @Override
    public void followPeers(java.util.function.LongSupplier newestPeerEpoch) {
        this.peerEpoch = java.util.Objects.requireNonNull(newestPeerEpoch);
    }

    /**
     * Asks the group for its state when a peer has shown a newer epoch than this node's for
     * {@value #AHEAD_CHECKS} poll intervals: the server learns a committed entry only from the
     * leader's next append, which can take a while (a busy leader, a follower's slow disk, and in
     * one JVM seconds), and a node behind holds the requests of the newer epoch meanwhile. The
     * newer state goes to the subscribers as a stalled server's does ({@link #catchUp}).
     */
    private void catchUpToPeers() {
        if (closed || stateMachine == null || held != null) {
            return;
        }
        ClusterState known = current();
        if (peerEpoch.getAsLong() <= known.epoch()) {
            aheadChecks = 0;
            return;
        }
        if (++aheadChecks < AHEAD_CHECKS) {
            return;
        }
        aheadChecks = 0;
        ClusterState newer = newerThan(known);
        if (newer != null) {
            log.atDebug().addKeyValue("node", self.id()).addKeyValue("from", known.epoch()).addKeyValue("to", newer.epoch())
                    .log("caught up with the epoch peers showed by asking the group");
            follow(newer);
        }
    }

    /**
     * A member with a log server applies every entry itself, but should its server stop receiving
     * or applying them while the group goes on (CI saw a voter promoted from listener stay 124
     * epochs behind the others), it would hold every partition move's barrier forever: the moves
     * wait for every member to have applied each step. So a server whose applied epoch stood still
     * for {@value #STALL_CHECKS} election timeouts asks the group for a newer state, and when there
     * is one, hands it to the subscribers (the node routes by it; epochs may be skipped, as for a
     * polling member) until the server catches up. (A member still waiting to be added to the
     * group follows the same way.)
     */
    private void catchUp() {
        if (closed || stateMachine == null || held != null) {
            return;
        }
        long applied = stateMachine.current().epoch();
        if (applied != appliedAtLastCheck) {
            appliedAtLastCheck = applied;
            unchangedChecks = 0;
            stalled = false;
            return;
        }
        if (++unchangedChecks < STALL_CHECKS) {
            return;
        }
        ClusterState known = current();
        ClusterState newer = newerThan(known);
        if (newer == null) {
            return;
        }
        if (!stalled) {
            stalled = true;
            log.atWarn().addKeyValue("node", self.id()).addKeyValue("appliedEpoch", applied).addKeyValue("groupEpoch", newer.epoch())
                    .log("this node's metadata log server stopped applying entries while the group went on; following the group by polling");
        }
        follow(newer);
    }

    /** Routes by {@code newer}, a state asked of the group rather than applied by this node's own server. */
    private void follow(ClusterState newer) {
        polled = newer;
        publisher.publish(newer);
    }

    /** The group's state if it is newer than {@code known} (a read-only query the leader answers), else null. */
    private ClusterState newerThan(ClusterState known) {
        try {
            RaftClient client = clients.client(contacts(known));
            RaftClientReply reply = client.io().sendReadOnly(Message.valueOf(UnsafeByteOperations.unsafeWrap(LogMessages.stateQuery(known.epoch()))));
            if (!reply.isSuccess()) {
                log.debug("metadata poll refused: {}", String.valueOf(reply.getException()));
                return null;
            }
            ClusterState newer = LogMessages.decodeStateAnswer(reply.getMessage().getContent().toByteArray());
            return newer != null && newer.epoch() > known.epoch() ? newer : null;
        } catch (IOException e) {
            log.debug("metadata poll failed: {}", e.toString());
        } catch (LogMessages.MalformedReplyException e) {
            log.warn("metadata poll: {}", e.getMessage());
        } catch (IllegalStateException closing) {
            // The clients were closed under us.
        }
        return null;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        clients.close();
        scheduler.shutdownNow();
        calls.shutdownNow();
        RaftServer s = server;
        if (s != null) {
            try {
                s.close();
            } catch (IOException e) {
                log.warn("closing the metadata log server: {}", e.toString());
            }
        }
        try {
            calls.awaitTermination(CLOSE_WAIT_MILLIS, TimeUnit.MILLISECONDS);
            scheduler.awaitTermination(CLOSE_WAIT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (CompletableFuture<?> f : List.copyOf(pending)) {
            f.completeExceptionally(new MetadataUnavailableException("the metadata log on this node is closed", null));
        }
        publisher.close();
    }
}
