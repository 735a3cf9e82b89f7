package io.cairn.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A Cairn node running as its own JVM process from the launcher jar, on a loopback port it picks. */
final class NodeProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on (https?://127\\.0\\.0\\.1:(\\d+))");

    private final Process process;
    private final String url;
    private final Path log;
    private final Path dataDir;

    private NodeProcess(Process process, String url, Path log, Path dataDir) {
        this.process = process;
        this.url = url;
        this.log = log;
        this.dataDir = dataDir;
    }

    /**
     * The node's admin credential: the copy in its tls directory on a cluster provisioned with
     * one, else the file the node created at its first start (before it listened).
     */
    String token() {
        try {
            Path shared = dataDir.resolve("tls").resolve("admin.token");
            return Files.readString(Files.exists(shared) ? shared : dataDir.resolve("auth").resolve("admin.token")).strip();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("the node has no admin credential", e);
        }
    }

    /** A request to this node carrying its admin credential. */
    java.net.http.HttpRequest.Builder request(String pathAndQuery) {
        return java.net.http.HttpRequest.newBuilder(java.net.URI.create(url + pathAndQuery)).header("Authorization", "Bearer " + token());
    }

    /** Starts {@code cairn start} with the given extra arguments and waits until it listens. */
    static NodeProcess start(Path dataDir, String... args) throws IOException, InterruptedException {
        return start(List.of("-Xmx512m"), dataDir, args);
    }

    /** As {@link #start(Path, String...)}, with these JVM options (heap size, for one) instead of the default. */
    static NodeProcess start(List<String> jvmOptions, Path dataDir, String... args) throws IOException, InterruptedException {
        String jar = System.getProperty("cairn.jar");
        if (jar == null || !Files.isRegularFile(Path.of(jar))) {
            throw new IllegalStateException("system property cairn.jar must point at the built launcher jar, got " + jar);
        }
        Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new ArrayList<>(List.of(javaBin.toString(), "--enable-native-access=ALL-UNNAMED"));
        if (Runtime.version().feature() >= 23) {
            cmd.add("--sun-misc-unsafe-memory-access=allow");
        }
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-jar", jar, "start", "--data-dir", dataDir.toString()));
        if (!List.of(args).contains("--http-port")) {
            cmd.addAll(List.of("--http-port", "0"));
        }
        cmd.addAll(List.of(args));
        Files.createDirectories(dataDir);
        Path log = dataDir.resolveSibling(dataDir.getFileName() + "-" + System.nanoTime() + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        CompletableFuture<String> url = new CompletableFuture<>();
        Thread pump = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    Files.writeString(log, line + "\n", StandardCharsets.UTF_8,
                            StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        url.complete(m.group(1));
                    }
                }
            } catch (IOException e) {
                url.completeExceptionally(e);
            }
            url.completeExceptionally(new IllegalStateException("node exited before listening"));
        }, "node-output");
        pump.setDaemon(true);
        pump.start();
        try {
            return new NodeProcess(p, url.get(60, TimeUnit.SECONDS), log, dataDir);
        } catch (Exception e) {
            p.destroyForcibly();
            throw new IllegalStateException("node did not start; its output:\n" + (Files.exists(log) ? Files.readString(log) : "(none)"), e);
        }
    }

    /** Waits for the process to end; its exit status, or -1 if it is still running after the timeout. */
    int awaitExit(long timeout, TimeUnit unit) throws InterruptedException {
        return process.waitFor(timeout, unit) ? process.exitValue() : -1;
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    String url() {
        return url;
    }

    /** SIGKILL: no shutdown hook, no flush, exactly like a crash. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    String output() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
