package io.cairn.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Runs the generator for real against an in-process server on 127.0.0.1. */
class LoadGeneratorTest {
  @Test
  @Timeout(60)
  void runsTheMixWithoutErrorsAgainstAWorkingServer(@TempDir Path dir) throws Exception {
    try (KvTestServer server = new KvTestServer(200)) {
      Path json = dir.resolve("report.json");
      StringWriter out = new StringWriter();
      BenchCommand command = new BenchCommand();
      CommandLine commandLine = new CommandLine(command);
      commandLine.setOut(new PrintWriter(out));
      commandLine.parseArgs(
          "--url", server.url(), "--connections", "4", "--threads", "1",
          "--mix", "get=60,put=30,delete=10", "--keys", "500", "--distribution", "zipfian",
          "--value-size", "64", "--warmup", "500ms", "--duration", "2s", "--prefill",
          "--query", "w=1", "--header", "X-Bench: yes", "--json", json.toString(), "--seed", "1");
      BenchReport report = new LoadGenerator(command.settings(), new PrintWriter(out)).run();

      assertThat(report.prefillSucceeded()).isEqualTo(500);
      assertThat(report.prefillFailed()).isZero();
      assertThat(report.total().count()).isPositive();
      assertThat(report.total().errors()).as(out.toString()).isZero();
      assertThat(report.connectFailures()).isZero();
      assertThat(report.operations()).extracting(OperationReport::name)
          .containsExactly("get", "put", "delete");
      for (OperationReport op : report.operations()) {
        assertThat(op.count()).as(op.name()).isPositive();
        assertThat(op.p50Millis()).isPositive().isLessThanOrEqualTo(op.maxMillis());
      }
      assertThat(report.operations().get(0).notFound()).isPositive();
      assertThat(report.measuredSeconds()).isBetween(1.9, 3.0);
      assertThat(server.requestsWithQuery.get()).isPositive();
      assertThat(out.toString()).contains("warmup", "run", "prefill done");
      assertThat(command.exitCode(report)).isZero();

      assertThat(commandLine.execute(
          "--url", server.url(), "--connections", "2", "--keys", "100", "--warmup", "0s",
          "--duration", "1s", "--json", json.toString())).isZero();
      String text = Files.readString(json);
      assertThat(text).contains("\"total\": {\"count\": ", "\"errors\": 0", "\"p99.9\": ");
    }
  }

  @Test
  @Timeout(60)
  void countsErrorStatusesAndFailsTheExitCode() throws Exception {
    try (KvTestServer server = new KvTestServer(500)) {
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      CommandLine commandLine = new CommandLine(new BenchCommand());
      commandLine.setOut(new PrintWriter(out));
      commandLine.setErr(new PrintWriter(err));
      int exit = commandLine.execute(
          "--url", server.url(), "--connections", "2", "--threads", "1", "--mix", "put=1",
          "--keys", "10", "--warmup", "0s", "--duration", "1s");
      assertThat(exit).isEqualTo(1);
      assertThat(out.toString()).contains("put errors: {500=");
      assertThat(err.toString()).contains("exceeds --max-error-ratio");
    }
  }

  @Test
  @Timeout(60)
  void countsConnectFailuresWhenNothingListens() throws Exception {
    int port;
    try (KvTestServer server = new KvTestServer(200)) {
      port = Integer.parseInt(server.url().substring(server.url().lastIndexOf(':') + 1));
    }
    StringWriter out = new StringWriter();
    BenchCommand command = new BenchCommand();
    new CommandLine(command).parseArgs(
        "--url", "http://127.0.0.1:" + port, "--connections", "2", "--threads", "1",
        "--warmup", "0s", "--duration", "1500ms");
    BenchReport report = new LoadGenerator(command.settings(), new PrintWriter(out)).run();
    assertThat(report.connectFailures()).isPositive();
    assertThat(report.total().count()).isZero();
    assertThat(report.errorRatio()).isEqualTo(1.0);
  }
}
