package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cairn demo} as a user runs it, with real processes on loopback: it starts three nodes that
 * replicate to each other, prints their addresses, stops every node on SIGTERM, and fails with a
 * clear message when a port is taken.
 */
class DemoIT {
    private static final Pattern NODE_LINE = Pattern.compile(
            "^\\s*node (\\d)\\s+(zone-[a-c])\\s+(http://127\\.0\\.0\\.1:\\d+)\\s+internode 127\\.0\\.0\\.1:\\d+\\s+pid (\\d+)\\s*$");
    private static final String READY_LINE = "Press Ctrl-C to stop the cluster.";

    @TempDir
    Path tmp;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    private Demo demo;

    @AfterEach
    void cleanUp() {
        if (demo != null) {
            demo.process.descendants().forEach(ProcessHandle::destroyForcibly);
            demo.process.destroyForcibly();
        }
    }

    @Test
    void startsThreeReplicatingNodesAndStopsThemAllOnSigterm() throws Exception {
        demo = Demo.start(tmp.resolve("demo"), "--base-port", "0", "--fresh");
        assertThat(demo.awaitLine(READY_LINE, Duration.ofSeconds(30))).as("demo output:%n%s", demo.output()).isTrue();

        List<String> urls = new ArrayList<>();
        List<Long> pids = new ArrayList<>();
        for (String line : demo.lines()) {
            Matcher m = NODE_LINE.matcher(line);
            if (m.matches()) {
                assertThat(m.group(1)).isEqualTo(Integer.toString(urls.size() + 1));
                assertThat(m.group(2)).isEqualTo("zone-" + (char) ('a' + urls.size()));
                urls.add(m.group(3));
                pids.add(Long.parseLong(m.group(4)));
            }
        }
        assertThat(urls).as("node lines in:%n%s", demo.output()).hasSize(3).doesNotHaveDuplicates();
        List<ProcessHandle> children = demo.process.descendants().toList();
        assertThat(children).extracting(ProcessHandle::pid).containsAll(pids);

        // The tour's first step names the cluster's admin credential; without it every data route is refused.
        Matcher tokenLine = Pattern.compile("export CAIRN_TOKEN=\\$\\(cat (\\S+)\\)").matcher(demo.output());
        assertThat(tokenLine.find()).as("the tour says where the token is:%n%s", demo.output()).isTrue();
        String auth = "Bearer " + java.nio.file.Files.readString(java.nio.file.Path.of(tokenLine.group(1))).strip();
        assertThat(http.send(HttpRequest.newBuilder(URI.create(urls.get(0) + "/kv/tour")).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
        HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(urls.get(0) + "/kv/tour?w=all")).header("Authorization", auth)
                .timeout(Duration.ofSeconds(10)).PUT(HttpRequest.BodyPublishers.ofString("hello")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        assertThat(put.headers().firstValue("Cairn-Acks")).contains("3");

        HttpResponse<String> get = http.send(HttpRequest.newBuilder(URI.create(urls.get(2) + "/kv/tour?r=all")).header("Authorization", auth)
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(get.statusCode()).isEqualTo(200);
        assertThat(get.body()).isEqualTo("hello");
        assertThat(get.headers().firstValue("Cairn-Replies")).contains("3");

        demo.process.destroy();
        assertThat(demo.process.waitFor(30, TimeUnit.SECONDS)).as("demo exits within 30 s of SIGTERM").isTrue();
        assertThat(children).as("nodes still running after the demo stopped").noneMatch(ProcessHandle::isAlive);
        assertThat(demo.output()).as("exit %d", demo.process.exitValue()).contains("Stopping the cluster").doesNotContain("killed (SIGKILL)");
        for (long pid : pids) {
            assertThat(demo.output()).containsPattern("node \\d \\(pid " + pid + "\\) stopped");
        }
    }

    @Test
    void aBusyPortFailsTheStartWithTheNodesLogAndStopsTheOthers() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            demo = Demo.start(tmp.resolve("demo"), "--base-port", Integer.toString(taken.getLocalPort()));
            assertThat(demo.process.waitFor(30, TimeUnit.SECONDS)).as("demo gives up within 30 s").isTrue();
            List<ProcessHandle> leftovers = demo.process.descendants().toList();
                assertThat(demo.process.exitValue()).as(demo.output()).isEqualTo(1);
            assertThat(leftovers).isEmpty();
            assertThat(demo.output())
                    .contains("node 1 (pid ")
                    .contains("before it was listening")
                    .contains("is in use")
                    .contains("last lines of " + tmp.resolve("demo").resolve("node-1.log"))
                    .contains("Address already in use");
        }
    }

    /**
     * The demo process, its output going to a file: reading a pipe races with the JDK closing it
     * when the process exits, which loses the last lines (the ones saying how the nodes stopped).
     */
    private static final class Demo {
        final Process process;
        private final Path output;

        private Demo(Process process, Path output) {
            this.process = process;
            this.output = output;
        }

        static Demo start(Path dir, String... args) throws IOException {
            String jar = System.getProperty("cairn.jar");
            if (jar == null || !Files.isRegularFile(Path.of(jar))) {
                throw new IllegalStateException("system property cairn.jar must point at the built launcher jar, got " + jar);
            }
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED"));
            if (Runtime.version().feature() >= 23) {
                cmd.add("--sun-misc-unsafe-memory-access=allow");
            }
            // The demo passes its JVM options on to the nodes: keep the four JVMs small.
            cmd.addAll(List.of("-Xmx256m", "-jar", jar, "demo", "--dir", dir.toString()));
            cmd.addAll(List.of(args));
            Path output = dir.resolveSibling("demo-output.txt");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output.toFile()).start();
            return new Demo(p, output);
        }

        /** Waits until the demo printed the line, exited, or the time is up; whether it printed it. */
        boolean awaitLine(String wanted, Duration timeout) throws IOException, InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!lines().contains(wanted) && process.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            return lines().contains(wanted);
        }

        List<String> lines() throws IOException {
            return Files.exists(output) ? Files.readAllLines(output, StandardCharsets.UTF_8) : List.of();
        }

        String output() throws IOException {
            return String.join("\n", lines());
        }
    }
}
