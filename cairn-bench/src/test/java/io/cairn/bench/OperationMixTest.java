package io.cairn.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class OperationMixTest {
  @Test
  void parsesWeightsAndPicksInProportion() {
    OperationMix mix = OperationMix.parse("get=90, put=10");
    assertThat(mix.totalWeight()).isEqualTo(100);
    assertThat(mix.weight(Operation.GET)).isEqualTo(90);
    assertThat(mix.weight(Operation.PUT)).isEqualTo(10);
    assertThat(mix.weight(Operation.DELETE)).isZero();
    Map<Operation, Integer> picks = new EnumMap<>(Operation.class);
    for (int draw = 0; draw < mix.totalWeight(); draw++) {
      picks.merge(mix.pick(draw), 1, Integer::sum);
    }
    assertThat(picks)
        .containsExactlyInAnyOrderEntriesOf(Map.of(Operation.GET, 90, Operation.PUT, 10));
    assertThat(mix).hasToString("get=90,put=10");
  }

  @Test
  void acceptsAnyOrderCaseAndZeroWeights() {
    OperationMix mix = OperationMix.parse("DELETE=1,Put=2,get=0");
    assertThat(mix.totalWeight()).isEqualTo(3);
    assertThat(mix.pick(0)).isEqualTo(Operation.PUT);
    assertThat(mix.pick(2)).isEqualTo(Operation.DELETE);
    assertThat(mix).hasToString("put=2,delete=1");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "", " ", "get", "get=", "=5", "get=-1", "get=abc", "get=1.5", "scan=10", "get=0",
        "get=0,put=0", "get=1,get=2", "get=90,,put=10", "get=90;put=10", "get=2000000"
      })
  void rejectsBadInput(String text) {
    assertThatThrownBy(() -> OperationMix.parse(text)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void rejectsDrawOutOfRange() {
    assertThatThrownBy(() -> OperationMix.parse("get=1").pick(1))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
