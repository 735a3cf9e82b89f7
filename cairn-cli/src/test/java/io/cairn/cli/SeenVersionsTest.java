package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line's memory of the newest ETag per key: kept across calls, bounded, and never in the way. */
class SeenVersionsTest {
    @TempDir
    Path dir;

    private static byte[] k(String key) {
        return key.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void remembersTheNewestEtagPerNamespaceAndKeyAcrossInstances() {
        Path file = dir.resolve("state/seen-etags");
        new SeenVersions(file).put("default", k("a"), "\"01a23c0ad2930000-1\"");
        new SeenVersions(file).put("sessions", k("a"), "\"01a23c0ad2940000-2\"");
        new SeenVersions(file).put("default", k("a"), "\"01a23c0ad2950000-3\"");
        SeenVersions later = new SeenVersions(file);
        assertThat(later.get("default", k("a"))).isEqualTo("\"01a23c0ad2950000-3\"");
        assertThat(later.get("sessions", k("a"))).isEqualTo("\"01a23c0ad2940000-2\"");
        assertThat(later.get(null, k("a"))).as("no namespace is the default one").isEqualTo("\"01a23c0ad2950000-3\"");
        assertThat(later.get("default", k("b"))).isNull();
    }

    @Test
    void keepsTheMostRecentlyUsedKeysOnlyAndIgnoresWhatIsNotAnEtag() {
        Path file = dir.resolve("seen-etags");
        SeenVersions seen = new SeenVersions(file);
        for (int i = 0; i <= SeenVersions.MAX_ENTRIES; i++) {
            seen.put("default", k("key-" + i), "\"00000000000000%02x-1\"".formatted(i % 256));
        }
        assertThat(seen.get("default", k("key-0"))).as("the oldest went").isNull();
        assertThat(seen.get("default", k("key-" + SeenVersions.MAX_ENTRIES))).isNotNull();
        seen.put("default", k("x"), "not an etag\nwith a line break");
        assertThat(seen.get("default", k("x"))).isNull();
    }

    @Test
    void aDamagedOrUnwritableFileIsAnEmptyMemoryNotAnError() throws Exception {
        Path file = dir.resolve("seen-etags");
        Files.writeString(file, "garbage without fields\n\u0000\u0001 \"zz\"\ndefault:61 \"01a23c0ad2950000-3\"\n", StandardCharsets.ISO_8859_1);
        assertThat(new SeenVersions(file).get("default", k("a"))).isEqualTo("\"01a23c0ad2950000-3\"");
        Path blocked = dir.resolve("a-file");
        Files.writeString(blocked, "x");
        SeenVersions nowhere = new SeenVersions(blocked.resolve("seen-etags"));
        nowhere.put("default", k("a"), "\"01a23c0ad2950000-3\"");
        assertThat(nowhere.get("default", k("a"))).isNull();
    }
}
