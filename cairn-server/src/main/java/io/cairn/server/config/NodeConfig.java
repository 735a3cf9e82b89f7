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
        Audit audit) {

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
                          io.cairn.request.Quorum readQuorum, io.cairn.request.Quorum writeQuorum,
                          Duration requestTimeout, Duration readRepairTimeout, Duration heartbeatInterval,
                          Double phiThreshold, Duration maxClockOffset, Duration hintWindow, Duration hintReplayInterval, int hintReplayBatch, int hintReplayRate,
                          boolean sloppyQuorum, boolean faultInjection, int shards, java.nio.file.Path tlsDir) {
        public boolean enabled() {
            return !members.isEmpty();
        }
    }

    /** TTL defaults and the expiry sweeper. */
    public record Ttl(Duration defaultTtl, Duration sweepInterval, int sweepBatchSize, Duration purgeGrace) {}
}
