package io.cairn.cli;

import io.cairn.server.security.AdminCredential;
import io.cairn.server.security.CertificateAuthority;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code cairn demo}: a local three-node cluster, one node per zone, each node its own JVM process,
 * with the addresses and a guided tour printed and a clean stop on Ctrl-C.
 *
 * <p>Design. The demo is a supervisor and nothing more: it spawns {@code cairn start} three times
 * from the same java binary and the same launcher jar it runs from (with the same JVM options,
 * minus debug agents), each child writing to {@code DIR/node-N.log} and keeping its data in
 * {@code DIR/node-N}. A node counts as up once its log says it is listening and {@code GET /health}
 * answers; the cluster is announced once every node also sees the other two alive, so the first
 * {@code w=all} of the tour succeeds. After that the demo only watches: a child that exits is
 * reported with the command that restarts it by hand, and the demo does not restart it (killing a
 * node is part of the tour).
 *
 * <p>Stopping. One idempotent {@link #stopAll} runs from a shutdown hook (Ctrl-C, SIGTERM) and
 * from a failed start: SIGTERM to every child, up to {@link #STOP_TIMEOUT} for them to close
 * their stores, then SIGKILL for stragglers. Ctrl-C in a terminal also reaches the children
 * directly (same process group); the second signal is harmless. If the demo itself is killed with
 * SIGKILL its children are orphaned and must be stopped by pid (printed at start).
 *
 * <p>Failure cases. A child that exits before it listens (a busy port, a locked data directory)
 * fails the whole start: the others are stopped, the tail of that child's log is shown, and the
 * exit code is 1. Bad options exit with 2.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Start a local three-node cluster (zones a, b, c), each node its own process, and print a guided tour.",
                "Ctrl-C stops all three cleanly. Data is kept between runs unless --fresh."})
final class DemoCommand implements Callable<Integer> {
    private static final int NODES = 3;
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);
    private static final int LOG_TAIL_LINES = 20;
    private static final Pattern NODE_FILE = Pattern.compile("node-[1-" + NODES + "](\\.log)?");
    /** Faster failure detection than a production default, so the tour's lost node shows within seconds; --set overrides. */
    private static final Map<String, String> DEMO_SETTINGS = Map.of("cluster.heartbeatInterval", "200ms");
    private static final Pattern SHELL_SAFE = Pattern.compile("[A-Za-z0-9_@%+=:,./-]+");

    @Option(names = "--dir", paramLabel = "DIR", description = "Where the nodes keep data (DIR/node-N) and logs (DIR/node-N.log); default ./cairn-demo.")
    Path dir = Path.of("cairn-demo");

    @Option(names = "--base-port", paramLabel = "PORT",
            description = "HTTP ports PORT..PORT+2, internode ports PORT+100..PORT+102 (default 7071; 0 picks free loopback ports).")
    int basePort = 7071;

    @Option(names = "--fresh", description = "Delete DIR first and start with empty nodes.")
    boolean fresh;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "A setting for every node, as for 'cairn start' (repeatable).")
    Map<String, String> settings = new LinkedHashMap<>();

    private final PrintStream out = System.out;
    private final PrintStream err = System.err;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(1)).build();

    // Invariant: once stopping is set no child is started, and stopAll has seen every child started before.
    private final Object lock = new Object();
    private boolean stopping;
    private final List<Node> nodes = new ArrayList<>();

    /** One member of the demo cluster and, once spawned, its process. */
    private static final class Node {
        final int id;
        final String zone;
        final int httpPort;
        final int internodePort;
        final Path dataDir;
        final Path log;
        long logStart;
        Process process;

        Node(int id, int httpPort, int internodePort, Path dir) {
            this.id = id;
            this.zone = "zone-" + (char) ('a' + id - 1);
            this.httpPort = httpPort;
            this.internodePort = internodePort;
            this.dataDir = dir.resolve("node-" + id);
            this.log = dir.resolve("node-" + id + ".log");
        }

        String url() {
            return "http://127.0.0.1:" + httpPort;
        }

        String member() {
            return id + "/" + zone + "/127.0.0.1:" + httpPort + "/127.0.0.1:" + internodePort;
        }

        String name() {
            return "node " + id + " (pid " + process.pid() + ")";
        }
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        Path jar = launcherJar();
        if (jar == null) {
            err.println("cairn: demo must run from the launcher jar (bin/cairn demo); this code runs from "
                    + DemoCommand.class.getProtectionDomain().getCodeSource().getLocation());
            return 2;
        }
        if (basePort != 0 && (basePort < 1 || basePort + 100 + NODES - 1 > 65_535)) {
            err.println("cairn: --base-port must be 0 or between 1 and " + (65_535 - 100 - NODES + 1) + ", got " + basePort);
            return 2;
        }
        dir = dir.toAbsolutePath().normalize();
        if (fresh && !deleteDemoDir()) {
            return 2;
        }
        Files.createDirectories(dir);
        int[] free = basePort == 0 ? freePorts(2 * NODES) : null;
        for (int id = 1; id <= NODES; id++) {
            int httpPort = free != null ? free[2 * (id - 1)] : basePort + id - 1;
            int internodePort = free != null ? free[2 * (id - 1) + 1] : basePort + 100 + id - 1;
            nodes.add(new Node(id, httpPort, internodePort, dir));
        }
        String members = String.join(",", nodes.stream().map(Node::member).toList());
        provideCertificates();
        Runtime.getRuntime().addShutdownHook(new Thread(this::stopAll, "cairn-demo-stop"));

        out.println("Starting a three-node Cairn cluster in " + dir + (fresh ? " (fresh: empty nodes)" : ""));
        out.flush();
        for (Node n : nodes) {
            if (!spawn(n, jar, members)) {
                awaitShutdownHook();
            }
        }
        String failure = awaitStarted();
        if (failure != null) {
            if (stopping()) {
                awaitShutdownHook();
            }
            err.println("cairn: " + failure);
            stopAll();
            return 1;
        }
        printTour(jar, members);
        for (Node n : nodes) {
            n.process.onExit().thenAccept(p -> reportExit(n, p, jar, members));
        }
        CompletableFuture.allOf(nodes.stream().map(n -> n.process.onExit()).toArray(CompletableFuture[]::new)).join();
        if (stopping()) {
            awaitShutdownHook();
        }
        err.println("cairn: all three nodes have exited; the demo ends.");
        return 1;
    }

    /**
     * Nodes of a cluster talk only over mutual TLS: the demo keeps its own cluster CA in
     * {@code <dir>/ca} and gives each node a certificate in its data directory's {@code tls}
     * (kept across demo runs, replaced only with --fresh, like the data), with a copy of the
     * cluster's admin credential ({@code <dir>/ca/admin.token}), so one token works on every node.
     */
    private void provideCertificates() throws IOException {
        Path ca = dir.resolve("ca");
        if (!Files.exists(ca.resolve(CertificateAuthority.CA_KEY))) {
            CertificateAuthority.init(ca, "demo", CertificateAuthority.DEFAULT_CA_VALIDITY);
        }
        Path admin = ca.resolve(AdminCredential.FILE);
        if (!Files.exists(admin)) {
            AdminCredential.create(admin);
        }
        for (Node n : nodes) {
            Path tls = n.dataDir.resolve("tls");
            if (!Files.exists(tls.resolve(CertificateAuthority.NODE_CERT))) {
                CertificateAuthority.issueNode(ca, n.id, List.of("127.0.0.1", "localhost"), tls, CertificateAuthority.DEFAULT_NODE_VALIDITY);
            }
            if (!Files.exists(tls.resolve(AdminCredential.FILE))) {
                AdminCredential.copy(admin, tls.resolve(AdminCredential.FILE));
            }
        }
        adminToken = AdminCredential.readCredential(admin).text();
    }

    /** The cluster's admin credential, which every node shares (from {@code <dir>/ca/admin.token}). */
    private String adminToken;

    /** What a pasted curl line sends to authenticate. */
    private static final String AUTH = "-H \"Authorization: Bearer $CAIRN_TOKEN\" ";

    private boolean stopping() {
        synchronized (lock) {
            return stopping;
        }
    }

    /** Parks the command while the shutdown hook stops the nodes; the JVM then ends with the signal's exit code. */
    private static void awaitShutdownHook() throws InterruptedException {
        new CountDownLatch(1).await();
    }

    /** Starts one node unless the demo is already stopping; false if it is. */
    private boolean spawn(Node n, Path jar, String members) throws IOException {
        List<String> cmd = new ArrayList<>(javaCommand());
        cmd.add("-jar");
        cmd.add(jar.toString());
        cmd.addAll(startArguments(n, members));
        Files.createDirectories(n.dataDir);
        Files.writeString(n.log, "--- cairn demo started this node at " + Instant.now() + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        synchronized (lock) {
            if (stopping) {
                return false;
            }
            n.logStart = Files.size(n.log);
            n.process = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(n.log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(nullDevice()))
                    .start();
        }
        return true;
    }

    /** Waits until every node listens and sees the others alive; returns null, or what went wrong. */
    private String awaitStarted() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        boolean[] listening = new boolean[NODES];
        boolean[] connected = new boolean[NODES];
        while (true) {
            boolean all = true;
            for (Node n : nodes) {
                if (stopping()) {
                    return "interrupted";
                }
                int i = n.id - 1;
                if (!n.process.isAlive()) {
                    return n.name() + " exited with code " + n.process.exitValue() + " before it was listening on " + n.url()
                            + portHint(n) + "\n" + tail(n);
                }
                if (!listening[i]) {
                    listening[i] = logSinceStart(n).contains("listening on " + n.url()) && get(n.url() + "/health") == 200;
                }
                if (listening[i] && !connected[i]) {
                    connected[i] = seesAllAlive(n);
                }
                all &= listening[i] && connected[i];
            }
            if (all) {
                return null;
            }
            if (System.nanoTime() > deadline) {
                Node slow = nodes.stream().filter(n -> !listening[n.id - 1] || !connected[n.id - 1]).findFirst().orElseThrow();
                return slow.name() + (listening[slow.id - 1] ? " does not see the other nodes" : " is not listening on " + slow.url())
                        + " after " + START_TIMEOUT.toSeconds() + " s\n" + tail(slow);
            }
            Thread.sleep(100);
        }
    }

    /** Whether the node's cluster view lists every member as alive; a coarse text check keeps the CLI free of JSON parsing. */
    private boolean seesAllAlive(Node n) {
        String view = getBody(n.url() + "/admin/cluster");
        if (view == null) {
            return false;
        }
        int alive = view.split("\"alive\"\\s*:\\s*true", -1).length - 1;
        return alive == NODES;
    }

    private void printTour(Path jar, String members) {
        Node n1 = nodes.get(0);
        Node n3 = nodes.get(NODES - 1);
        String key = n1.url() + "/kv/greeting";
        String keyOn3 = n3.url() + "/kv/greeting";
        out.println();
        out.println("Cairn demo cluster: " + NODES + " nodes, one per zone, every key on all three (replication factor 3).");
        for (Node n : nodes) {
            out.printf(Locale.ROOT, "  node %d  %s  %s  internode 127.0.0.1:%d  pid %d%n", n.id, n.zone, n.url(), n.internodePort, n.process.pid());
        }
        out.println("  data: " + dir + "/node-N   logs: " + dir + "/node-N.log");
        out.println("  data is kept between runs; 'demo --fresh' starts with empty nodes.");
        out.println();
        out.println("Tour (paste into another terminal; every route but /health and /ready needs the cluster's admin token):");
        out.println("  0. Take the token (bin/cairn uses it with --token-file " + dir.resolve("ca").resolve(AdminCredential.FILE) + "):");
        out.println("       export CAIRN_TOKEN=$(cat " + dir.resolve("ca").resolve(AdminCredential.FILE) + ")");
        out.println("  1. Write through node 1 and wait for all three replicas (see 'Cairn-Acks: 3'):");
        out.println("       curl -i " + AUTH + "-X PUT -H 'Content-Type: text/plain' --data-binary 'hello' '" + key + "?w=all'");
        out.println("  2. Read it through node 3; r=one answers from the first replica that replies (see 'Cairn-Replies'):");
        out.println("       curl -i " + AUTH + "'" + keyOn3 + "?r=one'");
        out.println("  3. Each replica's version of the key, and the cluster as node 1 sees it:");
        out.println("       curl -s " + AUTH + n1.url() + "/admin/keys/greeting");
        out.println("       curl -s " + AUTH + n1.url() + "/admin/cluster");
        out.println("  4. Lose a node: crash node 3 (pid " + n3.process.pid() + "):");
        out.println("       kill -9 " + n3.process.pid());
        out.println("     Writes at w=quorum still succeed (2 of 3 replicas acknowledge; node 1 keeps a hint for node 3):");
        out.println("       curl -i " + AUTH + "-X PUT -H 'Content-Type: text/plain' --data-binary 'hello again' '" + key + "?w=quorum'");
        out.println("     Writes at w=all fail fast with 503 once node 1 has noticed node 3 is down (a few seconds;");
        out.println("     until then they wait out the 2 s request timeout and answer 504 outcome_unknown):");
        out.println("       curl -i " + AUTH + "-X PUT -H 'Content-Type: text/plain' --data-binary 'hello all' '" + key + "?w=all'");
        out.println("     Hints waiting for node 3 (backlogs.hintsPending, replicaLagMillis):");
        out.println("       curl -s " + AUTH + n1.url() + "/admin/status");
        out.println("  5. Bring node 3 back in another terminal (same data, same ports; stop it there with Ctrl-C):");
        out.println("       " + restartCommand(n3, jar, members));
        out.println("     The hints replay (hintsPending drops to 0) and node 3 holds the latest write:");
        out.println("       curl -i " + AUTH + "'" + keyOn3 + "?r=all'");
        out.println("  Metrics: " + n1.url() + "/metrics   Status: " + n1.url() + "/admin/status");
        out.println();
        out.println("Press Ctrl-C to stop the cluster.");
        out.flush();
    }

    private void reportExit(Node n, Process p, Path jar, String members) {
        if (stopping()) {
            return;
        }
        int code = p.exitValue();
        String how = code > 128 ? " (signal " + (code - 128) + ")" : "";
        out.println();
        out.println(n.name() + " exited with code " + code + how + "; the demo does not restart it. Log: " + n.log);
        out.println("Restart it by hand in another terminal with:");
        out.println("  " + restartCommand(n, jar, members));
        out.flush();
    }

    /** SIGTERM to every running child, then SIGKILL for any still running after the timeout; runs once. */
    private void stopAll() {
        List<Node> started;
        synchronized (lock) {
            if (stopping) {
                return;
            }
            stopping = true;
            started = nodes.stream().filter(n -> n.process != null).toList();
        }
        List<Node> running = started.stream().filter(n -> n.process.isAlive()).toList();
        if (!running.isEmpty()) {
            out.println();
            out.println("Stopping the cluster: SIGTERM to " + String.join(", ", running.stream().map(Node::name).toList()));
            out.flush();
            long t0 = System.nanoTime();
            running.forEach(n -> n.process.destroy());
            long deadline = t0 + STOP_TIMEOUT.toNanos();
            for (Node n : running) {
                boolean exited = waitFor(n.process, deadline - System.nanoTime());
                if (exited) {
                    out.printf(Locale.ROOT, "  %s stopped (exit %d) after %d ms%n", n.name(), n.process.exitValue(),
                            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
                } else {
                    n.process.destroyForcibly();
                    waitFor(n.process, TimeUnit.SECONDS.toNanos(5));
                    out.println("  " + n.name() + " did not stop within " + STOP_TIMEOUT.toSeconds() + " s: killed (SIGKILL)");
                }
            }
        }
        if (!started.isEmpty()) {
            out.println("Data kept in " + dir + " (demo --fresh starts with empty nodes).");
        }
        out.flush();
    }

    private static boolean waitFor(Process p, long nanos) {
        try {
            return p.waitFor(Math.max(0, nanos), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !p.isAlive();
        }
    }

    /** Deletes DIR, but only if it holds nothing the demo did not create. */
    private boolean deleteDemoDir() throws IOException {
        if (!Files.exists(dir)) {
            return true;
        }
        if (!Files.isDirectory(dir)) {
            err.println("cairn: --dir " + dir + " is not a directory");
            return false;
        }
        try (Stream<Path> entries = Files.list(dir)) {
            List<String> foreign = entries.map(p -> p.getFileName().toString()).filter(s -> !NODE_FILE.matcher(s).matches()).sorted().toList();
            if (!foreign.isEmpty()) {
                err.println("cairn: --fresh will not delete " + dir + ": it holds " + foreign + ", which the demo did not create");
                return false;
            }
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
        return true;
    }

    /** The running launcher jar, or null when this class was not loaded from a jar file. */
    private static Path launcherJar() {
        try {
            var source = DemoCommand.class.getProtectionDomain().getCodeSource();
            Path p = source == null ? null : Path.of(source.getLocation().toURI());
            return p != null && Files.isRegularFile(p) ? p : null;
        } catch (URISyntaxException | IllegalArgumentException | SecurityException e) {
            return null;
        }
    }

    /** This JVM's java binary and options, so the nodes run exactly like the demo; debug agents are left out (they would share a port). */
    private static List<String> javaCommand() {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(java));
        List<String> inherited = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> !a.startsWith("-agentlib:") && !a.startsWith("-agentpath:") && !a.startsWith("-javaagent:") && !a.startsWith("-Xrunjdwp"))
                .toList();
        cmd.addAll(jvmFlags());
        inherited.stream().filter(a -> !cmd.contains(a)).forEach(cmd::add);
        return cmd;
    }

    private static List<String> jvmFlags() {
        List<String> flags = new ArrayList<>(List.of("--enable-native-access=ALL-UNNAMED"));
        if (Runtime.version().feature() >= 23) {
            flags.add("--sun-misc-unsafe-memory-access=allow");
        }
        return flags;
    }

    private List<String> startArguments(Node n, String members) {
        List<String> args = new ArrayList<>(List.of("start", "--node-id", Integer.toString(n.id), "--http-port", Integer.toString(n.httpPort),
                "--data-dir", n.dataDir.toString(), "--set", "cluster.members=" + members));
        Map<String, String> all = new LinkedHashMap<>(DEMO_SETTINGS);
        all.putAll(settings);
        all.forEach((k, v) -> {
            args.add("--set");
            args.add(k + "=" + v);
        });
        return args;
    }

    /** A command a user can paste to restart a node: bin/cairn when the jar sits in its source tree, else this JVM's java -jar. */
    private String restartCommand(Node n, Path jar, String members) {
        List<String> words = new ArrayList<>();
        Path root = jar.getParent() == null ? null : jar.getParent().getParent() == null ? null : jar.getParent().getParent().getParent();
        Path script = root == null ? null : root.resolve("bin").resolve("cairn");
        if (script != null && Files.isExecutable(script)) {
            words.add(displayPath(script));
        } else {
            words.add(javaCommand().get(0)); // the JDK this demo runs on: a bare `java` may be an older one without these flags
            words.addAll(jvmFlags());
            words.add("-jar");
            words.add(displayPath(jar));
        }
        words.addAll(startArguments(n, members));
        return String.join(" ", words.stream().map(DemoCommand::shellQuote).toList());
    }

    private static String displayPath(Path p) {
        Path cwd = Path.of("").toAbsolutePath();
        return p.startsWith(cwd) && !p.equals(cwd) ? cwd.relativize(p).toString() : p.toString();
    }

    /** The word as a POSIX shell reads it back: unchanged when safe, else single-quoted. */
    static String shellQuote(String s) {
        return SHELL_SAFE.matcher(s).matches() ? s : "'" + s.replace("'", "'\\''") + "'";
    }

    private String portHint(Node n) throws IOException {
        String log = logSinceStart(n);
        if (log.contains("BindException") || log.toLowerCase(Locale.ROOT).contains("address already in use")) {
            return "\ncairn: port " + n.httpPort + " or " + n.internodePort + " is in use (another demo still running?);"
                    + " stop whatever holds it, or pick other ports with --base-port (0 picks free ones)";
        }
        return "";
    }

    private String tail(Node n) throws IOException {
        String[] lines = logSinceStart(n).split("\n", -1);
        int from = Math.max(0, lines.length - 1 - LOG_TAIL_LINES);
        StringBuilder b = new StringBuilder("--- last lines of " + n.log + ":\n");
        for (String line : Arrays.asList(lines).subList(from, lines.length)) {
            if (!line.isEmpty()) {
                b.append("  ").append(line).append('\n');
            }
        }
        return b.toString();
    }

    private static String logSinceStart(Node n) throws IOException {
        try (SeekableByteChannel ch = Files.newByteChannel(n.log, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size <= n.logStart) {
                return "";
            }
            // At most the last 1 MiB: enough for the listening line and a tail.
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(size - n.logStart, 1 << 20));
            ch.position(size - buf.capacity());
            int read = 0;
            while (buf.hasRemaining() && read >= 0) {
                read = ch.read(buf);
            }
            return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
        }
    }

    private HttpRequest authorized(String url) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).GET();
        if (adminToken != null) {
            b.header("Authorization", "Bearer " + adminToken);
        }
        return b.build();
    }

    private int get(String url) {
        try {
            return http.send(authorized(url), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private String getBody(String url) {
        try {
            HttpResponse<String> r = http.send(authorized(url), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body() : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Distinct free loopback ports: all are held open until all are picked, so none repeats. */
    private static int[] freePorts(int count) throws IOException {
        List<ServerSocket> held = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                held.add(new ServerSocket(0, 1, InetAddress.getLoopbackAddress()));
            }
            return held.stream().mapToInt(ServerSocket::getLocalPort).toArray();
        } finally {
            for (ServerSocket s : held) {
                s.close();
            }
        }
    }

    private static File nullDevice() {
        return new File(System.getProperty("os.name").startsWith("Windows") ? "NUL" : "/dev/null");
    }
}
