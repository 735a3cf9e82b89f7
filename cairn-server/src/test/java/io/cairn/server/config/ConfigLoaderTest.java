package io.cairn.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Settings parsing: the cluster clock setting (default, bounds), every bad value reported by name, size units. */
class ConfigLoaderTest {
    @Test
    void theMaxClockOffsetDefaultsTo500Milliseconds() {
        assertThat(ConfigLoader.load(null, Map.of()).cluster().maxClockOffset()).isEqualTo(Duration.ofMillis(500));
        assertThat(ConfigLoader.DEFAULTS).containsEntry("cluster.maxClockOffset", "500ms");
    }

    @Test
    void theMaxClockOffsetIsParsedAsADuration() {
        assertThat(ConfigLoader.load(null, Map.of("cluster.maxClockOffset", "2s")).cluster().maxClockOffset()).isEqualTo(Duration.ofSeconds(2));
        assertThat(ConfigLoader.load(null, Map.of("cluster.maxClockOffset", "10ms")).cluster().maxClockOffset()).isEqualTo(Duration.ofMillis(10));
    }

    @Test
    void aMaxClockOffsetOutsideTenMillisecondsToAMinuteIsRefused() {
        for (String bad : new String[] {"5ms", "0", "2m", "-1s", "soon"}) {
            ConfigException e = catchThrowableOfType(ConfigException.class,
                    () -> ConfigLoader.load(null, Map.of("cluster.maxClockOffset", bad)));
            assertThat(e).as(bad).isNotNull();
            assertThat(e.problems()).as(bad).singleElement().asString().startsWith("cluster.maxClockOffset:");
        }
    }

    @Test
    void badValuesOfTheSettingsParsedLastAreRefusedNotReplaced() {
        Map<String, String> bad = Map.of("moves.maxBytesPerSecond", "fast", "metadata.voters", "4", "moves.chunkSize", "64MiB",
                "audit.maxFiles", "0", "moves.maxConcurrent", "0");
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(null, bad));
        assertThat(e).isNotNull();
        assertThat(e.problems()).hasSize(5).anySatisfy(p -> assertThat(p).startsWith("moves.maxBytesPerSecond:"))
                .anySatisfy(p -> assertThat(p).startsWith("metadata.voters:"))
                .anySatisfy(p -> assertThat(p).startsWith("moves.chunkSize:"))
                .anySatisfy(p -> assertThat(p).startsWith("audit.maxFiles:"))
                .anySatisfy(p -> assertThat(p).startsWith("moves.maxConcurrent:"));
        for (String voters : new String[] {"2", "4", "6"}) {
            ConfigException refused = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(null, Map.of("metadata.voters", voters)));
            assertThat(refused.problems()).as("one rule, one message").containsExactly("metadata.voters: must be 3 or 5, got " + voters);
        }
        ConfigException noValues = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(null, Map.of("limits.maxValueBytes", "0")));
        assertThat(noValues.problems()).as("a limit that refuses every value").singleElement().asString().startsWith("limits.maxValueBytes:");
        ConfigException notANumber = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(null, Map.of("metadata.voters", "x")));
        assertThat(notANumber.problems()).singleElement().asString().startsWith("metadata.voters: must be a whole number");
    }

    @Test
    void thePaxosHedgeDefaultsTo20MillisecondsAndNeverOutlastsTheRound() {
        assertThat(ConfigLoader.load(null, Map.of()).cluster().paxos().hedgeMillis()).isEqualTo(20);
        assertThat(ConfigLoader.load(null, Map.of("cluster.paxos.hedge", "0")).cluster().paxos().hedgeMillis()).isZero();
        // Left at its default under a shorter round, it is the round.
        assertThat(ConfigLoader.load(null, Map.of("cluster.paxos.roundTimeout", "10ms")).cluster().paxos().hedgeMillis()).isEqualTo(10);
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.load(null, Map.of("cluster.paxos.roundTimeout", "10ms", "cluster.paxos.hedge", "50ms")));
        assertThat(e).isNotNull();
        assertThat(e.problems()).singleElement().asString().startsWith("cluster.paxos.hedge (");
    }

    @Test
    void paxosLeaseKeysDefaultTo65536AndZeroTurnsLeasesOff() {
        assertThat(ConfigLoader.load(null, Map.of()).cluster().paxos().leaseKeys()).isEqualTo(65_536);
        assertThat(ConfigLoader.load(null, Map.of("cluster.paxos.leaseKeys", "0")).cluster().paxos().leaseKeys()).isZero();
        // Under a shorter round the hedge is adjusted; the lease setting still applies.
        assertThat(ConfigLoader.load(null, Map.of("cluster.paxos.roundTimeout", "10ms", "cluster.paxos.leaseKeys", "7")).cluster().paxos().leaseKeys())
                .isEqualTo(7);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(null, Map.of("cluster.paxos.leaseKeys", "-1")));
        assertThat(e).isNotNull();
        assertThat(e.problems()).singleElement().asString().startsWith("cluster.paxos.leaseKeys");
    }

    @Test
    void sizesTakeTebibytes() {
        NodeConfig c = ConfigLoader.load(null, Map.of("moves.maxBytesPerSecond", "1TiB", "antiEntropy.maxBytesPerSecond", "1t"));
        assertThat(c.elastic().moveBytesPerSecond()).isEqualTo(1L << 40);
        assertThat(c.antiEntropy().maxBytesPerSecond()).isEqualTo(1L << 40);
        assertThat(c.elastic().moveChunkBytes()).isEqualTo(1L << 20);
    }

    @Test
    void everySettingHasItsOwnEnvironmentVariableBetweenTheFileAndTheFlags(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws java.io.IOException {
        assertThat(ConfigLoader.environmentName("http.port")).isEqualTo("CAIRN_HTTP_PORT");
        assertThat(ConfigLoader.environmentName("storage.blockCache")).isEqualTo("CAIRN_STORAGE_BLOCK_CACHE");
        assertThat(ConfigLoader.environmentName("cluster.paxos.roundTimeout")).isEqualTo("CAIRN_CLUSTER_PAXOS_ROUND_TIMEOUT");
        assertThat(ConfigLoader.DEFAULTS.keySet().stream().map(ConfigLoader::environmentName).distinct().count())
                .as("no two settings share a variable").isEqualTo(ConfigLoader.DEFAULTS.size());

        java.nio.file.Path yaml = dir.resolve("cairn.yaml");
        java.nio.file.Files.writeString(yaml, "http:\n  port: 7001\nttl:\n  default: 1h\n");
        Map<String, String> env = Map.of("CAIRN_HTTP_PORT", "7002", "CAIRN_TTL_DEFAULT", "2h", "CAIRN_URL", "http://elsewhere:1");
        NodeConfig fromEnv = ConfigLoader.load(yaml, env, Map.of());
        assertThat(fromEnv.http().port()).as("the environment overrides the file").isEqualTo(7002);
        assertThat(fromEnv.ttl().defaultTtl()).isEqualTo(Duration.ofHours(2));
        assertThat(ConfigLoader.load(yaml, env, Map.of("http.port", "7003")).http().port()).as("flags override the environment").isEqualTo(7003);

        ConfigException bad = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(null, Map.of("CAIRN_HTTP_PORT", "many"), Map.of()));
        assertThat(bad.problems()).singleElement().asString().startsWith("http.port:");
    }

    @Test
    void aYamlErrorNamesItsLineAndColumn(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws java.io.IOException {
        java.nio.file.Path yaml = dir.resolve("cairn.yaml");
        java.nio.file.Files.writeString(yaml, "http:\n  port: 7001\n  host: [1\n");
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(yaml, Map.of()));
        assertThat(e.problems()).singleElement().asString().contains("line ").contains("column ").contains("not valid YAML");
    }

    /**
     * The release's conf/cairn.yaml (the reference block of docs/operations.md, commented out)
     * lists exactly the settings the node knows: a new setting that is not documented there, or a
     * documented one that no longer exists, fails here.
     */
    @Test
    void theShippedConfigurationFileListsEverySetting() throws java.io.IOException {
        java.util.List<String> lines = java.nio.file.Files.readAllLines(java.nio.file.Path.of("..", "dist", "conf", "cairn.yaml"));
        StringBuilder yaml = new StringBuilder();
        boolean header = true;
        for (String line : lines) {
            if (header) {
                header = !line.isBlank();
                continue;
            }
            yaml.append(line.startsWith("# ") ? line.substring(2) : line.startsWith("#") ? line.substring(1) : line).append('\n');
        }
        com.fasterxml.jackson.databind.JsonNode root = new com.fasterxml.jackson.databind.ObjectMapper(
                new com.fasterxml.jackson.dataformat.yaml.YAMLFactory()).readTree(yaml.toString());
        java.util.Set<String> listed = new java.util.TreeSet<>();
        flatten("", root, listed);
        assertThat(listed).containsExactlyInAnyOrderElementsOf(ConfigLoader.DEFAULTS.keySet());
    }

    private static void flatten(String prefix, com.fasterxml.jackson.databind.JsonNode node, java.util.Set<String> into) {
        if (node.isObject()) {
            node.fields().forEachRemaining(e -> flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), into));
        } else {
            into.add(prefix);
        }
    }
}
