package io.cairn.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

class BenchCommandTest {
  @Test
  void defaultsMatchTheDocumentedOnes() {
    BenchCommand command = new BenchCommand();
    new CommandLine(command).parseArgs();
    BenchSettings settings = command.settings();
    assertThat(settings.targets()).containsExactly(new Target("127.0.0.1", 7070, ""));
    assertThat(settings.connections()).isEqualTo(64);
    assertThat(settings.threads()).isEqualTo(2);
    assertThat(settings.mix()).hasToString("get=90,put=10");
    assertThat(settings.keyCount()).isEqualTo(100_000);
    assertThat(settings.distribution()).isEqualTo(Distribution.UNIFORM);
    assertThat(settings.zipfTheta()).isEqualTo(0.99);
    assertThat(settings.valueSizeBytes()).isEqualTo(100);
    assertThat(settings.duration()).isEqualTo(Duration.ofSeconds(30));
    assertThat(settings.warmup()).isEqualTo(Duration.ofSeconds(5));
    assertThat(settings.prefill()).isFalse();
    assertThat(settings.keyPrefix()).isEqualTo("bench-");
    assertThat(settings.query()).isEmpty();
    assertThat(settings.rateOpsPerSecond()).isZero();
    assertThat(settings.maxBacklog()).isEqualTo(1000);
  }

  @Test
  void parsesEveryOption() {
    BenchCommand command = new BenchCommand();
    new CommandLine(command)
        .parseArgs(
            "--url", "http://127.0.0.1:7070", "--url", "http://127.0.0.1:7071",
            "--connections", "8", "--threads", "1", "--mix", "get=50,put=30,delete=20",
            "--keys", "10", "--distribution", "ZIPFIAN", "--zipf-theta", "0.8",
            "--value-size", "1024", "--duration", "1m", "--warmup", "0s", "--prefill",
            "--key-prefix", "k-", "--query", "?w=2&r=1", "--header", "X-A: b",
            "--seed", "5", "--rate", "2500.5", "--max-backlog", "0");
    BenchSettings settings = command.settings();
    assertThat(settings.targets()).hasSize(2);
    assertThat(settings.distribution()).isEqualTo(Distribution.ZIPFIAN);
    assertThat(settings.query()).isEqualTo("w=2&r=1");
    assertThat(settings.headers()).singleElement().satisfies(h -> {
      assertThat(h.getKey()).isEqualTo("X-A");
      assertThat(h.getValue()).isEqualTo("b");
    });
    assertThat(settings.duration()).isEqualTo(Duration.ofMinutes(1));
    assertThat(settings.warmup()).isZero();
    assertThat(settings.seed()).isEqualTo(5);
    assertThat(settings.rateOpsPerSecond()).isEqualTo(2500.5);
    assertThat(settings.maxBacklog()).isZero();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "--mix=get", "--mix=scan=1", "--duration=10x", "--duration=0s", "--connections=0",
        "--threads=0", "--keys=0", "--zipf-theta=1", "--value-size=-1", "--url=https://h",
        "--header=NoColon", "--header=Host:x", "--query=a b", "--distribution=hot",
        "--max-error-ratio=2", "--timeout=0s", "--rate=0", "--rate=-5", "--rate=NaN",
        "--rate=1e12", "--max-backlog=-1"
      })
  void badInputIsAUsageError(String arg) {
    BenchCommand command = new BenchCommand();
    assertThatThrownBy(() -> {
          new CommandLine(command).parseArgs(arg);
          command.settings();
        })
        .isInstanceOf(CommandLine.ParameterException.class);
  }

  @Test
  void usageErrorExitsWithTwo() {
    StringWriter err = new StringWriter();
    CommandLine commandLine = new CommandLine(new BenchCommand());
    commandLine.setErr(new PrintWriter(err));
    assertThat(commandLine.execute("--mix", "get=abc")).isEqualTo(CommandLine.ExitCode.USAGE);
    assertThat(err.toString()).contains("weight of 'get' must be an integer");
  }
}
