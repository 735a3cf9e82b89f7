package io.cairn.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReloadingFilesTest {
    @TempDir
    Path dir;

    private Instant now = Instant.parse("2026-12-02T00:00:00Z");

    private final Clock clock = new Clock() {
        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    };

    /** "Builds" the file's text, refusing text that says "bad" as a broken certificate would be refused. */
    private static String build(List<Path> files) {
        try {
            String text = Files.readString(files.get(0));
            if (text.contains("bad")) {
                throw new SecurityConfigException("refused " + text);
            }
            return text;
        } catch (IOException e) {
            throw new SecurityConfigException("unreadable", e);
        }
    }

    @Test
    void changedFilesAreLoadedAtMostOnceASecondAndBadOnesLeaveTheOldInUse() throws Exception {
        Path f = dir.resolve("material");
        write(f, "one", 1);
        List<String> reloaded = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        ReloadingFiles<String> r = new ReloadingFiles<>(List.of(f), clock, ReloadingFilesTest::build, reloaded::add, e -> refused.add(e.getMessage()));
        assertThat(r.get()).isEqualTo("one");

        write(f, "two", 2);
        assertThat(r.get()).as("not looked at again within the second").isEqualTo("one");
        now = now.plusSeconds(2);
        assertThat(r.get()).isEqualTo("two");
        assertThat(reloaded).containsExactly("two");

        write(f, "bad three", 3);
        now = now.plusSeconds(2);
        assertThat(r.get()).as("a refused change keeps the old material").isEqualTo("two");
        assertThat(refused).containsExactly("refused bad three");
        now = now.plusSeconds(2);
        assertThat(r.get()).isEqualTo("two");
        assertThat(refused).as("the same bad files are not tried again").hasSize(1);

        write(f, "four", 4);
        now = now.plusSeconds(2);
        assertThat(r.get()).isEqualTo("four");
        assertThat(r.reloads()).isEqualTo(2);
        assertThat(r.failures()).isEqualTo(1);
    }

    @Test
    void badFilesAtStartAreTheCallersFailure() throws Exception {
        Path f = dir.resolve("material");
        write(f, "bad", 1);
        assertThatThrownBy(() -> new ReloadingFiles<>(List.of(f), clock, ReloadingFilesTest::build, x -> { }, e -> { }))
                .isInstanceOf(SecurityConfigException.class);
    }

    /** Writes {@code text} with a distinct modification time, as a rotation on a real disk would have. */
    private static void write(Path f, String text, int generation) throws Exception {
        Files.writeString(f, text);
        Files.setLastModifiedTime(f, FileTime.fromMillis(1_000_000L * generation));
    }
}
