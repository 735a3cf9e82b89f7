package io.cairn.server.config;

import io.cairn.request.Limits;
import io.cairn.server.http.HttpSettings;
import io.cairn.server.rocks.RocksSettings;
import io.cairn.storage.Durability;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A node's validated configuration. Built by {@link ConfigLoader} from defaults, a YAML file and
 * command-line overrides; every field is documented in docs/operations.md.
 */
public record NodeConfig(
        int nodeId,
        Path dataDir,
        boolean exitOnFatalError,
        Duration stallTimeout,
        Http http,
        Limits limits,
        Durability durability,
        RocksSettings rocks,
        Write write,
        Ttl ttl,
        Duration idempotencyRetention,
        Cluster cluster,
        Audit audit,
        Auth auth,
        AntiEntropy antiEntropy,
        Elastic elastic,
        int maxNamespaces,
        java.util.Map<String, String> settings) {

    /**
     * The settings every member of a cluster must share (docs/operations.md, "Limits to know"), by
     * setting name, in a canonical form (sizes in bytes, durations in ms). A node joining an elastic
     * cluster compares its own with the member it joins through ({@link #clusterWideDifferences})
     * and refuses to start when they differ.
     */
    public java.util.SortedMap<String, String> clusterWideSettings() {
        java.util.SortedMap<String, String> m = new java.util.TreeMap<>();
        m.put("limits.maxKeyBytes", Integer.toString(limits.maxKeyBytes()));
        m.put("limits.maxValueBytes", Integer.toString(limits.maxValueBytes()));
        m.put("limits.maxBatchOperations", Integer.toString(limits.maxBatchOperations()));
        m.put("limits.maxBatchBodyBytes", Integer.toString(limits.maxBatchBodyBytes()));
        m.put("limits.maxNamespaces", Integer.toString(maxNamespaces));
        m.put("cluster.hintWindow", cluster.hintWindow().toMillis() + "ms");
        m.put("cluster.maxClockOffset", cluster.maxClockOffset().toMillis() + "ms");
        m.put("ttl.purgeGrace", ttl.purgeGrace().toMillis() + "ms");
        m.put("metadata.voters", Integer.toString(elastic.metadataVoters()));
        m.put(io.cairn.metadata.ClusterMetadata.MOVE_WINDOW_SETTING, Integer.toString(elastic.moveWindow()));
        return m;
    }

    /**
     * Shared settings the metadata log applies itself, from the entry that records them on: a node
     * never runs with its own value of one (it only seeds a new cluster's record), so it is never a
     * difference to restart for.
     */
    public static final java.util.Set<String> APPLIED_BY_THE_LOG = java.util.Set.of(io.cairn.metadata.ClusterMetadata.MOVE_WINDOW_SETTING);

    /**
     * How {@code mine} differs from {@code theirs} ({@link #clusterWideSettings} of this node and of
     * {@code where}), one line per setting both name; empty when they agree. A setting only one side
     * names (a member of another release) is not compared.
     */
    public static java.util.List<String> clusterWideDifferences(java.util.Map<String, String> mine, java.util.Map<String, String> theirs,
                                                                String where) {
        java.util.List<String> out = new java.util.ArrayList<>();
        for (var e : new java.util.TreeMap<>(mine).entrySet()) {
            if (APPLIED_BY_THE_LOG.contains(e.getKey())) {
                continue;
            }
            String other = theirs.get(e.getKey());
            if (other != null && !other.equals(e.getValue())) {
                out.add(e.getKey() + " is " + e.getValue() + " here and " + other + " on " + where);
            }
        }
        return out;
    }

    /**
     * The metadata log and partition moves (see docs/operations.md, "Changing membership").
     *
     * @param join              HTTP host:port of any member of the cluster this node joins, or empty
     * @param metadataVoters    voters of the metadata log (3 or 5; fewer while the cluster is smaller)
     * @param metadataTimeout   how long a membership change waits for the metadata log's majority
     * @param moveConcurrency   partitions this node streams in at once
     * @param moveChunkBytes    about how many bytes one stream chunk carries
     * @param moveBytesPerSecond this node's streaming budget
     * @param moveReportInterval how often this node's move reports (streams done, finishes) may go to
     *                           the metadata log, gathered into one entry per kind; 0: each at once
     * @param joinWait          how long a joining node asks again while another change runs
     * @param moveWindow        the most partitions still to stream into one node at once, when this
     *                          node's settings seed a new cluster's record ({@code moves.window}; the
     *                          log's record is what counts, see ClusterMetadata)
     */
    public record Elastic(String join, int metadataVoters, Duration metadataTimeout, int moveConcurrency, long moveChunkBytes,
                          long moveBytesPerSecond, Duration moveReportInterval, Duration joinWait, int moveWindow) {
        public boolean joining() {
            return !join.isEmpty();
        }
    }

    /**
     * Client authentication (see docs/security.md).
     *
     * @param enabled           whether data and admin routes need a bearer token
     * @param adminTokenFile    the node's own admin credential (created at first start when absent), or null for the default
     * @param tokenCacheTtl     how long a node trusts what it read about a token: the bound on revocation
     * @param unknownCacheTtl   how long a node remembers that a token id is unknown
     * @param maxCachedTokens   the most token ids a node remembers at once
     * @param lookupTimeout     how long a request waits for its token to be read from the store
     * @param defaultTokenTtl   the life of a created token when the request gives none
     * @param maxTokenTtl       the longest life a created token may have
     * @param metricsOpen       whether {@code /metrics} answers without a token
     * @param maxConcurrentLookups         token-store reads running at once; requests needing more are shed (503)
     * @param maxAuditedRefusalsPerSecond  401/403 audit lines written per second; more are counted, not written
     */
    public record Auth(boolean enabled, Path adminTokenFile, Duration tokenCacheTtl, Duration unknownCacheTtl, int maxCachedTokens,
                       Duration lookupTimeout, Duration defaultTokenTtl, Duration maxTokenTtl, boolean metricsOpen,
                       int maxConcurrentLookups, int maxAuditedRefusalsPerSecond) {
        /** Where the admin credential is: the configured file, else {@code <tls dir>/admin.token} on a cluster when present, else {@code <dataDir>/auth/admin.token}. */
        public Path adminToken(Path dataDir, Path clusterTlsDir) {
            if (adminTokenFile != null) {
                return adminTokenFile;
            }
            if (clusterTlsDir != null && java.nio.file.Files.exists(clusterTlsDir.resolve("admin.token"))) {
                return clusterTlsDir.resolve("admin.token");
            }
            return dataDir.resolve("auth").resolve("admin.token");
        }
    }

    /** The audit log ({@code <dataDir>/audit/audit.log}): its rotation bounds. */
    public record Audit(long maxFileBytes, int maxFiles) {
        public Path dir(Path dataDir) {
            return dataDir.resolve("audit");
        }
    }

    /** The HTTP front end: where it listens, and how it bounds clients (see {@link HttpSettings}). */
    /**
     * @param tlsCert PEM certificate chain for HTTPS, or null for plain HTTP (then {@code tlsKey} is null too)
     * @param tlsKey  its PKCS#8 (or PKCS#1 RSA) PEM private key
     */
    public record Http(String host, int port, int ioThreads, HttpSettings limits, java.nio.file.Path tlsCert, java.nio.file.Path tlsKey) {
        public boolean tls() {
            return tlsCert != null;
        }
        public Duration requestTimeout() {
            return limits.requestTimeout();
        }
    }

    /** The write path's group commit and admission control. */
    public record Write(int queueCapacity, int maxGroupSize, long maxGroupBytes) {}

    /**
     * Cluster membership and replication; no members means a single node that replicates nothing.
     */
    public record Cluster(java.util.List<io.cairn.membership.Member> members, int replicationFactor,
                          io.cairn.placement.Quorum readQuorum, io.cairn.placement.Quorum writeQuorum,
                          Duration requestTimeout, Duration readRepairTimeout, Duration heartbeatInterval,
                          Double phiThreshold, Duration maxClockOffset, Duration hintWindow, Duration hintReplayInterval, int hintReplayBatch, int hintReplayRate,
                          boolean sloppyQuorum, boolean faultInjection, int shards, java.nio.file.Path tlsDir, Duration hintDelay,
                          io.cairn.cluster.PaxosSettings paxos, long behindHoldBytes) {
        public boolean enabled() {
            return !members.isEmpty();
        }
    }

    /**
     * Anti-entropy exchanges (cluster nodes) and the scrub (every node); see docs/operations.md.
     *
     * @param enabled             whether this node starts exchanges (it always answers them)
     * @param cycle               one pass over every (partition, peer) pair while trees agree
     * @param scrubBytesPerSecond how fast the scrub reads records to check their checksums and
     *                            rebuild the trees (the first build after a crash runs unthrottled
     *                            between writes)
     * @param scrubInterval       a scrub pass (over every record) starts at most this often
     * @param purgeRecheck        how long a purge the purge rule held back waits to be asked again
     */
    public record AntiEntropy(boolean enabled, Duration cycle, int maxSegmentsPerRound, int maxKeysPerRound, long maxListingBytes,
                              long maxBytesPerSecond, int maxInFlight, long scrubBytesPerSecond, Duration scrubInterval, Duration purgeRecheck) {}

    /** TTL defaults and the expiry sweeper. */
    public record Ttl(Duration defaultTtl, Duration sweepInterval, int sweepBatchSize, Duration purgeGrace) {}
}
