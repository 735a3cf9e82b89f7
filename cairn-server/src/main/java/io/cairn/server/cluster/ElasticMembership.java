package io.cairn.server.cluster;

import io.cairn.cluster.Proposer;
import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.membership.Member;
import io.cairn.membership.Membership;
import io.cairn.metadata.ClusterMetadata;
import io.cairn.metadata.ClusterState;
import io.cairn.metadata.MetadataCodec;
import io.cairn.metadata.MetadataCommand;
import io.cairn.metadata.NodeState;
import io.cairn.server.config.NodeConfig;
import io.cairn.server.metadata.MetadataLog;
import io.cairn.server.metadata.MetadataSettings;
import io.cairn.server.metadata.MetadataUnavailableException;
import io.cairn.server.metadata.RatisMetadataLog;
import io.cairn.server.service.MembershipAdmin;
import io.cairn.cluster.MoveStats;
import io.cairn.metadata.Assignment;
import io.cairn.metadata.MemberRecord;
import io.cairn.metadata.Plan;
import io.cairn.placement.PartitionMap;
import io.cairn.placement.Quorum;
import io.cairn.namespace.NamespaceSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cluster node's side of the metadata log: opens it (a new cluster's first epoch from the static
 * member list, a joining node's from the member it joins through, a restarted node's from its own
 * storage), hands the cluster core each new membership, carries the core's reports and the
 * operators' commands to the log, and says whether this node is still a member.
 *
 * <p>The first epoch's state is kept in {@code <dataDir>/metadata/bootstrap.state}: every node
 * replays the log from the same state, and a node that joined has no static list to compute it
 * from.
 *
 * <p><b>Settings every member must share</b> ({@link NodeConfig#clusterWideSettings}) live in the
 * log too. The members that start a new cluster offer theirs as its first record; the first offer
 * the log applies is the cluster's, and {@code PUT /admin/cluster/settings} changes it (or makes
 * the first record, in a cluster an earlier release started). Every node
 * keeps the newest record it applied in {@code <dataDir>/metadata/cluster.settings} and runs with
 * those values from its next start on, whatever its own configuration says (the configuration
 * only seeds a new cluster); a joining node takes the cluster's from the member it joins through.
 * A running node whose values differ from the log's (a change since it started) says so
 * ({@link #settingsView}) until it restarts.
 */
public final class ElasticMembership implements AutoCloseable, MembershipAdmin {
    private static final Logger log = LoggerFactory.getLogger(ElasticMembership.class);
    private static final String BOOTSTRAP_FILE = "bootstrap.state";
    private static final String SETTINGS_FILE = "cluster.settings";
    /**
     * Present while this node, one of the members that started a new cluster, offers its settings
     * as the cluster's first record. A cluster started by an earlier release gets its record from
     * an operator's first change instead: its members may still run a release that cannot read the
     * entry, and one that refused an entry the others applied would count epochs apart from them.
     */
    private static final String OFFER_FILE = "settings.offer";
    /** How often a member whose log has no record of the settings yet offers its own again. */
    private static final Duration SETTINGS_RETRY = Duration.ofSeconds(2);
    /**
     * How long a joining node keeps asking the log to register it while the log has no leader
     * that commits (an election under way, a loaded machine), and then waits for its copy of the
     * log to list it.
     */
    private static final Duration JOIN_CATCH_UP = Duration.ofSeconds(60);

    private final int self;
    private final MetadataLog metadata;
    private final ClusterState bootstrap;
    private final Duration timeout;
    /** This node's values of the settings every member must share, as it runs with them. */
    private final Map<String, String> clusterWideSettings;
    private final NodeConfig config;
    private final Path settingsFile;
    private final ReportBatcher reports;
    private final java.util.concurrent.ScheduledExecutorService settingsOffers;
    private final java.util.concurrent.atomic.AtomicBoolean offering = new java.util.concurrent.atomic.AtomicBoolean();
    /** How this node's running values differ from the log's record, one line per setting; guarded by {@code this}. */
    private List<String> settingsDifferences = List.of();
    /** The record last kept in {@link #settingsFile}; guarded by {@code this}. */
    private Map<String, String> settingsKept;
    private final Path offerFile;
    /** Whether {@link #offerFile} is there: looked at once, then touched only on the log's publisher thread. */
    private boolean offerPending;
    private volatile ClusterDriver driver;
    // When the running plan was first seen here, and how many partitions moved then (for the ETA).
    private volatile long planSeenAtMillis;
    private volatile long planSeenId;
    private volatile int planSeenMoving;

    private ElasticMembership(NodeConfig config, MetadataLog metadata, ClusterState bootstrap, Path settingsFile, Map<String, String> kept) {
        this.self = config.nodeId();
        this.config = config;
        this.metadata = metadata;
        this.bootstrap = bootstrap;
        this.timeout = config.elastic().metadataTimeout();
        this.clusterWideSettings = java.util.Collections.unmodifiableSortedMap(config.clusterWideSettings());
        this.settingsFile = settingsFile;
        this.settingsKept = Map.copyOf(kept);
        this.offerFile = settingsFile.resolveSibling(OFFER_FILE);
        this.offerPending = Files.exists(offerFile);
        this.reports = new ReportBatcher(this::submitReport, config.elastic().moveReportInterval().toMillis());
        this.settingsOffers = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("cairn-settings-offer").daemon().factory());
    }

    /**
     * The configuration this node runs with: its own, with the cluster's values of the settings
     * every member must share (from the log's record this node kept, or the member a joining node
     * joined through).
     */
    public NodeConfig config() {
        return config;
    }

    /** Whether this node's cluster changes membership through the metadata log (every member has a metadata address). */
    public static boolean configured(NodeConfig config) {
        List<Member> members = config.cluster().members();
        return !members.isEmpty() && members.stream().allMatch(Member::metadataVoter);
    }

    /**
     * Opens the log and waits until this node is a member of the state it follows: at once for a
     * member of the static list or a restarted node, after its join was applied for a joining one.
     *
     * @param adminToken the node's admin credential, sent to the member a joining node asks for the
     *                   cluster's first epoch (null when authentication is off)
     * @param tls        the node's checked TLS material for the log's gRPC ({@link io.cairn.server.metadata.MetadataTls#load})
     */
    public static ElasticMembership open(NodeConfig given, int partitions, Path adminToken, io.cairn.server.metadata.MetadataTls tls) {
        NodeConfig.Cluster c = given.cluster();
        Member self = c.members().stream().filter(m -> m.id() == given.nodeId()).findFirst().orElseThrow();
        Path dir = given.dataDir().resolve("metadata");
        Path file = dir.resolve(BOOTSTRAP_FILE);
        Path settingsFile = dir.resolve(SETTINGS_FILE);
        ClusterState bootstrap;
        Map<String, String> kept;
        // This start joins through a member, on a data directory that never held the log.
        boolean joining = false;
        // A joining node's first contacts in the metadata group: the member it joins through knows them now.
        List<Member> joinContacts = List.of();
        try {
            Files.createDirectories(dir);
            kept = readSettings(settingsFile);
            if (Files.exists(file)) {
                bootstrap = MetadataCodec.decodeState(Files.readAllBytes(file));
            } else {
                if (given.elastic().joining()) {
                    Joining through = fetchBootstrap(given.elastic().join(), adminToken, c.tlsDir().resolve("ca.crt"),
                            given.elastic().metadataTimeout());
                    bootstrap = through.state();
                    joinContacts = through.contacts().stream().filter(m -> m.id() != self.id()).toList();
                    joining = true;
                    if (!through.settings().isEmpty()) {
                        kept = through.settings();
                        writeSettings(settingsFile, kept);
                    }
                } else {
                    refuseIfDiskLost(given, self, adminToken);
                    bootstrap = ClusterState.bootstrap(c.members(), partitions, c.replicationFactor());
                    Files.write(dir.resolve(OFFER_FILE), new byte[0]);
                }
                Path tmp = dir.resolve(BOOTSTRAP_FILE + ".tmp");
                Files.write(tmp, MetadataCodec.encode(bootstrap));
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot keep the metadata log's first epoch in " + file + ": " + e.getMessage(), e);
        } catch (MetadataCodec.MetadataCodecException e) {
            throw new IllegalStateException(file + " is damaged (" + e.getMessage() + "); restore it from another member's data directory", e);
        }
        if (bootstrap.partitions() != partitions) {
            throw new IllegalStateException("the cluster has " + bootstrap.partitions() + " partitions; this node is built for " + partitions);
        }
        if (bootstrap.replicationFactor() != c.replicationFactor()) {
            // The metadata's is the one every node places and counts quorums by; the setting only
            // seeds a new cluster's first epoch.
            log.atWarn().addKeyValue("cluster", bootstrap.replicationFactor()).addKeyValue("setting", c.replicationFactor())
                    .log("cluster.replicationFactor differs from the cluster's; the cluster's replication factor is used");
        }
        NodeConfig config = runningWith(given, kept, settingsFile);
        List<Member> voters = bootstrap.members().stream().map(m -> m.member()).filter(Member::metadataVoter).toList();
        MetadataSettings settings = MetadataSettings.defaults().withRequestTimeout(config.elastic().metadataTimeout())
                .withMaxVoters(config.elastic().metadataVoters());
        RatisMetadataLog metadata = new RatisMetadataLog(self, voters, joinContacts, dir.resolve("log"), bootstrap, settings, tls);
        ElasticMembership elastic = new ElasticMembership(config, metadata, bootstrap, settingsFile, kept);
        try {
            metadata.start();
            // A joining node always asks: what it fetched is the cluster's first epoch, where an id
            // of the first member list is present whatever became of it since (removed, or in use
            // by a node at other addresses). The log refuses those (ids are never reused); the
            // same member again is a retried join and changes nothing.
            if (joining || metadata.current().member(self.id()).isEmpty()) {
                List<Member> asked = new ArrayList<>(joinContacts);
                voters.stream().filter(v -> v.id() != self.id() && asked.stream().noneMatch(a -> a.id() == v.id())).forEach(asked::add);
                elastic.join(self, tls == null ? null : () -> certificateRefusal(tls, asked));
            }
            metadata.subscribe(elastic::settingsApplied);
        } catch (IOException e) {
            elastic.close();
            throw new UncheckedIOException("cannot start the metadata log: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            elastic.close();
            if (joining) {
                // Not a member: a later start on this directory must ask to join again, not
                // take the first epoch it fetched for its own.
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // The start fails either way; the message below names the cause.
                }
            }
            throw e;
        }
        return elastic;
    }

    /**
     * {@code given} with the cluster's values of the settings every member must share, when this
     * node kept a record of them ({@code kept}); refused when they break one of this release's rules.
     */
    private static NodeConfig runningWith(NodeConfig given, Map<String, String> kept, Path from) {
        if (kept.isEmpty()) {
            return given;
        }
        List<String> differences = NodeConfig.clusterWideDifferences(given.clusterWideSettings(), kept, "the cluster");
        if (differences.isEmpty()) {
            return given;
        }
        NodeConfig running;
        try {
            running = io.cairn.server.config.ConfigLoader.withClusterSettings(given, kept);
        } catch (io.cairn.server.config.ConfigException e) {
            throw new IllegalStateException("the cluster's settings (" + from + ") do not hold on this node: " + String.join("; ", e.problems()), e);
        }
        log.atWarn().addKeyValue("differences", String.join("; ", differences))
                .log("this node's configuration differs from the cluster's settings; it runs with the cluster's (change them with PUT"
                        + " /admin/cluster/settings)");
        return running;
    }

    /** The record of the cluster's settings this node kept ({@code name=value} lines), or an empty map when it kept none. */
    private static Map<String, String> readSettings(Path file) throws IOException {
        if (!Files.exists(file)) {
            return Map.of();
        }
        java.util.SortedMap<String, String> out = new java.util.TreeMap<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw new IllegalStateException(file + " is damaged (line '" + line + "'); remove it to take the cluster's settings"
                        + " from the metadata log again");
            }
            out.put(line.substring(0, eq), line.substring(eq + 1));
        }
        String problem = ClusterMetadata.settingsProblem(out);
        if (problem != null) {
            throw new IllegalStateException(file + " is damaged (" + problem + "); remove it to take the cluster's settings from the"
                    + " metadata log again");
        }
        return out;
    }

    private static void writeSettings(Path file, Map<String, String> settings) throws IOException {
        StringBuilder text = new StringBuilder();
        new java.util.TreeMap<>(settings).forEach((name, value) -> text.append(name).append('=').append(value).append('\n'));
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (java.nio.channels.FileChannel out = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.TRUNCATE_EXISTING, java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer bytes = StandardCharsets.UTF_8.encode(text.toString());
            while (bytes.hasRemaining()) {
                out.write(bytes);
            }
            out.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Every applied state, on the log's publisher thread: keeps the cluster's record of its
     * settings for this node's next start, notes how this node's running values differ from it,
     * and offers this node's own while the log has none.
     */
    private void settingsApplied(ClusterState state) {
        Map<String, String> recorded = state.settings();
        if (recorded.isEmpty()) {
            if (offerPending) {
                offerSettings();
            }
            return;
        }
        if (offerPending) {
            offerPending = false;
            try {
                Files.deleteIfExists(offerFile);
            } catch (IOException e) {
                // Harmless: an offer once a record exists changes nothing.
            }
        }
        List<String> differences = NodeConfig.clusterWideDifferences(clusterWideSettings, recorded, "the cluster");
        boolean changed;
        synchronized (this) {
            if (!recorded.equals(settingsKept)) {
                try {
                    writeSettings(settingsFile, recorded);
                    settingsKept = Map.copyOf(recorded);
                } catch (IOException e) {
                    // Kept again with the next state; until then a restart runs with the record before.
                    log.atError().addKeyValue("file", settingsFile).addKeyValue("cause", e.getMessage())
                            .log("cannot keep the cluster's settings for this node's next start");
                }
            }
            changed = !differences.equals(settingsDifferences);
            settingsDifferences = List.copyOf(differences);
        }
        if (changed && !differences.isEmpty()) {
            log.atWarn().addKeyValue("epoch", state.epoch()).addKeyValue("differences", String.join("; ", differences))
                    .log("the cluster's settings differ from the ones this node runs with; it takes them at its next start");
        }
    }

    /** Offers this node's settings as the cluster's first record, again every few seconds until the log holds one (one offer at a time). */
    private void offerSettings() {
        if (offering.compareAndSet(false, true)) {
            scheduleOffer(0);
        }
    }

    private void scheduleOffer(long delayMillis) {
        try {
            settingsOffers.schedule(() -> {
                if (!metadata.current().settings().isEmpty()) {
                    offering.set(false);
                    return;
                }
                metadata.submit(new MetadataCommand.SetSettings(new java.util.TreeMap<>(clusterWideSettings), true)).whenComplete((r, e) -> {
                    if (e == null && !r.refused() && !r.state().settings().isEmpty()) {
                        offering.set(false);
                    } else {
                        log.atDebug().addKeyValue("cause", e != null ? String.valueOf(e) : String.valueOf(r.refusal()))
                                .log("the cluster's settings are not recorded yet; offering this node's again");
                        scheduleOffer(SETTINGS_RETRY.toMillis());
                    }
                });
            }, delayMillis, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // Shutting down.
        }
    }

    /**
     * {@code GET /admin/cluster/settings}: the cluster's record (empty until its members recorded
     * it), the values this node runs with, and how they differ (a change this node takes at its next
     * start).
     */
    @Override
    public synchronized Map<String, Object> settingsView() {
        Map<String, Object> out = new LinkedHashMap<>();
        ClusterState s = state();
        out.put("epoch", s.epoch());
        out.put("cluster", s.settings());
        out.put("node", clusterWideSettings);
        out.put("restartNeeded", !settingsDifferences.isEmpty());
        out.put("differences", settingsDifferences);
        return out;
    }

    /**
     * Changes some of the cluster's settings (values in the settings grammar, {@code 8MiB},
     * {@code 2d}): checked by this node's rules as if every member ran with them, then recorded in
     * their canonical form as one log entry. Each member takes them at its next start.
     *
     * @throws IllegalArgumentException naming the problems, when a name is not a shared setting or a value breaks a rule
     */
    @Override
    public CompletableFuture<ClusterMetadata.Result> changeSettings(Map<String, String> changes) {
        CairnException removed = removedRefusal();
        if (removed != null) {
            return CompletableFuture.failedFuture(removed);
        }
        List<String> problems = new ArrayList<>();
        for (String name : changes.keySet()) {
            if (!clusterWideSettings.containsKey(name)) {
                problems.add(name + ": not a setting every member shares (those are " + String.join(", ", clusterWideSettings.keySet()) + ")");
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
        java.util.SortedMap<String, String> record = new java.util.TreeMap<>(clusterWideSettings);
        record.putAll(state().settings());
        NodeConfig proposed;
        try {
            proposed = io.cairn.server.config.ConfigLoader.withClusterSettings(
                    io.cairn.server.config.ConfigLoader.withClusterSettings(config, record), changes);
        } catch (io.cairn.server.config.ConfigException e) {
            throw new IllegalArgumentException(String.join("; ", e.problems()), e);
        }
        java.util.SortedMap<String, String> canonical = new java.util.TreeMap<>();
        changes.keySet().forEach(name -> canonical.put(name, proposed.clusterWideSettings().get(name)));
        if (!state().settings().isEmpty()) {
            return metadata.submit(new MetadataCommand.SetSettings(canonical, false));
        }
        // No record yet (a cluster started by an earlier release): this change makes the first,
        // from this node's values and the change; a member's offer that got there first is merged into.
        java.util.SortedMap<String, String> first = new java.util.TreeMap<>(clusterWideSettings);
        first.putAll(canonical);
        return metadata.submit(new MetadataCommand.SetSettings(first, true)).thenCompose(r -> r.refused()
                || r.state().settings().entrySet().containsAll(canonical.entrySet()) ? CompletableFuture.completedFuture(r)
                : metadata.submit(new MetadataCommand.SetSettings(canonical, false)));
    }

    /**
     * Asks the log to register this node, then waits until this node's copy of the log lists it.
     * While another membership change runs (a node started at the same moment, a decommission),
     * the log refuses the join; it is asked again every few seconds for up to {@code
     * metadata.joinWait}, so nodes started together (a scale-up) register one after the other
     * instead of all but one exiting.
     *
     * @param refusal why the log's members refuse this node's TLS (or it theirs), or null when
     *                none does; asked once, after the log first failed to answer (null: not asked)
     */
    private void join(Member self, java.util.function.Supplier<String> refusal) {
        // A join is idempotent (the same member again changes nothing), so one the log could not
        // commit in time is asked again, until JOIN_CATCH_UP has passed.
        long deadline = System.nanoTime() + JOIN_CATCH_UP.toNanos();
        long waitDeadline = System.nanoTime() + config.elastic().joinWait().toNanos();
        long waitedFor = -1;
        boolean probed = refusal == null;
        ClusterMetadata.Result r;
        while (true) {
            try {
                r = await(metadata.submit(new MetadataCommand.Join(self)), timeout, "join the cluster");
            } catch (IllegalStateException e) {
                if (!(e.getCause() instanceof MetadataUnavailableException)) {
                    throw e;
                }
                if (!probed) {
                    // The log's client says only that no leader answered. A certificate the
                    // members refuse is not fixed by asking again: say so at once.
                    probed = true;
                    String refused = refusal.get();
                    if (refused != null) {
                        throw new IllegalStateException("could not join the cluster: " + refused, e);
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                log.atWarn().addKeyValue("node", self.id()).log("{}; asking again", e.getMessage());
                pause(1_000);
                continue;
            }
            boolean anotherChange = r.refused() && r.refusal().kind() == ClusterMetadata.Refusal.Kind.CONFLICT
                    && r.state().plan() != null && !r.state().plan().cancelled();
            if (!anotherChange || System.nanoTime() > waitDeadline) {
                break;
            }
            if (waitedFor != r.state().plan().id()) {
                waitedFor = r.state().plan().id();
                log.atWarn().addKeyValue("node", self.id()).addKeyValue("plan", waitedFor).log("{}; asking again every 5 s for up to"
                        + " metadata.joinWait ({})", r.refusal().message(), config.elastic().joinWait());
            }
            pause(5_000);
        }
        if (r.refused()) {
            throw new IllegalStateException("the cluster refused this node's join: " + r.refusal().message());
        }
        long epoch = r.state().epoch();
        await(metadata.awaitEpoch(epoch, JOIN_CATCH_UP), JOIN_CATCH_UP.plusSeconds(1), "receive the metadata log up to epoch " + epoch);
        log.atInfo().addKeyValue("node", self.id()).addKeyValue("epoch", epoch).log("joined the cluster; partitions move to this node");
    }

    /** How many of the log's members a joining node probes when the log does not answer it. */
    private static final int PROBED_MEMBERS = 5;

    /**
     * Why the log's members (the first {@link #PROBED_MEMBERS} of {@code members}) and this node
     * cannot talk TLS, when none of them took this node's certificate and at least one refused it
     * (or showed one from another CA); null otherwise (they took it, or are only unreachable).
     */
    static String certificateRefusal(io.cairn.server.metadata.MetadataTls tls, List<Member> members) {
        // Each reason, with the members that gave it ("node 1 at host:port"), in the order first seen.
        Map<String, List<String>> refusals = new LinkedHashMap<>();
        for (Member m : members.subList(0, Math.min(PROBED_MEMBERS, members.size()))) {
            io.cairn.server.metadata.MetadataTls.Probe p = tls.probe(m.metadataHost(), m.metadataPort(), Duration.ofSeconds(2));
            switch (p.outcome()) {
                case ACCEPTED -> {
                    return null;
                }
                case REFUSED -> refusals.computeIfAbsent(p.detail(), r -> new ArrayList<>()).add("node " + m.id() + " at " + m.metadataAddress());
                default -> log.atInfo().addKeyValue("node", m.id()).log("metadata member probe: {}", p.detail());
            }
        }
        if (refusals.isEmpty()) {
            return null;
        }
        List<String> sentences = new ArrayList<>();
        refusals.forEach((reason, who) -> sentences.add("the metadata log's members (" + String.join(", ", who) + ") " + reason));
        return String.join("; ", sentences);
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting to join the cluster", interrupted);
        }
    }

    private static <T> T await(CompletableFuture<T> f, Duration timeout, String what) {
        try {
            return f.get(timeout.toMillis() + 1_000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("could not " + what + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("could not " + what + " within " + timeout, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting to " + what, e);
        }
    }

    /** The most a member's answer with the cluster's first epoch may hold (a few KiB in practice). */
    private static final int MAX_BOOTSTRAP_BYTES = 16 << 20;

    /**
     * The cluster's first epoch, from the member a joining node was pointed at: {@code host:port}
     * (plain HTTP) or an {@code http://} or {@code https://} URL; over HTTPS the JDK's trusted CAs
     * and the cluster CA ({@code ca.crt} in the node's TLS directory) are trusted. With it, the
     * settings every member must share, which the joining node runs with whatever its own
     * configuration says (empty from a member of an earlier release).
     */
    private static Joining fetchBootstrap(String member, Path adminToken, Path clusterCa, Duration timeout) {
        com.fasterxml.jackson.databind.JsonNode answer = askBootstrap(member, adminToken, clusterCa, timeout);
        String state = answer.path("state").asText("");
        Map<String, String> theirs = new java.util.TreeMap<>();
        // A member of an earlier release sends no settings, and no contacts.
        answer.path("settings").properties().forEach(e -> theirs.put(e.getKey(), e.getValue().asText()));
        List<Member> contacts = joinContacts(answer.path("contacts"), member);
        if (state.isEmpty()) {
            throw new IllegalStateException(member + " answered without a cluster state: " + answer);
        }
        try {
            ClusterState decoded = MetadataCodec.decodeState(Base64.getDecoder().decode(state));
            String problem = ClusterMetadata.settingsProblem(theirs);
            if (problem != null) {
                throw new IllegalStateException(member + " answered damaged settings: " + problem);
            }
            return new Joining(decoded, theirs, contacts);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(member + " answered a damaged cluster state: " + e.getMessage(), e);
        }
    }

    /** {@code member}'s answer to {@code GET /admin/cluster/bootstrap}, as JSON; refused answers and unreachable members are exceptions naming it. */
    private static com.fasterxml.jackson.databind.JsonNode askBootstrap(String member, Path adminToken, Path clusterCa, Duration timeout) {
        URI uri = URI.create((member.contains("://") ? member : "http://" + member).replaceAll("/+$", "") + "/admin/cluster/bootstrap");
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(timeout).GET();
        if (adminToken != null && Files.exists(adminToken)) {
            try {
                request.header("Authorization", "Bearer " + Files.readString(adminToken, StandardCharsets.US_ASCII).strip());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the admin credential " + adminToken + ": " + e.getMessage(), e);
            }
        }
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(timeout);
        if (uri.getScheme().equals("https") && Files.exists(clusterCa)) {
            builder.sslContext(trustingAlsoThe(clusterCa));
        }
        HttpResponse<java.io.InputStream> response;
        byte[] body;
        try (HttpClient client = builder.build()) {
            response = client.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
            try (java.io.InputStream in = response.body()) {
                body = in.readNBytes(MAX_BOOTSTRAP_BYTES + 1);
            }
        } catch (IOException e) {
            // A refused connection says nothing (a null message): name its kind then.
            String why = e.getMessage() != null ? e.getMessage() : e instanceof java.net.ConnectException ? "connection refused" : e.getClass().getSimpleName();
            throw new IllegalStateException("cannot reach " + member + " to join its cluster: " + why, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while asking " + member + " for its cluster", e);
        }
        if (body.length > MAX_BOOTSTRAP_BYTES) {
            throw new IllegalStateException(member + " answered more than " + MAX_BOOTSTRAP_BYTES + " bytes when asked for its cluster");
        }
        String text = new String(body, StandardCharsets.UTF_8);
        if (response.statusCode() == 401 || response.statusCode() == 403) {
            throw new IllegalStateException(member + " refused this node's admin credential (" + response.statusCode() + "): a joining node"
                    + " needs the cluster's admin token (auth.adminTokenFile, or admin.token in the shared cluster.tls.dir)");
        }
        if (response.statusCode() != 200) {
            throw new IllegalStateException(member + " answered " + response.statusCode() + " when asked for its cluster: " + text);
        }
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(text);
        } catch (IOException e) {
            throw new IllegalStateException(member + " answered something that is not JSON when asked for its cluster: " + e.getMessage(), e);
        }
    }

    /** How long the lost-disk check waits for each member it asks (all at once). */
    static final Duration LOST_DISK_CHECK_TIMEOUT = Duration.ofSeconds(2);

    /**
     * A member of the static list whose data directory never held the log is starting for the
     * first time, or lost its disk. The second must not take its old place: its log server would
     * rejoin the group without the entries it acknowledged (which Raft does not survive in a
     * voter), and its replicas would answer with nothing in them. So it asks the other members
     * (all at once, {@link #LOST_DISK_CHECK_TIMEOUT} each) whether the log's leader has seen it
     * acknowledge entries ({@code acknowledged} in {@code GET /admin/cluster/bootstrap}), and
     * refuses to start, naming the way back ({@code replace}), if so. A first start has
     * acknowledged nothing. The check cannot see a loss when no member answers, or when the log
     * elected a leader since the node last ran (a new leader knows nothing of it yet): then the
     * node starts as before (docs/operations.md, "A node died for good").
     */
    private static void refuseIfDiskLost(NodeConfig given, Member self, Path adminToken) {
        String scheme = given.http().tls() ? "https://" : "http://";
        Path ca = given.cluster().tlsDir().resolve("ca.crt");
        List<CompletableFuture<String>> asked = new ArrayList<>();
        for (Member m : given.cluster().members()) {
            if (m.id() == self.id()) {
                continue;
            }
            asked.add(CompletableFuture.supplyAsync(() -> {
                try {
                    com.fasterxml.jackson.databind.JsonNode answer = askBootstrap(scheme + m.httpAddress(), adminToken, ca, LOST_DISK_CHECK_TIMEOUT);
                    for (com.fasterxml.jackson.databind.JsonNode id : answer.path("acknowledged")) {
                        if (id.asInt() == self.id()) {
                            return "node " + m.id() + " at " + m.httpAddress();
                        }
                    }
                } catch (RuntimeException unreachable) {
                    // Not up yet (a cluster's first start), or not answering: it tells nothing.
                }
                return null;
            }, Thread::startVirtualThread));
        }
        List<String> saw = asked.stream().map(CompletableFuture::join).filter(java.util.Objects::nonNull).toList();
        if (!saw.isEmpty()) {
            throw new IllegalStateException("node " + self.id() + " lost its data: its data directory (" + given.dataDir() + ") holds no"
                    + " metadata log, but the log's leader (" + String.join(", ", saw) + ") has seen node " + self.id()
                    + " acknowledge entries, so it ran here before. A node whose disk was lost must not take its old place (its"
                    + " replicas hold nothing and its vote in the log forgot what it acknowledged): replace it by a new node,"
                    + " 'bin/cairn membership replace " + self.id() + " --id <new id> ...', and start this machine with that id and --join"
                    + " (docs/operations.md, \"A node died for good\"); or put the lost data directory back");
        }
    }

    /** What a joining node takes from the member it joins through. */
    private record Joining(ClusterState state, Map<String, String> settings, List<Member> contacts) {}

    /** The most metadata contacts a member sends a node that joins through it (the group's voters first). */
    static final int MAX_JOIN_CONTACTS = 32;
    /** The longest metadata address accepted from a member's answer ({@code host:port}, a DNS name at most 253 characters). */
    private static final int MAX_CONTACT_ADDRESS = 261;
    private static final java.util.regex.Pattern CONTACT_ADDRESS =
            java.util.regex.Pattern.compile("(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\\[[0-9A-Fa-f:.]+\\]):[0-9]{1,5}");

    /**
     * The metadata group's members as the member a node joins through knows them ({@code contacts}
     * of its answer: {@code [{"id": 5, "metadata": "host:port"}, ...]}), checked: at most
     * {@value #MAX_JOIN_CONTACTS}, ids between 1 and 65535 and each once, {@code host:port}
     * addresses. Empty when the answer has none (a member of an earlier release). Only a contact's id
     * and metadata address are known (and used, by the log's client); its zone is a placeholder.
     *
     * @throws IllegalStateException naming {@code member}, when the contacts are malformed
     */
    static List<Member> joinContacts(com.fasterxml.jackson.databind.JsonNode contacts, String member) {
        if (contacts.isMissingNode() || contacts.isNull()) {
            return List.of();
        }
        if (!contacts.isArray()) {
            throw new IllegalStateException(member + " answered malformed metadata contacts (not a list)");
        }
        if (contacts.size() > MAX_JOIN_CONTACTS) {
            throw new IllegalStateException(member + " answered " + contacts.size() + " metadata contacts; at most " + MAX_JOIN_CONTACTS
                    + " are accepted");
        }
        List<Member> out = new ArrayList<>();
        Set<Integer> ids = new java.util.HashSet<>();
        for (com.fasterxml.jackson.databind.JsonNode c : contacts) {
            com.fasterxml.jackson.databind.JsonNode id = c.path("id");
            com.fasterxml.jackson.databind.JsonNode address = c.path("metadata");
            if (!c.isObject() || !id.isInt() || id.intValue() < 1 || id.intValue() > 65_535 || !ids.add(id.intValue())) {
                throw new IllegalStateException(member + " answered a malformed metadata contact (an object of a new id between 1 and"
                        + " 65535 and a metadata address): " + abbreviate(c.toString()));
            }
            String a = address.isTextual() ? address.textValue() : "";
            int port = -1;
            if (a.length() <= MAX_CONTACT_ADDRESS && CONTACT_ADDRESS.matcher(a).matches()) {
                port = Integer.parseInt(a.substring(a.lastIndexOf(':') + 1));
            }
            if (port < 1 || port > 65_535) {
                throw new IllegalStateException(member + " answered a malformed metadata address for node " + id.intValue()
                        + " (host:port): " + abbreviate(address.toString()));
            }
            out.add(new Member(id.intValue(), "contact", "", "", a));
        }
        return List.copyOf(out);
    }

    private static String abbreviate(String text) {
        return text.length() <= 200 ? text : text.substring(0, 200) + "...";
    }

    /** TLS trusting the JDK's CAs and the cluster CA's certificates. */
    private static javax.net.ssl.SSLContext trustingAlsoThe(Path caPem) {
        try {
            java.security.KeyStore trust = java.security.KeyStore.getInstance(java.security.KeyStore.getDefaultType());
            trust.load(null, null);
            int i = 0;
            for (java.security.cert.X509Certificate c : io.cairn.server.security.Pem.readCertificates(caPem)) {
                trust.setCertificateEntry("cluster-ca-" + i++, c);
            }
            javax.net.ssl.TrustManagerFactory system = javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
            system.init((java.security.KeyStore) null);
            for (javax.net.ssl.TrustManager tm : system.getTrustManagers()) {
                if (tm instanceof javax.net.ssl.X509TrustManager x) {
                    for (java.security.cert.X509Certificate c : x.getAcceptedIssuers()) {
                        trust.setCertificateEntry("system-" + i++, c);
                    }
                }
            }
            javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (java.security.GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot trust the cluster CA " + caPem + ": " + e.getMessage(), e);
        }
    }

    /** What nodes route by now. */
    public Membership membership() {
        return metadata.current().membership();
    }

    public ClusterState state() {
        return metadata.current();
    }

    /** The cluster's first epoch, base64 of its binary form, for a node that joins through this one. */
    public String bootstrapBase64() {
        return Base64.getEncoder().encodeToString(MetadataCodec.encode(bootstrap));
    }

    /**
     * Where the core's moves report: to the log, fire and forget (a lost report is sent again),
     * gathered into at most one entry per plan and kind each {@code moves.reportInterval}.
     */
    public Proposer proposer() {
        return reports;
    }

    private void submitReport(MetadataCommand command) {
        metadata.submit(command).whenComplete((r, e) -> {
            if (e != null) {
                log.atDebug().addKeyValue("command", command).addKeyValue("cause", String.valueOf(e)).log("metadata report not applied; it is sent again");
            }
        });
    }

    /** Completes once this node applied epoch {@code epoch} (or a newer one). */
    public CompletableFuture<ClusterState> awaitApplied(long epoch, java.time.Duration timeout) {
        return metadata.awaitEpoch(epoch, timeout);
    }

    // Whether the log line saying this node was removed was written (on the publisher thread only).
    private boolean toldRemoved;

    /** Hands {@code driver} every newer membership, in order, on the log's publisher thread. */
    public void follow(ClusterDriver driver) {
        this.driver = driver;
        driver.metadataFault(metadata::cut);
        metadata.followPeers(driver::newestPeerEpoch);
        metadata.subscribe(state -> {
            if (state.epoch() > driver.epoch()) {
                driver.applyMembership(state.membership());
            }
            if (listedRemoved(state) && !toldRemoved) {
                toldRemoved = true; // Once: every later epoch would say it again.
                log.atWarn().addKeyValue("node", self).addKeyValue("epoch", state.epoch())
                        .log("this node was removed from the cluster; it serves nothing any more and can be shut down");
            }
        });
    }

    /** Whether this node's metadata log server should run and does not ({@link MetadataLog#serverDown}). */
    public boolean metadataServerDown() {
        return metadata.serverDown();
    }

    /** Whether the log does not list this node as a member: removed (decommissioned, removed or replaced), or not registered yet. */
    public boolean removed() {
        return metadata.current().member(self).map(m -> m.state() == NodeState.REMOVED).orElse(true);
    }

    /** Whether the log lists this node as removed (decommissioned, removed or replaced); not while a joining node is not listed yet. */
    public boolean removedFromCluster() {
        return listedRemoved(state());
    }

    /**
     * An operator's change (membership, namespaces, settings) asked of this node. A node the log
     * lists as removed (decommissioned, removed or replaced) takes none: it is no longer part of the
     * cluster, and the machine may be on its way out with its credentials still on disk.
     */
    @Override
    public CompletableFuture<ClusterMetadata.Result> change(MetadataCommand command) {
        CairnException removed = removedRefusal();
        return removed != null ? CompletableFuture.failedFuture(removed) : metadata.submit(command);
    }

    /** Whether {@code s} lists this node as removed (decommissioned, removed or replaced); not when it does not list it yet. */
    private boolean listedRemoved(ClusterState s) {
        return s.member(self).map(m -> m.state() == NodeState.REMOVED).orElse(false);
    }

    /** The refusal of an operator's change asked of this node once the log lists it as removed; null while it is not. */
    private CairnException removedRefusal() {
        ClusterState s = state();
        if (!listedRemoved(s)) {
            return null;
        }
        List<String> members = s.activeMembers().stream().limit(3).map(Member::httpAddress).toList();
        return new CairnException(ErrorCode.NOT_A_MEMBER, "node " + self + " was removed from the cluster (epoch " + s.epoch()
                + "); it changes nothing of the cluster any more: send the change to a member" + (members.isEmpty() ? "" : ", such as "
                + String.join(", ", members)));
    }

    @Override
    public CompletableFuture<ClusterMetadata.Result> operatorChange(MetadataCommand command, boolean force) {
        CairnException removed = removedRefusal();
        if (removed != null) {
            return CompletableFuture.failedFuture(removed);
        }
        ClusterMetadata.Refusal refusal = ClusterMetadata.preflight(command, this::heard, force);
        return refusal != null ? CompletableFuture.completedFuture(new ClusterMetadata.Result(state(), refusal)) : change(command);
    }

    /**
     * Whether {@code node} is this node, or a peer some shard's failure detector still counts alive,
     * by the periodic snapshot (at most about a second old; the same {@code up} the membership view
     * shows): the admin routes run on an event loop, which must not wait on the cores.
     */
    private boolean heard(int node) {
        ClusterDriver d = driver;
        return node == self || (d != null && Boolean.FALSE.equals(d.snapshot().down().get(node)));
    }

    /** The cluster's record of the settings every member must share, or this node's while the log has none. */
    @Override
    public Map<String, String> clusterWideSettings() {
        Map<String, String> recorded = state().settings();
        return recorded.isEmpty() ? clusterWideSettings : recorded;
    }

    @Override
    public String bootstrap() {
        return bootstrapBase64();
    }

    /**
     * The members of the metadata group a node joining through this one asks to register it (see
     * {@link #joinContacts(com.fasterxml.jackson.databind.JsonNode, String)}): the active members with a
     * metadata address as this node knows them now, the group's voters in this node's view first,
     * at most {@value #MAX_JOIN_CONTACTS}. The joining node's own state is the cluster's first epoch,
     * whose voters may all have left since.
     */
    @Override
    public List<Map<String, Object>> joinContacts() {
        List<Member> members = state().activeMembers().stream().filter(Member::metadataVoter).toList();
        Set<Integer> voters = new java.util.HashSet<>(groupVoters(metadata.group()));
        List<Map<String, Object>> out = new ArrayList<>();
        for (boolean votersFirst : new boolean[] {true, false}) {
            for (Member m : members) {
                if (voters.contains(m.id()) == votersFirst && out.size() < MAX_JOIN_CONTACTS) {
                    Map<String, Object> c = new LinkedHashMap<>();
                    c.put("id", m.id());
                    c.put("metadata", m.metadataAddress());
                    out.add(c);
                }
            }
        }
        return out;
    }

    @Override
    public List<Integer> acknowledgedLog() {
        return groupIds(metadata.group(), "acknowledged");
    }

    @Override
    public Set<Integer> nodesInZone(String zone) {
        Set<Integer> ids = new TreeSet<>();
        for (Member m : state().activeMembers()) {
            if (m.zone().equals(zone)) {
                ids.add(m.id());
            }
        }
        return ids;
    }

    @Override
    public Set<Integer> activeMembers() {
        Set<Integer> ids = new TreeSet<>();
        state().activeMembers().forEach(m -> ids.add(m.id()));
        return ids;
    }

    @Override
    public Map<String, Object> membershipView() {
        ClusterState s = state();
        return noteIfRemoved(membershipView(s), s);
    }

    /**
     * A view of this node's at {@code s}, marked when {@code s} lists the node as removed: it takes part in nothing,
     * the log's group no longer sends it entries (it may lag the cluster), and an operator reading
     * it must not take it for a member's.
     */
    private Map<String, Object> noteIfRemoved(Map<String, Object> view, ClusterState s) {
        if (listedRemoved(s)) {
            view.put("removedFromCluster", true);
            view.put("note", "node " + self + " was removed from the cluster (decommissioned, removed or replaced) and takes part in"
                    + " nothing: this view may lag the cluster's; ask a member");
        }
        return view;
    }

    @Override
    public Map<String, Object> membershipView(ClusterState s) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("epoch", s.epoch());
        out.put("replicationFactor", s.replicationFactor());
        out.put("partitions", s.partitions());
        List<Map<String, Object>> members = new ArrayList<>();
        for (MemberRecord m : s.members()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("id", m.id());
            e.put("zone", m.member().zone());
            e.put("state", m.state().name().toLowerCase());
            // As this node's failure detector hears it (what remove and replace check); null for a former member.
            e.put("up", m.state().active() ? heard(m.id()) : null);
            e.put("http", m.member().httpAddress());
            e.put("internode", m.member().internodeAddress());
            e.put("metadata", m.member().metadataAddress());
            long owned = s.assignments().stream().filter(a -> Assignment.class.cast(a).owners().length > 0
                    && java.util.Arrays.stream(a.readsNext() ? a.next() : a.owners()).anyMatch(x -> x == m.id())).count();
            e.put("partitions", owned);
            members.add(e);
        }
        out.put("members", members);
        out.put("change", plan(s));
        // The metadata log's own group (Raft voters and listeners), as this node's log server sees it.
        out.put("metadataGroup", metadata.group());
        return out;
    }

    private static Map<String, Object> plan(ClusterState s) {
        Plan p = s.plan();
        if (p == null) {
            return null;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", p.id());
        out.put("kind", p.kind().name().toLowerCase());
        out.put("node", p.subject());
        if (p.replacement() != 0) {
            out.put("replacement", p.replacement());
        }
        out.put("paused", p.paused());
        out.put("cancelled", p.cancelled());
        return out;
    }

    @Override
    public synchronized Map<String, Object> rebalanceView() {
        ClusterState s = state();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("epoch", s.epoch());
        out.put("change", plan(s));
        List<Map<String, Object>> moving = new ArrayList<>();
        int streaming = 0;
        int serving = 0;
        int streamsDone = 0;
        int streamsLeft = 0;
        for (int p = 0; p < s.partitions(); p++) {
            Assignment a = s.assignments().get(p);
            if (!a.moving()) {
                continue;
            }
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("partition", p);
            e.put("owners", a.owners());
            e.put("next", a.next());
            e.put("step", a.readsNext() ? "reads from next" : "streaming");
            e.put("streamed", a.streamed());
            e.put("sinceEpoch", a.since());
            moving.add(e);
            // Incoming replicas (in next, not among the owners) each stream the partition in.
            for (int r : a.incoming()) {
                if (a.streamedIn(r)) {
                    streamsDone++;
                } else {
                    streamsLeft++;
                }
            }
            if (a.readsNext()) {
                serving++;
            } else {
                streaming++;
            }
        }
        // Queued partitions (waiting for the window, moves.window) stream once they start.
        for (ClusterState.Queued q : s.queued()) {
            streamsLeft += s.assignments().get(q.partition()).incomingTo(q.target()).length;
        }
        int left = moving.size() + s.queued().size();
        out.put("partitionsMoving", moving.size());
        out.put("partitionsQueued", s.queued().size());
        out.put("moveWindow", ClusterMetadata.moveWindow(s));
        out.put("partitionsStreaming", streaming);
        out.put("partitionsFinishing", serving);
        out.put("streamsDone", streamsDone);
        out.put("streamsRemaining", streamsLeft);
        Plan plan = s.plan();
        long now = System.nanoTime() / 1_000_000; // monotonic: a rate, not a time of day
        if (plan != null && plan.id() != planSeenId) {
            planSeenId = plan.id();
            planSeenAtMillis = now;
            planSeenMoving = left;
        }
        planSeenMoving = Math.max(planSeenMoving, left);
        // The plan's size as this node saw it first (partitions join a plan when a remove folds in).
        out.put("partitionsInPlan", plan == null ? 0 : planSeenMoving);
        if (plan != null && planSeenMoving > left && now > planSeenAtMillis) {
            double perSecond = (planSeenMoving - left) * 1000.0 / (now - planSeenAtMillis);
            out.put("partitionsDonePerSecond", Math.round(perSecond * 1000) / 1000.0);
            out.put("etaSeconds", Math.round(left / perSecond));
        } else {
            out.put("etaSeconds", plan == null ? 0 : null);
        }
        ClusterDriver d = driver;
        if (d != null) {
            // Every shard's, taken now (or the periodic snapshot when a busy shard does not get to it).
            MoveStats m = d.freshSnapshot().moves();
            Map<String, Object> here = new LinkedHashMap<>();
            here.put("streamsRunning", m.streamsRunning());
            here.put("bytesStreamed", m.bytesStreamed());
            here.put("recordsStreamed", m.recordsStreamed());
            here.put("paxosStatesStreamed", m.statesStreamed());
            here.put("streamErrors", m.streamErrors());
            here.put("streamsCompleted", m.streamsCompleted());
            here.put("chunksServed", m.chunksServed());
            here.put("partitionsDropped", m.partitionsDropped());
            out.put("thisNode", here);
        }
        out.put("partitions", moving);
        return noteIfRemoved(out, s);
    }

    @Override
    public Map<String, Object> whatIf(Set<Integer> lost, String description) {
        ClusterState s = state();
        PartitionMap map = s.membership().map();
        int quorum = Quorum.MAJORITY.resolve(map.replicationFactor());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("lose", description);
        out.put("nodes", new TreeSet<>(lost));
        out.put("epoch", s.epoch());
        out.put("quorum", quorum);
        // Every namespace (user ones, the default one, the replicated idempotency outcomes and
        // tokens) is placed by the one partition map, so at majority quorums each is affected in
        // the same partitions; at its own default quorums, each as they ask.
        Quorum clusterReads = config.cluster().readQuorum();
        Quorum clusterWrites = config.cluster().writeQuorum();
        NamespaceSpec policy = s.defaultPolicy();
        PartitionMap.Availability majority = map.availabilityWithout(lost::contains);
        Map<String, Object> namespaces = new LinkedHashMap<>();
        namespaces.put(io.cairn.namespace.Namespace.DEFAULT_NAME, policy != null ? whatIf(map, lost, majority, policy, clusterReads, clusterWrites)
                : whatIf(map, lost, majority, io.cairn.namespace.Consistency.QUORUM, clusterReads, clusterWrites));
        for (String system : List.of("idempotency", "auth")) {
            namespaces.put(system, whatIf(map, lost, majority, io.cairn.namespace.Consistency.QUORUM, Quorum.MAJORITY, Quorum.MAJORITY));
        }
        for (NamespaceSpec spec : s.namespaces()) {
            namespaces.put(spec.name(), whatIf(map, lost, majority, spec, clusterReads, clusterWrites));
        }
        out.put("namespaces", namespaces);
        out.put("metadata", metadataWhatIf(lost));
        return out;
    }

    /**
     * The metadata log's part of the what-if: whether its voters (the group's current
     * configuration as this node's log server sees it) would keep a majority. Without one the data
     * path goes on at the last epoch, but no membership change, namespace or settings change can be
     * made until enough voters are back.
     */
    private Map<String, Object> metadataWhatIf(Set<Integer> lost) {
        Map<String, Object> group = metadata.group();
        Map<String, Object> out = new LinkedHashMap<>();
        List<Integer> voters = groupVoters(group);
        if (voters.isEmpty()) {
            out.put("known", false);
            out.put("reason", "this node's metadata log server does not know the group's voters now" + (group.containsKey("error")
                    ? " (" + group.get("error") + ")" : ""));
            return out;
        }
        List<Integer> votersLost = voters.stream().filter(lost::contains).toList();
        boolean majorityKept = voters.size() - votersLost.size() > voters.size() / 2;
        out.put("known", true);
        out.put("voters", voters);
        out.put("votersLost", votersLost);
        out.put("majorityKept", majorityKept);
        // A change of the group's voters under way: it needs a majority of the old voters too.
        out.put("votersChanging", Boolean.TRUE.equals(group.get("changing")));
        out.put("changes", majorityKept ? "possible" : "refused (503 metadata_unavailable) until a majority of the voters is back;"
                + " data keeps being served at the last epoch");
        return out;
    }

    /** The voters' ids in a {@link MetadataLog#group} view; empty when it has none. */
    private static List<Integer> groupVoters(Map<String, Object> group) {
        return groupIds(group, "voters");
    }

    /** The node ids a {@link MetadataLog#group} view lists under {@code key}; empty when it has none. */
    private static List<Integer> groupIds(Map<String, Object> group, String key) {
        List<Integer> ids = new ArrayList<>();
        if (group.get(key) instanceof List<?> listed) {
            listed.forEach(id -> {
                if (id instanceof Integer i) {
                    ids.add(i);
                }
            });
        }
        return ids;
    }

    private static Map<String, Object> whatIf(PartitionMap map, Set<Integer> lost, PartitionMap.Availability majority, NamespaceSpec spec,
                                              Quorum clusterReads, Quorum clusterWrites) {
        return whatIf(map, lost, majority, spec.consistency(), spec.readQuorum() != null ? spec.readQuorum() : clusterReads,
                spec.writeQuorum() != null ? spec.writeQuorum() : clusterWrites);
    }

    /**
     * One namespace's part of the what-if: at majority quorums ({@code majority}, the same for
     * every namespace), and at its default quorums (a serial namespace's reads and writes are
     * Paxos rounds on a majority whatever they ask).
     */
    private static Map<String, Object> whatIf(PartitionMap map, Set<Integer> lost, PartitionMap.Availability majority,
                                              io.cairn.namespace.Consistency consistency, Quorum reads, Quorum writes) {
        boolean serial = consistency == io.cairn.namespace.Consistency.SERIAL;
        Quorum r = serial ? Quorum.MAJORITY : reads;
        Quorum w = serial ? Quorum.MAJORITY : writes;
        PartitionMap.Availability defaults = map.availabilityWithout(lost::contains, r, w);
        Map<String, Object> ns = new LinkedHashMap<>();
        ns.put("consistency", consistency.label());
        ns.put("unavailableForQuorumReads", majority.noQuorumReads());
        ns.put("unavailableForQuorumWrites", majority.noQuorumWrites());
        ns.put("defaultReadQuorum", r.toString());
        ns.put("defaultWriteQuorum", w.toString());
        ns.put("unavailableForDefaultReads", defaults.noQuorumReads());
        ns.put("unavailableForDefaultWrites", defaults.noQuorumWrites());
        ns.put("underReplicated", majority.underReplicated());
        ns.put("withNoReplicaLeft", majority.noReplicaLeft());
        return ns;
    }

    @Override
    public void close() {
        settingsOffers.shutdownNow();
        reports.close();
        metadata.close();
    }
}
