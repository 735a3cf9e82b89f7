package io.cairn.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class TargetTest {
  @Test
  void parsesHostPortAndPath() {
    assertThat(Target.parse("http://127.0.0.1:7070")).isEqualTo(new Target("127.0.0.1", 7070, ""));
    assertThat(Target.parse("http://localhost/db/")).isEqualTo(new Target("localhost", 80, "/db"));
    Target v6 = Target.parse("http://[::1]:7071");
    assertThat(v6.authority()).isEqualTo("[::1]:7071");
    assertThat(v6.socketHost()).isEqualTo("::1");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "127.0.0.1:7070", "https://127.0.0.1", "http://", "http://h:1/?a=b",
      "http://u@h:1", "ftp://h", "http://h:1/#x", "http://bad host"})
  void rejectsBadUrls(String url) {
    assertThatThrownBy(() -> Target.parse(url)).isInstanceOf(IllegalArgumentException.class);
  }
}
