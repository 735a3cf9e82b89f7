package io.cairn.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The cluster clock setting: its default, its bounds, and that a bad value is reported by name. */
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
}
