package io.cairn.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditLogTest {
    @TempDir
    Path dir;

    @Test
    void eventsAreJsonLinesAndRotationKeepsTheTrailWithinItsBounds() throws Exception {
        try (AuditLog log = new AuditLog(dir, 4096, 3, 100_000, 7, Clock.systemUTC())) {
            for (int i = 0; i < 2_000; i++) {
                log.record("internode.connection", "refused", "unknown", "127.0.0.1:" + i, Map.of("reason", "test " + i));
            }
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.sorted().toList();
        }
        assertThat(files).extracting(p -> p.getFileName().toString()).containsExactly("audit.log", "audit.log.1", "audit.log.2");
        for (Path f : files) {
            assertThat(Files.size(f)).isLessThanOrEqualTo(4096);
        }
        List<String> newest = Files.readAllLines(dir.resolve("audit.log"));
        JsonNode last = new ObjectMapper().readTree(newest.get(newest.size() - 1));
        assertThat(last.path("event").asText()).isEqualTo("internode.connection");
        assertThat(last.path("outcome").asText()).isEqualTo("refused");
        assertThat(last.path("from").asText()).isEqualTo("127.0.0.1:1999");
        assertThat(last.path("node").asInt()).isEqualTo(7);
        assertThat(last.path("time").asText()).isNotEmpty();
    }

    @Test
    void aFloodIsDroppedAndCountedNeverQueuedWithoutBoundAndTheNextLineSaysSo() throws Exception {
        // Files large enough that no line is rotated away: every line is read back.
        AuditLog log = new AuditLog(dir, 1 << 26, 2, 4, 1, Clock.systemUTC());
        for (int i = 0; i < 100_000; i++) {
            log.record("internode.connection", "refused", "unknown", "flood", null);
        }
        long dropped = log.dropped();
        assertThat(dropped).as("a queue of 4 cannot take 100 000 events at once").isPositive();
        Thread.sleep(200);
        log.record("admin.faults", "done", null, "127.0.0.1:1", null);
        log.close();
        assertThat(log.written() + log.dropped()).isEqualTo(100_001);
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.toList();
        }
        assertThat(files).as("nothing rotated").hasSize(1);
        List<String> lines = Files.readAllLines(dir.resolve("audit.log"));
        long reported = 0;
        for (String line : lines) {
            reported += new ObjectMapper().readTree(line).path("droppedBefore").asLong();
        }
        assertThat(reported).as("every lost event is reported by a later line").isEqualTo(log.dropped());
    }
}
