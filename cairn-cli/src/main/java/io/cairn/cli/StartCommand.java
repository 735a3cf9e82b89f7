package io.cairn.cli;

import io.cairn.server.CairnNode;
import io.cairn.server.config.ConfigException;
import io.cairn.server.config.ConfigLoader;
import io.cairn.server.config.NodeConfig;
import io.cairn.server.security.SecurityConfigException;
import io.cairn.storage.StorageException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code cairn start}: runs a node in the foreground until Ctrl-C or SIGTERM. */
@Command(name = "start", mixinStandardHelpOptions = true,
        description = "Start a Cairn node in the foreground (Ctrl-C stops it cleanly).")
final class StartCommand implements Callable<Integer> {
    /** Exit code that tells main() not to exit: the node keeps the JVM alive. */
    static final int KEEP_RUNNING = -1;

    @Option(names = "--config", paramLabel = "FILE", description = "YAML configuration file (see docs/operations.md).")
    Path config;

    @Option(names = "--http-port", paramLabel = "PORT", description = "HTTP port (default 7070; 0 picks a free one).")
    Integer httpPort;

    @Option(names = "--http-host", paramLabel = "HOST", description = "Address to listen on (default 127.0.0.1).")
    String httpHost;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Data directory (default ./cairn-data).")
    Path dataDir;

    @Option(names = "--node-id", paramLabel = "ID", description = "This node's id, 1 to 65535 (default 1).")
    Integer nodeId;

    @Option(names = "--durability", paramLabel = "MODE", description = "sync (default: fsync before acknowledging) or async (periodic fsync).")
    String durability;

    @Option(names = "--join", paramLabel = "HOST:PORT", description = "Join the cluster of the member whose HTTP API is at HOST:PORT"
            + " (sets cluster.join; cluster.members lists only this node, with its metadata address).")
    String join;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Any setting by its dotted name, e.g. --set ttl.default=1h (repeatable).")
    Map<String, String> settings = new LinkedHashMap<>();

    /** Sets {@code key} from its flag; a {@code --set} of the same key with another value is a conflict, never a silent pick. */
    private void flag(Map<String, String> overrides, java.util.List<String> conflicts, String flag, String key, String value) {
        if (value == null) {
            return;
        }
        String set = overrides.get(key);
        if (set != null && !set.equals(value)) {
            conflicts.add(flag + " " + value + " and --set " + key + "=" + set + " disagree; give one of them");
        }
        overrides.put(key, value);
    }

    @Override
    public Integer call() {
        Map<String, String> overrides = new LinkedHashMap<>(settings);
        java.util.List<String> conflicts = new java.util.ArrayList<>();
        flag(overrides, conflicts, "--http-port", "http.port", httpPort == null ? null : httpPort.toString());
        flag(overrides, conflicts, "--http-host", "http.host", httpHost);
        flag(overrides, conflicts, "--data-dir", "node.dataDir", dataDir == null ? null : dataDir.toString());
        flag(overrides, conflicts, "--node-id", "node.id", nodeId == null ? null : nodeId.toString());
        flag(overrides, conflicts, "--durability", "storage.durability", durability);
        flag(overrides, conflicts, "--join", "cluster.join", join);
        if (!conflicts.isEmpty()) {
            System.err.println("cairn: conflicting settings on the command line:");
            conflicts.forEach(c -> System.err.println("  " + c));
            return Main.USAGE;
        }
        NodeConfig cfg;
        try {
            cfg = ConfigLoader.load(config, System.getenv(), overrides);
        } catch (ConfigException e) {
            System.err.println("cairn: " + e.getMessage());
            return 2;
        }
        CairnNode node;
        try {
            node = CairnNode.start(cfg);
        } catch (StorageException | IllegalStateException | SecurityConfigException e) {
            System.err.println("cairn: cannot start: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        } catch (RuntimeException e) {
            System.err.println("cairn: cannot start: " + e);
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            node.close();
            stopped.countDown();
        }, "cairn-shutdown"));
        String url = (cfg.http().tls() ? "https://" : "http://") + hostForUrl(cfg.http().host()) + ":" + node.httpPort();
        System.out.println("Cairn " + CairnNode.VERSION + " node " + cfg.nodeId() + " listening on " + url);
        System.out.println("  data:       " + cfg.dataDir().toAbsolutePath().normalize() + " (durability " + cfg.durability().name().toLowerCase() + ")");
        java.nio.file.Path token = node.adminTokenFile();
        if (token != null) {
            System.out.println("  token:      " + token.toAbsolutePath().normalize() + " (the admin credential; bin/cairn uses it)");
        }
        tryLines(url, token, cfg.dataDir()).forEach(System.out::println);
        System.out.println("  operations: " + url + "/health  " + url + "/ready  " + url + "/metrics  " + url + "/admin/status");
        System.out.println("Press Ctrl-C to stop.");
        System.out.flush();
        return KEEP_RUNNING;
    }

    /**
     * The banner's "try" lines for this node: a curl PUT that stores a text value (not curl's
     * form content type) and a read back, with the token when the node has one; the
     * {@code bin/cairn} line names the URL and data directory when they are not its defaults.
     */
    static java.util.List<String> tryLines(String url, java.nio.file.Path tokenFile, java.nio.file.Path dataDir) {
        String put = "-X PUT -H 'Content-Type: text/plain' --data-binary 'hello' " + url + "/kv/greeting";
        if (tokenFile == null) {
            return java.util.List.of("  try:        curl -i " + put, "              curl -i " + url + "/kv/greeting");
        }
        String file = tokenFile.toAbsolutePath().normalize().toString();
        StringBuilder get = new StringBuilder("bin/cairn get greeting");
        if (!url.equals(ClientCommands.DEFAULT_URL)) {
            get.append(" --url ").append(url);
        }
        java.nio.file.Path here = java.nio.file.Path.of("cairn-data").toAbsolutePath().normalize();
        if (!dataDir.toAbsolutePath().normalize().equals(here)) {
            get.append(" --data-dir ").append(DemoCommand.shellQuote(dataDir.toAbsolutePath().normalize().toString()));
        }
        return java.util.List.of(
                "  try:        curl -i -H \"Authorization: Bearer $(cat " + DemoCommand.shellQuote(file) + ")\" " + put,
                "              " + get);
    }

    private static String hostForUrl(String host) {
        if (host.equals("0.0.0.0") || host.equals("::")) {
            return "127.0.0.1";
        }
        return host.contains(":") ? "[" + host + "]" : host;
    }
}
