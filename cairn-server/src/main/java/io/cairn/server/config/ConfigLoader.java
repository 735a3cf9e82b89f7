package io.cairn.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.cairn.antientropy.SegmentTree;
import io.cairn.cluster.Shard;
import io.cairn.membership.Member;
import io.cairn.placement.Quorum;
import io.cairn.request.Limits;
import io.cairn.server.http.HttpSettings;
import io.cairn.server.rocks.RocksSettings;
import io.cairn.storage.Durability;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Builds a {@link NodeConfig} from defaults, an optional YAML file and overrides given as dotted
 * keys (from command-line flags), validating everything and reporting every problem at once.
 *
 * <p>Unknown keys are errors: a typo in a config file must not silently fall back to a default.
 */
public final class ConfigLoader {
    /** Every accepted key and its default, in documentation order. */
    public static final Map<String, String> DEFAULTS = defaults();

    private final Map<String, String> values = new LinkedHashMap<>(DEFAULTS);
    private final List<String> problems = new ArrayList<>();

    private static Map<String, String> defaults() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("node.id", "1");
        d.put("node.dataDir", "./cairn-data");
        d.put("node.exitOnFatalError", "true");
        d.put("node.stallTimeout", "5s");
        d.put("http.host", "127.0.0.1");
        d.put("http.port", "7070");
        d.put("http.ioThreads", Integer.toString(Runtime.getRuntime().availableProcessors()));
        d.put("http.maxConnections", "10000");
        d.put("http.reservedOpsConnections", "16");
        d.put("http.requestTimeout", "5s");
        d.put("http.maxHeaderBytes", "16KiB");
        d.put("http.headerTimeout", "10s");
        d.put("http.idleTimeout", "60s");
        d.put("http.slowReaderTimeout", "2s");
        d.put("http.largeRequestBytes", "64KiB");
        d.put("http.bodyTimeout", "10s");
        d.put("http.minBodyRate", "16KiB");
        d.put("http.maxPipelinedRequests", "16");
        d.put("http.maxInflightBytes", "auto");
        d.put("http.maxUnflushedBytes", "auto");
        d.put("http.maxConnectionUnflushedBytes", "1MiB");
        d.put("http.tls.cert", "");
        d.put("http.tls.key", "");
        d.put("http.tls.allowPlaintext", "false");
        d.put("limits.maxKeyBytes", "1024");
        d.put("limits.maxValueBytes", "1MiB");
        d.put("limits.maxBatchOperations", "1000");
        d.put("limits.maxBatchBodyBytes", "16MiB");
        d.put("limits.maxBatchReadBytes", "16MiB");
        d.put("limits.maxNamespaces", "256");
        d.put("storage.durability", "sync");
        d.put("storage.blockCache", "256MiB");
        d.put("storage.writeBuffer", "64MiB");
        d.put("storage.maxWriteBuffers", "4");
        d.put("storage.compactionRate", "64MiB");
        d.put("storage.backgroundJobs", "2");
        d.put("storage.asyncSyncInterval", "200ms");
        d.put("write.queueCapacity", "10000");
        d.put("write.maxGroupSize", "1024");
        d.put("write.maxGroupBytes", "16MiB");
        d.put("ttl.default", "none");
        d.put("ttl.sweepInterval", "1s");
        d.put("ttl.sweepBatchSize", "1000");
        d.put("ttl.purgeGrace", "4h");
        d.put("idempotency.retention", "24h");
        d.put("cluster.members", "");
        d.put("cluster.replicationFactor", "3");
        d.put("cluster.readQuorum", "quorum");
        d.put("cluster.writeQuorum", "quorum");
        d.put("cluster.requestTimeout", "2s");
        d.put("cluster.readRepairTimeout", "500ms");
        d.put("cluster.paxos.timeout", "4s");
        d.put("cluster.paxos.roundTimeout", "1s");
        d.put("cluster.paxos.maxBackoff", "50ms");
        d.put("cluster.paxos.hedge", "20ms");
        d.put("cluster.paxos.leaseKeys", "65536");
        d.put("cluster.heartbeatInterval", "500ms");
        d.put("cluster.phiThreshold", "8");
        d.put("cluster.maxClockOffset", "500ms");
        d.put("cluster.hintWindow", "3h");
        d.put("cluster.hintDelay", "100ms");
        d.put("cluster.behindHoldBytes", "4MiB");
        d.put("cluster.hintReplayInterval", "1s");
        d.put("cluster.hintReplayBatch", "256");
        d.put("cluster.hintReplayRate", "4000");
        d.put("cluster.sloppyQuorum", "false");
        d.put("cluster.faultInjection", "false");
        d.put("cluster.tls.dir", "");
        d.put("cluster.join", "");
        d.put("metadata.voters", "3");
        d.put("metadata.requestTimeout", "5s");
        d.put("metadata.joinWait", "10m");
        d.put("moves.maxConcurrent", "2");
        d.put("moves.chunkSize", "1MiB");
        d.put("moves.maxBytesPerSecond", "32MiB");
        d.put("moves.reportInterval", "1s");
        d.put("moves.window", Integer.toString(io.cairn.metadata.ClusterMetadata.DEFAULT_MOVE_WINDOW));
        d.put("antiEntropy.enabled", "true");
        d.put("antiEntropy.cycle", "1m");
        d.put("antiEntropy.maxSegmentsPerRound", "256");
        d.put("antiEntropy.maxKeysPerRound", "1000");
        d.put("antiEntropy.maxListingBytes", "1MiB");
        d.put("antiEntropy.maxBytesPerSecond", "8MiB");
        d.put("antiEntropy.maxInFlight", "32");
        d.put("antiEntropy.scrubRate", "16MiB");
        d.put("antiEntropy.scrubInterval", "24h");
        d.put("antiEntropy.purgeRecheck", "1m");
        d.put("audit.maxFileBytes", "16MiB");
        d.put("audit.maxFiles", "8");
        d.put("auth.enabled", "true");
        d.put("auth.adminTokenFile", "");
        d.put("auth.tokenCacheTtl", "5s");
        d.put("auth.unknownCacheTtl", "1s");
        d.put("auth.maxCachedTokens", "100000");
        d.put("auth.lookupTimeout", "2s");
        d.put("auth.defaultTokenTtl", "90d");
        d.put("auth.maxTokenTtl", "3650d");
        d.put("auth.metricsOpen", "false");
        d.put("auth.maxConcurrentLookups", "256");
        d.put("auth.maxAuditedRefusalsPerSecond", "100");
        d.put("cluster.shards", Integer.toString(Math.min(Shard.MAX_SHARDS, Runtime.getRuntime().availableProcessors())));
        return java.util.Collections.unmodifiableMap(d);
    }

    /** Loads the file (when not null), then applies the overrides, then validates. */
    public static NodeConfig load(Path file, Map<String, String> overrides) {
        return load(file, Map.of(), overrides);
    }

    /**
     * Settings from, in rising precedence: the defaults, the YAML file, the environment
     * ({@code CAIRN_*}, see {@link #environmentName}) and {@code overrides} (command-line flags).
     */
    public static NodeConfig load(Path file, Map<String, String> environment, Map<String, String> overrides) {
        ConfigLoader loader = new ConfigLoader();
        if (file != null) {
            loader.readYaml(file);
        }
        fromEnvironment(environment).forEach(loader::set);
        overrides.forEach(loader::set);
        return loader.build();
    }

    /**
     * A setting's environment variable: {@code CAIRN_} and its dotted name with every dot and
     * camel-case word boundary an underscore, upper-cased: {@code http.port} is
     * {@code CAIRN_HTTP_PORT}, {@code storage.blockCache} is {@code CAIRN_STORAGE_BLOCK_CACHE}.
     */
    public static String environmentName(String key) {
        return "CAIRN_" + key.replaceAll("([a-z0-9])([A-Z])", "$1_$2").replace('.', '_').toUpperCase(java.util.Locale.ROOT);
    }

    /** The settings {@code environment} gives, by dotted name; variables that name no setting are not settings (CAIRN_URL, ...). */
    static Map<String, String> fromEnvironment(Map<String, String> environment) {
        Map<String, String> out = new java.util.TreeMap<>();
        for (String key : DEFAULTS.keySet()) {
            String value = environment.get(environmentName(key));
            if (value != null) {
                out.put(key, value);
            }
        }
        return out;
    }

    private void set(String key, String value) {
        if (!DEFAULTS.containsKey(key)) {
            problems.add(key + ": unknown setting" + suggestion(key));
        } else {
            values.put(key, value);
        }
    }

    private void readYaml(Path file) {
        JsonNode root;
        try {
            if (!Files.isRegularFile(file)) {
                problems.add("config file " + file + " does not exist");
                return;
            }
            root = new ObjectMapper(new YAMLFactory()).readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            var at = e.getLocation();
            problems.add("config file " + file + (at == null ? "" : ", line " + at.getLineNr() + " column " + at.getColumnNr())
                    + ": not valid YAML: " + String.valueOf(e.getOriginalMessage()).lines().findFirst().orElse(""));
            return;
        } catch (IOException e) {
            problems.add("config file " + file + " cannot be read: " + e.getMessage());
            return;
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            return;
        }
        flatten("", root);
    }

    private void flatten(String prefix, JsonNode node) {
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue());
            }
        } else if (node.isValueNode() && !node.isNull()) {
            set(prefix, node.asText());
        } else if (node.isArray() && prefix.equals("cluster.members")) {
            // A YAML list of {id, zone, http, internode} maps, kept in the flag form "id/zone/http/internode,...".
            List<String> members = new ArrayList<>();
            for (JsonNode m : node) {
                if (!m.isObject()) {
                    problems.add("cluster.members: each member must be a map with id, zone, http and internode");
                    continue;
                }
                members.add(m.path("id").asText() + "/" + m.path("zone").asText() + "/" + m.path("http").asText() + "/" + m.path("internode").asText()
                        + (m.hasNonNull("metadata") ? "/" + m.path("metadata").asText() : ""));
            }
            set(prefix, String.join(",", members));
        } else {
            problems.add(prefix + ": expected a single value");
        }
    }

    private String suggestion(String key) {
        String section = key.contains(".") ? key.substring(0, key.indexOf('.')) : key;
        TreeSet<String> near = new TreeSet<>();
        for (String k : DEFAULTS.keySet()) {
            if (k.startsWith(section + ".") || k.equalsIgnoreCase(key)) {
                near.add(k);
            }
        }
        return near.isEmpty() ? " (known sections: node, http, limits, storage, write, ttl, idempotency, cluster)" : " (did you mean one of " + near + "?)";
    }

    private NodeConfig build() {
        int nodeId = integer("node.id", 1, 65_535);
        Path dataDir = Path.of(values.get("node.dataDir"));
        boolean exitOnFatal = bool("node.exitOnFatalError");
        Duration stallTimeout = duration("node.stallTimeout", Duration.ofMillis(100), Duration.ofMinutes(10));
        int maxKey = integer("limits.maxKeyBytes", 1, 65_535);
        int maxValue = (int) size("limits.maxValueBytes", 1, 512L << 20);
        int maxOps = integer("limits.maxBatchOperations", 1, 65_535);
        int maxBatchBody = (int) size("limits.maxBatchBodyBytes", 1, 1L << 30);
        long maxBatchRead = size("limits.maxBatchReadBytes", 1, 1L << 30);
        // Memory budgets default to an eighth of the heap each: bodies are copied a few times on
        // their way to storage, and the rest of the heap serves caches, buffers and the core.
        long heapShare = Math.max(8L << 20, Runtime.getRuntime().maxMemory() / 8);
        HttpSettings limits = new HttpSettings(
                integer("http.maxConnections", 1, 1_000_000),
                integer("http.reservedOpsConnections", 0, 10_000),
                (int) size("http.maxHeaderBytes", 1024, 1 << 20),
                duration("http.requestTimeout", Duration.ofMillis(1), Duration.ofHours(1)),
                duration("http.headerTimeout", Duration.ofMillis(10), Duration.ofHours(1)),
                duration("http.idleTimeout", Duration.ofMillis(10), Duration.ofHours(24)),
                duration("http.bodyTimeout", Duration.ofMillis(10), Duration.ofHours(1)),
                size("http.minBodyRate", 0, 1L << 40),
                integer("http.maxPipelinedRequests", 1, 10_000),
                autoSize("http.maxInflightBytes", heapShare, 64 * 1024, 1L << 44),
                autoSize("http.maxUnflushedBytes", heapShare, 64 * 1024, 1L << 44),
                size("http.maxConnectionUnflushedBytes", 1024, 1L << 30),
                duration("http.slowReaderTimeout", Duration.ofMillis(10), Duration.ofHours(24)),
                size("http.largeRequestBytes", 0, 1L << 40));
        String httpHost = nonEmpty("http.host");
        Path tlsCert = blankAsNull("http.tls.cert");
        Path tlsKey = blankAsNull("http.tls.key");
        if ((tlsCert == null) != (tlsKey == null)) {
            problems.add("http.tls.cert and http.tls.key: give both for HTTPS, or neither for plain HTTP");
        }
        boolean allowPlaintext = bool("http.tls.allowPlaintext");
        if (httpHost != null && tlsCert == null && !allowPlaintext && !loopback(httpHost)) {
            problems.add("http.host: " + httpHost + " is reachable from other machines, so clients must use HTTPS: set http.tls.cert and"
                    + " http.tls.key (bin/cairn certs issue makes a certificate), or bind 127.0.0.1; to serve plain HTTP there anyway"
                    + " (behind a TLS-terminating proxy on the same host, say), set http.tls.allowPlaintext=true");
        }
        NodeConfig.Http http = new NodeConfig.Http(
                httpHost,
                integer("http.port", 0, 65_535),
                integer("http.ioThreads", 1, 256),
                limits, tlsCert, tlsKey);
        Durability durability = parse("storage.durability", v -> switch (v.toLowerCase(Locale.ROOT)) {
            case "sync" -> Durability.SYNC;
            case "async" -> Durability.ASYNC;
            default -> throw new IllegalArgumentException("must be sync or async, got '" + v + "'");
        });
        long blockCache = size("storage.blockCache", 1L << 20, 1L << 40);
        long writeBuffer = size("storage.writeBuffer", 1L << 20, 4L << 30);
        int maxWriteBuffers = integer("storage.maxWriteBuffers", 2, 64);
        long compactionRate = size("storage.compactionRate", 0, 1L << 40);
        int backgroundJobs = integer("storage.backgroundJobs", 1, 64);
        Duration asyncSync = duration("storage.asyncSyncInterval", Duration.ofMillis(1), Duration.ofMinutes(10));
        NodeConfig.Write write = new NodeConfig.Write(
                integer("write.queueCapacity", 1, 10_000_000),
                integer("write.maxGroupSize", 1, 100_000),
                size("write.maxGroupBytes", 1, 1L << 30));
        Duration defaultTtl = "none".equalsIgnoreCase(values.get("ttl.default").trim()) ? Duration.ZERO
                : duration("ttl.default", Duration.ofMillis(1), Duration.ofDays(36_500));
        NodeConfig.Ttl ttl = new NodeConfig.Ttl(defaultTtl,
                duration("ttl.sweepInterval", Duration.ofMillis(1), Duration.ofHours(1)),
                integer("ttl.sweepBatchSize", 1, 1_000_000),
                duration("ttl.purgeGrace", Duration.ZERO, Duration.ofDays(365)));
        Duration retention = duration("idempotency.retention", Duration.ofSeconds(1), Duration.ofDays(365));
        NodeConfig.Cluster cluster = cluster(nodeId, ttl);
        cluster.members().stream().filter(m -> m.id() == nodeId).findFirst().ifPresent(self -> {
            if (http.port() != self.httpPort()) {
                problems.add("http.port (" + http.port() + ") must be the port cluster.members gives this node (" + self.httpAddress()
                        + "): peers and clients find this node there");
            }
        });
        NodeConfig.Auth auth = auth();
        NodeConfig.AntiEntropy antiEntropy = new NodeConfig.AntiEntropy(bool("antiEntropy.enabled"),
                duration("antiEntropy.cycle", Duration.ofSeconds(1), Duration.ofDays(7)),
                integer("antiEntropy.maxSegmentsPerRound", 1, SegmentTree.SEGMENTS),
                integer("antiEntropy.maxKeysPerRound", 1, 1_000_000),
                size("antiEntropy.maxListingBytes", 1024, 32L << 20),
                size("antiEntropy.maxBytesPerSecond", 1024, 1L << 40),
                integer("antiEntropy.maxInFlight", 1, 10_000),
                size("antiEntropy.scrubRate", 1024, 1L << 40),
                duration("antiEntropy.scrubInterval", Duration.ofSeconds(1), Duration.ofDays(365)),
                duration("antiEntropy.purgeRecheck", Duration.ofMillis(1), Duration.ofDays(1)));
        // Everything is parsed before the problems are looked at: a bad value anywhere is refused, never replaced.
        long auditFileBytes = size("audit.maxFileBytes", 4096, 1L << 40);
        int auditFiles = integer("audit.maxFiles", 1, 1000);
        NodeConfig.Elastic elastic = elastic();
        int maxNamespaces = integer("limits.maxNamespaces", 1, 100_000);
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return new NodeConfig(nodeId, dataDir, exitOnFatal, stallTimeout, http, new Limits(maxKey, maxValue, maxOps, maxBatchBody, maxBatchRead), durability,
                new RocksSettings(blockCache, writeBuffer, maxWriteBuffers, compactionRate, backgroundJobs, asyncSync.toMillis()),
                write, ttl, retention, cluster, new NodeConfig.Audit(auditFileBytes, auditFiles), auth, antiEntropy, elastic, maxNamespaces,
                java.util.Collections.unmodifiableMap(new LinkedHashMap<>(values)));
    }

    /**
     * {@code base} with the cluster's values ({@code cluster}, canonical forms by name) of the
     * settings every member must share ({@link NodeConfig#clusterWideSettings}), checked as if they
     * had been given last; names this release does not share are left out.
     *
     * @throws ConfigException when the result breaks a rule (a value out of this release's range, a
     *                         purge grace no longer than the hint window)
     */
    public static NodeConfig withClusterSettings(NodeConfig base, Map<String, String> cluster) {
        ConfigLoader loader = new ConfigLoader();
        base.settings().forEach(loader::set);
        java.util.Set<String> shared = base.clusterWideSettings().keySet();
        cluster.forEach((name, value) -> {
            if (shared.contains(name)) {
                loader.set(name, value);
            }
        });
        return loader.build();
    }

    private NodeConfig.Elastic elastic() {
        int voters = integer("metadata.voters", Integer.MIN_VALUE, Integer.MAX_VALUE);
        if (voters != 3 && voters != 5 && values.get("metadata.voters").trim().matches("-?[0-9]+")) {
            problems.add("metadata.voters: must be 3 or 5, got " + voters);
        }
        return new NodeConfig.Elastic(values.get("cluster.join").trim(), voters,
                duration("metadata.requestTimeout", Duration.ofMillis(100), Duration.ofMinutes(10)),
                integer("moves.maxConcurrent", 1, 1024),
                size("moves.chunkSize", 1024, 8L << 20),
                size("moves.maxBytesPerSecond", 1024, 1L << 40),
                duration("moves.reportInterval", Duration.ZERO, Duration.ofSeconds(10)),
                duration("metadata.joinWait", Duration.ZERO, Duration.ofHours(24)),
                integer("moves.window", 1, io.cairn.metadata.ClusterMetadata.MAX_MOVE_WINDOW));
    }

    private NodeConfig.Auth auth() {
        Duration cacheTtl = duration("auth.tokenCacheTtl", Duration.ZERO, Duration.ofMinutes(10));
        Duration unknownTtl = duration("auth.unknownCacheTtl", Duration.ZERO, Duration.ofMinutes(10));
        if (cacheTtl != null && unknownTtl != null && unknownTtl.compareTo(cacheTtl) > 0) {
            problems.add("auth.unknownCacheTtl (" + unknownTtl + ") must not be longer than auth.tokenCacheTtl (" + cacheTtl + ")");
        }
        Duration defaultTtl = duration("auth.defaultTokenTtl", Duration.ofSeconds(1), Duration.ofDays(36_500));
        Duration maxTtl = duration("auth.maxTokenTtl", Duration.ofSeconds(1), Duration.ofDays(36_500));
        if (defaultTtl != null && maxTtl != null && defaultTtl.compareTo(maxTtl) > 0) {
            problems.add("auth.defaultTokenTtl (" + defaultTtl + ") must not be longer than auth.maxTokenTtl (" + maxTtl + ")");
        }
        return new NodeConfig.Auth(bool("auth.enabled"), blankAsNull("auth.adminTokenFile"), cacheTtl, unknownTtl,
                integer("auth.maxCachedTokens", 1, 10_000_000), duration("auth.lookupTimeout", Duration.ofMillis(1), Duration.ofMinutes(1)),
                defaultTtl, maxTtl, bool("auth.metricsOpen"), integer("auth.maxConcurrentLookups", 1, 1_000_000),
                integer("auth.maxAuditedRefusalsPerSecond", 0, 100_000));
    }

    private NodeConfig.Cluster cluster(int nodeId, NodeConfig.Ttl ttl) {
        String text = values.get("cluster.members").trim();
        List<Member> members = new ArrayList<>();
        if (!text.isEmpty()) {
            for (String spec : text.split(",")) {
                String[] f = spec.trim().split("/");
                if (f.length != 4 && f.length != 5) {
                    problems.add("cluster.members: '" + spec + "' must be id/zone/httpHost:port/internodeHost:port[/metadataHost:port]");
                    continue;
                }
                try {
                    members.add(new Member(Integer.parseInt(f[0].trim()), f[1].trim(), address(f[2]), address(f[3]), f.length == 5 ? address(f[4]) : ""));
                } catch (IllegalArgumentException e) {
                    problems.add("cluster.members: '" + spec + "': " + e.getMessage());
                }
            }
            java.util.Set<Integer> ids = new java.util.HashSet<>();
            for (Member m : members) {
                if (!ids.add(m.id())) {
                    problems.add("cluster.members: node id " + m.id() + " appears twice");
                }
            }
            if (!members.isEmpty() && !ids.contains(nodeId)) {
                problems.add("cluster.members: this node's id (node.id=" + nodeId + ") is not among the members " + ids);
            }
            long withMetadata = members.stream().filter(Member::metadataVoter).count();
            if (withMetadata != 0 && withMetadata != members.size()) {
                problems.add("cluster.members: give every member a metadata address (id/zone/http/internode/metadata) for a cluster whose"
                        + " membership can change, or none for a fixed one; " + withMetadata + " of " + members.size() + " have one");
            }
        }
        String join = values.get("cluster.join").trim();
        if (!join.isEmpty()) {
            if (members.size() != 1 || members.get(0).id() != nodeId || !members.get(0).metadataVoter()) {
                problems.add("cluster.join: a joining node lists only itself in cluster.members, with a metadata address"
                        + " (id/zone/http/internode/metadata); the cluster's members come from the node it joins through");
            }
            try {
                String hostPort = join;
                if (join.startsWith("http://") || join.startsWith("https://")) {
                    hostPort = join.substring(join.indexOf("://") + 3).replaceAll("/+$", "");
                } else if (join.contains("://")) {
                    throw new IllegalArgumentException("the scheme must be http or https");
                }
                address(hostPort);
            } catch (IllegalArgumentException e) {
                problems.add("cluster.join: '" + join + "' must be host:port (or an http:// or https:// URL) of a member's HTTP API: "
                        + e.getMessage());
            }
        }
        int n = integer("cluster.replicationFactor", 1, 16);
        Quorum r = parse("cluster.readQuorum", Quorum::parse);
        Quorum w = parse("cluster.writeQuorum", Quorum::parse);
        int effectiveN = members.isEmpty() ? 1 : Math.min(n, members.size());
        for (var q : java.util.Map.of("cluster.readQuorum", r == null ? Quorum.ONE : r, "cluster.writeQuorum", w == null ? Quorum.ONE : w).entrySet()) {
            try {
                q.getValue().resolve(effectiveN);
            } catch (IllegalArgumentException e) {
                problems.add(q.getKey() + ": " + e.getMessage());
            }
        }
        Duration hintWindow = duration("cluster.hintWindow", Duration.ofSeconds(1), Duration.ofDays(30));
        if (!members.isEmpty() && ttl.purgeGrace().compareTo(hintWindow) <= 0) {
            problems.add("ttl.purgeGrace (" + ttl.purgeGrace() + ") must be longer than cluster.hintWindow (" + hintWindow
                    + "), or a replica that missed a delete could resurrect the key");
        }
        Duration requestTimeout = duration("cluster.requestTimeout", Duration.ofMillis(10), Duration.ofMinutes(5));
        Duration hintDelay = duration("cluster.hintDelay", Duration.ZERO, Duration.ofMinutes(5));
        if (requestTimeout != null && hintDelay != null && hintDelay.compareTo(requestTimeout) > 0) {
            problems.add("cluster.hintDelay (" + hintDelay + ") must not be longer than cluster.requestTimeout (" + requestTimeout + ")");
        }
        Duration paxosTimeout = duration("cluster.paxos.timeout", Duration.ofMillis(10), Duration.ofMinutes(5));
        Duration paxosRound = duration("cluster.paxos.roundTimeout", Duration.ofMillis(5), Duration.ofMinutes(5));
        Duration paxosBackoff = duration("cluster.paxos.maxBackoff", Duration.ofMillis(1), Duration.ofMinutes(1));
        Duration paxosHedge = duration("cluster.paxos.hedge", Duration.ZERO, Duration.ofMinutes(5));
        int leaseKeys = integer("cluster.paxos.leaseKeys", 0, io.cairn.cluster.PaxosSettings.MAX_LEASE_KEYS);
        io.cairn.cluster.PaxosSettings paxos = null;
        if (paxosTimeout != null && paxosRound != null && paxosBackoff != null && paxosHedge != null) {
            if (paxosRound.compareTo(paxosTimeout) > 0) {
                problems.add("cluster.paxos.roundTimeout (" + paxosRound + ") must not be longer than cluster.paxos.timeout (" + paxosTimeout + ")");
            } else if (paxosHedge.compareTo(paxosRound) > 0 && values.get("cluster.paxos.hedge").equals(DEFAULTS.get("cluster.paxos.hedge"))) {
                // The default hedge, under a round timeout set shorter than it: the round's length.
                paxos = new io.cairn.cluster.PaxosSettings(paxosTimeout.toMillis(), paxosRound.toMillis(), 1, paxosBackoff.toMillis(), paxosRound.toMillis(), leaseKeys);
            } else if (paxosHedge.compareTo(paxosRound) > 0) {
                problems.add("cluster.paxos.hedge (" + paxosHedge + ") must not be longer than cluster.paxos.roundTimeout (" + paxosRound + ")");
            } else {
                paxos = new io.cairn.cluster.PaxosSettings(paxosTimeout.toMillis(), paxosRound.toMillis(), 1, paxosBackoff.toMillis(), paxosHedge.toMillis(), leaseKeys);
            }
        }
        return new NodeConfig.Cluster(members, n, r, w,
                requestTimeout,
                duration("cluster.readRepairTimeout", Duration.ofMillis(1), Duration.ofMinutes(5)),
                duration("cluster.heartbeatInterval", Duration.ofMillis(10), Duration.ofMinutes(1)),
                parse("cluster.phiThreshold", v -> {
                    double d = Double.parseDouble(v.trim());
                    if (!(d > 0 && d < 100)) {
                        throw new IllegalArgumentException("must be between 0 and 100, got " + v);
                    }
                    return d;
                }),
                duration("cluster.maxClockOffset", Duration.ofMillis(10), Duration.ofMinutes(1)),
                hintWindow,
                duration("cluster.hintReplayInterval", Duration.ofMillis(10), Duration.ofMinutes(10)),
                integer("cluster.hintReplayBatch", 1, 100_000),
                integer("cluster.hintReplayRate", 1, 10_000_000),
                bool("cluster.sloppyQuorum"),
                bool("cluster.faultInjection"),
                integer("cluster.shards", 1, Shard.MAX_SHARDS),
                tlsDir(), hintDelay, paxos, size("cluster.behindHoldBytes", 0, 1L << 30));
    }

    private static String address(String hostPort) {
        String t = hostPort.trim();
        int colon = t.lastIndexOf(':');
        if (colon <= 0 || colon == t.length() - 1) {
            throw new IllegalArgumentException("'" + t + "' must be host:port");
        }
        int port = Integer.parseInt(t.substring(colon + 1));
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("port out of range in '" + t + "'");
        }
        return t;
    }

    private <T> T parse(String key, Function<String, T> parser) {
        String v = values.get(key);
        try {
            return parser.apply(v);
        } catch (IllegalArgumentException e) {
            problems.add(key + ": " + e.getMessage());
            return null;
        }
    }

    private boolean bool(String key) {
        Boolean b = parse(key, v -> switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("must be true or false, got '" + v + "'");
        });
        return b != null && b;
    }

    private String nonEmpty(String key) {
        String v = values.get(key);
        if (v == null || v.isBlank()) {
            problems.add(key + ": must not be empty");
        }
        return v;
    }

    /** A path, or null when the value is blank. */
    private Path blankAsNull(String key) {
        String v = values.get(key).trim();
        return v.isEmpty() ? null : Path.of(v);
    }

    /**
     * Whether {@code host} is a loopback address (so only this machine reaches the port). Names
     * are resolved: every address they resolve to must be loopback; an unresolvable name counts
     * as not loopback.
     */
    private static boolean loopback(String host) {
        try {
            InetAddress[] all = InetAddress.getAllByName(host);
            for (InetAddress a : all) {
                if (!a.isLoopbackAddress()) {
                    return false;
                }
            }
            return all.length > 0;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** Where a cluster node's certificates are: cluster.tls.dir, by default the data directory's "tls". */
    private Path tlsDir() {
        String v = values.get("cluster.tls.dir").trim();
        return v.isEmpty() ? Path.of(values.get("node.dataDir")).resolve("tls") : Path.of(v);
    }

    private int integer(String key, long min, long max) {
        Long v = parse(key, s -> {
            long n;
            try {
                n = Long.parseLong(s.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("must be a whole number, got '" + s + "'");
            }
            return n;
        });
        return (int) check(key, v, min, max, Long.toString(min), Long.toString(max));
    }

    /** A size, or "auto" for {@code auto}. */
    private long autoSize(String key, long auto, long min, long max) {
        if ("auto".equalsIgnoreCase(values.get(key).trim())) {
            return auto;
        }
        return size(key, min, max);
    }

    private long size(String key, long min, long max) {
        Long v = parse(key, Units::bytes);
        return check(key, v, min, max, min + " bytes", max + " bytes");
    }

    private long check(String key, Long v, long min, long max, String minText, String maxText) {
        if (v == null) {
            return min;
        }
        if (v < min || v > max) {
            problems.add(key + ": must be between " + minText + " and " + maxText + ", got " + values.get(key));
            return min;
        }
        return v;
    }

    private Duration duration(String key, Duration min, Duration max) {
        Duration d = parse(key, s -> Units.duration(s, 1000));
        if (d == null) {
            return min;
        }
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            problems.add(key + ": must be between " + min + " and " + max + ", got " + values.get(key));
            return min;
        }
        return d;
    }
}
