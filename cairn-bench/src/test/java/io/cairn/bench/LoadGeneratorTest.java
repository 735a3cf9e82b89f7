package io.cairn.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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

  private static BenchReport run(String... args) {
    BenchCommand command = new BenchCommand();
    new CommandLine(command).parseArgs(args);
    StringWriter out = new StringWriter();
    return new LoadGenerator(command.settings(), new PrintWriter(out)).run();
  }

  @Test
  @Timeout(60)
  void anOpenLoopSendsAtItsRateNotAsFastAsTheServerAnswers() throws Exception {
    try (KvTestServer server = new KvTestServer(200)) {
      BenchReport report = run(
          "--url", server.url(), "--connections", "4", "--threads", "2", "--rate", "200",
          "--keys", "100", "--warmup", "500ms", "--duration", "2s", "--seed", "3");
      OpenLoopReport open = report.openLoop();
      assertThat(open).isNotNull();
      assertThat(open.offeredOpsPerSecond()).isBetween(180.0, 220.0);
      assertThat(open.unsent()).isZero();
      assertThat(report.total().errors()).isZero();
      // A closed loop on four connections to this server does thousands per second.
      assertThat(report.total().throughputOpsPerSecond()).isBetween(170.0, 230.0);
      assertThat(server.requests.get()).isBetween(400, 650);
    }
  }

  @Test
  @Timeout(60)
  void openLoopLatencyCountsTheWaitForABusyConnection() throws Exception {
    // One connection to a server that takes 20 ms per request serves at most 50/s; at 100/s
    // the other half of the slots wait, and their wait is latency (no coordinated omission).
    try (KvTestServer server = new KvTestServer(200, Duration.ofMillis(20), false)) {
      BenchReport report = run(
          "--url", server.url(), "--connections", "1", "--threads", "1", "--rate", "100",
          "--max-backlog", "10000", "--mix", "get=1", "--keys", "10", "--warmup", "0s",
          "--duration", "2s", "--seed", "4");
      OpenLoopReport open = report.openLoop();
      assertThat(report.total().throughputOpsPerSecond()).isBetween(25.0, 55.0);
      assertThat(open.sentDelayed()).isGreaterThan(open.sentOnTime());
      assertThat(open.unsent()).isZero();
      // Measured from the send, every request would take about 20 ms.
      assertThat(report.total().p99Millis()).isGreaterThan(500.0);
    }
  }

  @Test
  @Timeout(60)
  void aBoundedBacklogDropsWhatItCannotSendAndBoundsTheWait() throws Exception {
    try (KvTestServer server = new KvTestServer(200, Duration.ofMillis(20), false)) {
      BenchReport report = run(
          "--url", server.url(), "--connections", "1", "--threads", "1", "--rate", "100",
          "--max-backlog", "2", "--mix", "get=1", "--keys", "10", "--warmup", "0s",
          "--duration", "2s", "--seed", "5");
      OpenLoopReport open = report.openLoop();
      assertThat(open.unsentPercent()).isBetween(25.0, 75.0);
      assertThat(open.scheduled())
          .isGreaterThanOrEqualTo(open.sentOnTime() + open.sentDelayed() + open.unsent());
      // At most two slots wait, so a request waits about 3 service times at most.
      assertThat(report.total().p99Millis()).isLessThan(250.0);
      assertThat(report.toText()).contains("open loop: target 100.0 ops/s", "unsent");
      assertThat(report.toJson()).contains("\"openLoop\": {\"targetOpsPerSecond\": 100.0");
    }
  }

  @Test
  @Timeout(60)
  void shedAnswersAreCountedApartFromErrorsAndNothingIsWrittenAfterConnectionClose()
      throws Exception {
    try (KvTestServer server = new KvTestServer(503, Duration.ZERO, true)) {
      BenchReport report = run(
          "--url", server.url(), "--connections", "2", "--threads", "1", "--mix", "put=1",
          "--keys", "10", "--warmup", "0s", "--duration", "1s", "--seed", "6");
      assertThat(report.total().shed()).isPositive();
      assertThat(report.total().count()).isZero();
      // A request written after "Connection: close" would be lost with the connection.
      assertThat(report.total().errors()).as(report.toText()).isZero();
      assertThat(report.errorRatio()).isEqualTo(1.0);
      assertThat(report.toJson()).contains("\"shed\": " + report.total().shed());
    }
  }
}
