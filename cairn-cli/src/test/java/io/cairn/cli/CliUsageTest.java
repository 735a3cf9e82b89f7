package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The command line never prints a stack trace: every mistake is one line on stderr with a
 * documented exit code (0 ok, 1 the node refused, 2 usage, 3 unreachable).
 */
class CliUsageTest {
    private static void oneLineWithoutStackTrace(CliRun run) {
        assertThat(run.err()).doesNotContain("\tat ").doesNotContain("Exception");
        assertThat(run.err().strip().lines().count()).as(run.err()).isLessThanOrEqualTo(2);
    }

    @Test
    void aMissingBatchFileIsAUsageErrorNamingTheFile() {
        CliRun run = CliRun.of("batch", "/nonexistent/ops.json", "--url", "127.0.0.1:1");
        assertThat(run.code()).isEqualTo(Main.USAGE);
        assertThat(run.err()).contains("no such file: /nonexistent/ops.json");
        oneLineWithoutStackTrace(run);
    }

    @Test
    void aDataDirectoryWithoutACredentialIsAUsageErrorNotAnAnonymousRequest() {
        CliRun run = CliRun.of("put", "k", "v", "--url", "127.0.0.1:1", "--data-dir", "/nonexistent/node");
        assertThat(run.code()).isEqualTo(Main.USAGE);
        assertThat(run.err()).contains("--data-dir /nonexistent/node holds no admin credential");
        oneLineWithoutStackTrace(run);
    }

    @Test
    void aUrlWithoutSchemeMeansHttpAndAnUnreachableNodeIsExitThree() {
        CliRun run = CliRun.of("get", "k", "--url", "127.0.0.1:1", "--token", "t", "--timeout", "1500ms");
        assertThat(run.code()).isEqualTo(Main.UNREACHABLE);
        assertThat(run.err()).contains("cannot reach http://127.0.0.1:1");
        oneLineWithoutStackTrace(run);
    }

    @Test
    void badValuesAreUsageErrors() {
        for (String[] args : new String[][] {
                {"get", "k", "--url", "127.0.0.1:1", "--timeout", "0"},
                {"get", "k", "--url", "ftp://127.0.0.1:1"},
                {"get", "k", "--url", "http://"},
                {"get", "k", "--url", "notaurl"},
                {"get", "k", "--url", "http://127.0.0.1:99999"},
                {"membership", "decommission", "abc", "--url", "127.0.0.1:1"},
                {"settings", "set", "limits.maxValueBytes=1MiB", "limits.maxValueBytes=2MiB", "--url", "127.0.0.1:1"},
                {"certs", "issue", "--node", "0", "--ca", "/nonexistent-ca", "--out", "/tmp/cairn-never"},
                {"put", "k", "v", "--url", "127.0.0.1:1", "--namespace", "Not A Name"},
                {"get", "k", "--timeout", "soon"},
                {"get", "k", "--url", "127.0.0.1:1", "--timeout", "2h"},
                {"put", "k", "v", "-f", "pom.xml", "--url", "127.0.0.1:1"},
                {"put", "", "v", "--url", "127.0.0.1:1"},
                {"get", "", "--url", "127.0.0.1:1"},
                {"get", "k", "--serial", "-r", "2", "--url", "127.0.0.1:1"},
                {"nonsense"}}) {
            CliRun run = CliRun.of(args);
            assertThat(run.code()).as(String.join(" ", args) + ": " + run.err()).isEqualTo(Main.USAGE);
            assertThat(run.err()).startsWith("cairn" + (args[0].equals("membership") || args[0].equals("certs") || args[0].equals("settings") ? " " + args[0] + " " + args[1] + ":" : ""));
            oneLineWithoutStackTrace(run);
        }
    }

    @Test
    void aTokenNoHeaderCanCarryIsAUsageErrorBeforeAnythingIsSent(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path huge = dir.resolve("huge");
        java.nio.file.Files.write(huge, new byte[64 * 1024]);
        java.nio.file.Path spaced = dir.resolve("spaced");
        java.nio.file.Files.writeString(spaced, "two words\n");
        for (String[] args : new String[][] {
                {"get", "k", "--url", "127.0.0.1:1", "--token-file", huge.toString()},
                {"get", "k", "--url", "127.0.0.1:1", "--token-file", spaced.toString()},
                {"get", "k", "--url", "127.0.0.1:1", "--token", "caf\u00e9"},
                {"status", "--url", "127.0.0.1:1", "--token-file", dir.resolve("absent").toString()}}) {
            CliRun run = CliRun.of(args);
            assertThat(run.code()).as(String.join(" ", args) + ": " + run.err()).isEqualTo(Main.USAGE);
            assertThat(run.err()).startsWith("cairn: no usable token");
            oneLineWithoutStackTrace(run);
        }
    }

    @Test
    void versionPrintsTheBuildsVersion() {
        CliRun human = CliRun.of("version");
        assertThat(human.code()).isZero();
        assertThat(human.out()).startsWith("cairn " + io.cairn.server.CairnNode.VERSION);
        CliRun json = CliRun.of("version", "--json");
        assertThat(json.out()).contains("\"version\":\"" + io.cairn.server.CairnNode.VERSION + "\"");
    }
}
