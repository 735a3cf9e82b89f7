package io.cairn.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DurationConverterTest {
  @Test
  void parsesUnitsCompoundsFractionsAndIso() {
    assertThat(DurationConverter.parse("30s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(DurationConverter.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(DurationConverter.parse("2m")).isEqualTo(Duration.ofMinutes(2));
    assertThat(DurationConverter.parse("1h")).isEqualTo(Duration.ofHours(1));
    assertThat(DurationConverter.parse("1m30s")).isEqualTo(Duration.ofSeconds(90));
    assertThat(DurationConverter.parse("1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThat(DurationConverter.parse(" 10 ")).isEqualTo(Duration.ofSeconds(10));
    assertThat(DurationConverter.parse("0s")).isEqualTo(Duration.ZERO);
    assertThat(DurationConverter.parse("PT5S")).isEqualTo(Duration.ofSeconds(5));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"", "s", "10x", "-5s", "5 x", "1.s", "ms", "30sec", "PT", "P-1D", "1m 30"})
  void rejectsBadInput(String text) {
    assertThatThrownBy(() -> DurationConverter.parse(text))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
