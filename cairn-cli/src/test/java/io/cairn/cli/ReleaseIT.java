package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The release tarball {@code ./mvnw package} makes: it unpacks, its checksums hold, and its own
 * {@code bin/cairn} starts a node from {@code lib/cairn.jar} (nothing to build) that its
 * {@code put} and {@code get} then talk to.
 */
class ReleaseIT {
    private static final Pattern LISTENING = Pattern.compile("listening on (http://\\S+)");

    @TempDir
    Path dir;

    @Test
    void theTarballUnpacksChecksAndRunsANode() throws Exception {
        Path target = Path.of(System.getProperty("cairn.jar")).getParent();
        Path tarball;
        try (Stream<Path> files = Files.list(target)) {
            tarball = files.filter(f -> f.getFileName().toString().matches("cairn-.*\\.tar\\.gz")).findFirst().orElseThrow();
        }
        assertThat(run(target, "sha256sum", "-c", tarball.getFileName() + ".sha256").code()).isZero();
        assertThat(run(dir, "tar", "xzf", tarball.toString()).code()).isZero();
        Path release;
        try (Stream<Path> files = Files.list(dir)) {
            release = files.filter(Files::isDirectory).findFirst().orElseThrow();
        }
        Run sums = run(release, "sha256sum", "-c", "SHA256SUMS");
        assertThat(sums.code()).as(sums.out()).isZero();
        assertThat(sums.out()).contains("lib/cairn.jar: OK").contains("bin/cairn: OK").contains("conf/cairn.yaml: OK");
        assertThat(Files.isExecutable(release.resolve("bin/cairn"))).isTrue();
        assertThat(release.resolve("LICENSE")).exists();

        String version = Files.readString(release.resolve("VERSION")).strip();
        Run v = run(release, "bin/cairn", "version");
        assertThat(v.out()).as(v.out()).contains("cairn " + version);
        // Through a link on the PATH (here a relative link to an absolute one): still the release's
        // jar, not an attempt to build a checkout that is not there.
        Path bin = Files.createDirectories(dir.resolve("path-bin"));
        Files.createSymbolicLink(bin.resolve("cairn-abs"), release.resolve("bin/cairn"));
        Files.createSymbolicLink(bin.resolve("cairn"), Path.of("cairn-abs"));
        Run linked = run(dir, bin.resolve("cairn").toString(), "version");
        assertThat(linked.code()).as(linked.out()).isZero();
        assertThat(linked.out()).as(linked.out()).contains("cairn " + version);

        Path data = dir.resolve("data");
        List<String> start = List.of(release.resolve("bin/cairn").toString(), "start", "--http-port", "0", "--data-dir", data.toString(),
                "--config", release.resolve("conf/cairn.yaml").toString());
        Process node = process(release, start).redirectErrorStream(true).start();
        try {
            CompletableFuture<String> url = new CompletableFuture<>();
            StringBuilder output = new StringBuilder();
            Thread pump = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        synchronized (output) {
                            output.append(line).append('\n');
                        }
                        Matcher m = LISTENING.matcher(line);
                        if (m.find()) {
                            url.complete(m.group(1));
                        }
                    }
                } catch (IOException e) {
                    url.completeExceptionally(e);
                }
                url.completeExceptionally(new IllegalStateException("the node exited before listening"));
            }, "release-node-output");
            pump.setDaemon(true);
            pump.start();
            String base;
            try {
                base = url.get(90, TimeUnit.SECONDS);
            } catch (Exception e) {
                synchronized (output) {
                    throw new AssertionError("the release's node did not start: " + output, e);
                }
            }
            Run put = run(release, "bin/cairn", "put", "greeting", "hello from the release", "--url", base, "--data-dir", data.toString());
            assertThat(put.code()).as(put.out()).isZero();
            assertThat(put.out()).matches("(?s)\"[0-9a-f]{16}-[0-9a-f]+\"\\s*");
            Run get = run(release, "bin/cairn", "get", "greeting", "--url", base.replace("http://", ""), "--data-dir", data.toString());
            assertThat(get.code()).as(get.out()).isZero();
            assertThat(get.out()).isEqualTo("hello from the release");
        } finally {
            node.destroy();
            if (!node.waitFor(30, TimeUnit.SECONDS)) {
                node.destroyForcibly();
            }
        }
    }

    private record Run(int code, String out) {}

    private ProcessBuilder process(Path in, List<String> command) {
        ProcessBuilder pb = new ProcessBuilder(command).directory(in.toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("HOME", dir.toString()); // the launcher's class-data archive goes under it
        pb.environment().remove("CAIRN_JAVA_OPTS");
        return pb;
    }

    private Run run(Path in, String... command) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(command));
        Process p = process(in, cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish: " + out);
        }
        return new Run(p.exitValue(), out);
    }
}
