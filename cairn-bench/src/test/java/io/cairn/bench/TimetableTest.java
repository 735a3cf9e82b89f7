package io.cairn.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TimetableTest {
  private static final long START = 5_000_000_000L;

  @Test
  void slotsAreDueAtStartPlusKOverRate() {
    Timetable t = new Timetable(START, 3);
    assertThat(t.intended(0)).isEqualTo(START);
    assertThat(t.intended(1)).isEqualTo(START + 333_333_333);
    assertThat(t.intended(3)).isEqualTo(START + 1_000_000_000);
    assertThat(t.dueBy(START - 1)).isZero();
    assertThat(t.dueBy(START)).isEqualTo(1);
    assertThat(t.dueBy(START + 333_333_332)).isEqualTo(1);
    assertThat(t.dueBy(START + 333_333_333)).isEqualTo(2);
    assertThat(t.dueBy(START + 1_000_000_000)).isEqualTo(4);
  }

  @Test
  void oneSecondHoldsExactlyTheRate() {
    Timetable t = new Timetable(START, 50_000);
    assertThat(t.dueBy(START + 1_000_000_000 - 1)).isEqualTo(50_000);
    Timetable fractional = new Timetable(START, 0.5);
    assertThat(fractional.dueBy(START + 1_999_999_999)).isEqualTo(1);
    assertThat(fractional.dueBy(START + 2_000_000_000)).isEqualTo(2);
  }

  @Test
  void dueByAgreesWithIntendedForSeededRatesAndTimes() {
    SplittableRandom random = new SplittableRandom(42);
    for (int i = 0; i < 20_000; i++) {
      double rate = Math.exp(random.nextDouble(Math.log(0.1), Math.log(5_000_000)));
      Timetable t = new Timetable(START, rate);
      long now = START + random.nextLong(0, 3_600_000_000_000L);
      long due = t.dueBy(now);
      assertThat(due).as("rate %s now %s", rate, now).isPositive();
      assertThat(t.intended(due - 1)).as("rate %s now %s", rate, now).isLessThanOrEqualTo(now);
      assertThat(t.intended(due)).as("rate %s now %s", rate, now).isGreaterThan(now);
    }
  }

  @Test
  void refusesRatesThatAreNotPositive() {
    assertThatThrownBy(() -> new Timetable(START, 0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Timetable(START, Double.NaN))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
