package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The start banner's "try" lines work as printed, whatever port and data directory the node has. */
class StartBannerTest {
    private static final Path LOCAL = Path.of("cairn-data");

    @Test
    void atTheDefaultsTheCliLineNeedsNoOptions() {
        List<String> lines = StartCommand.tryLines("http://127.0.0.1:7070", LOCAL.resolve("auth/admin.token"), LOCAL);
        assertThat(lines.get(1).strip()).isEqualTo("bin/cairn get greeting");
        assertThat(lines.get(0)).contains("Authorization: Bearer $(cat ").contains("http://127.0.0.1:7070/kv/greeting");
    }

    @Test
    void anotherPortAndDataDirectoryAreNamed() {
        Path dir = Path.of("/tmp/my node");
        List<String> lines = StartCommand.tryLines("http://127.0.0.1:7171", dir.resolve("auth/admin.token"), dir);
        assertThat(lines.get(1).strip()).isEqualTo("bin/cairn get greeting --url http://127.0.0.1:7171 --data-dir '/tmp/my node'");
        assertThat(lines.get(0)).contains("$(cat '/tmp/my node/auth/admin.token')");
    }

    @Test
    void thePutStoresTextNotCurlsFormContentType() {
        for (Path token : new Path[] {null, LOCAL.resolve("auth/admin.token")}) {
            String put = StartCommand.tryLines("http://127.0.0.1:7070", token, LOCAL).get(0);
            assertThat(put).contains("-H 'Content-Type: text/plain' --data-binary 'hello'").doesNotContain("--data ");
        }
    }
}
