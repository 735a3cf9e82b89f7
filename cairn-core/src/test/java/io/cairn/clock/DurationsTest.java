package io.cairn.clock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The one duration grammar the node's settings, the CLI and the load generator share. */
class DurationsTest {
    @Test
    void unitsCompoundsFractionsBareNumbersAndIso() {
        assertThat(Durations.parse("500ms", 1000)).isEqualTo(Duration.ofMillis(500));
        assertThat(Durations.parse("1m30s", 1000)).isEqualTo(Duration.ofSeconds(90));
        assertThat(Durations.parse("1m 30s", 1000)).isEqualTo(Duration.ofSeconds(90));
        assertThat(Durations.parse("30 s", 1000)).isEqualTo(Duration.ofSeconds(30));
        assertThat(Durations.parse("1.5h", 1000)).isEqualTo(Duration.ofMinutes(90));
        assertThat(Durations.parse("2d", 1000)).isEqualTo(Duration.ofDays(2));
        assertThat(Durations.parse("45", 1000)).isEqualTo(Duration.ofSeconds(45));
        assertThat(Durations.parse("45", 1)).isEqualTo(Duration.ofMillis(45));
        assertThat(Durations.parse("0.25", 1000)).isEqualTo(Duration.ofMillis(250));
        assertThat(Durations.parse("PT1M", 1000)).isEqualTo(Duration.ofMinutes(1));
        assertThat(Durations.parse("1h2m3s4ms", 1000)).isEqualTo(Duration.ofMillis(3_723_004));
    }

    @Test
    void anythingElseIsRefusedWithTheFormsItTakes() {
        for (String bad : new String[] {"", " ", "1 hour", "soon", "-5s", "5x", "1m30", "s", "PT-1S", "9".repeat(70), "999999999999999999d", "1h1h", "1s1m", "30m1h", "1s1ms1s", "1s\u0000", "1h\n", "\u000b1h", "1h\t30m", "1\u00a0s"}) {
            assertThatThrownBy(() -> Durations.parse(bad, 1000)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> Durations.parse("1 hour", 1000)).hasMessageContaining("1m30s");
    }
}
