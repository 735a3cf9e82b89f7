package io.cairn.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** Each abuse mode for a moment against the in-process server, and the answer parser. */
class AbuserTest {
  private static AbuseTally abuse(KvTestServer server, String... args) throws IOException {
    AbuseCommand command = new AbuseCommand();
    new CommandLine(command).parseArgs(args);
    AbuseSettings settings = command.settings();
    Abuser abuser = new Abuser(
        new AbuseSettings(
            java.util.List.of(Target.parse(server.url())),
            settings.mode(),
            settings.connections(),
            settings.duration(),
            settings.valueSizeBytes(),
            settings.keys(),
            settings.byteInterval(),
            settings.reconnectDelay(),
            settings.connectTimeout(),
            1,
            settings.token()),
        new PrintWriter(new StringWriter()));
    long start = System.nanoTime();
    abuser.run();
    assertThat((System.nanoTime() - start) / 1e9).as("stops on time").isLessThan(5.0);
    return abuser.tally();
  }

  @Test
  @Timeout(60)
  void floodLargeWritesLargeValuesBackToBackAndCountsTheAnswers() throws Exception {
    try (KvTestServer server = new KvTestServer(200)) {
      AbuseTally tally = abuse(server, "--mode", "flood-large", "--connections", "3",
          "--duration", "1s", "--value-size", "100000", "--keys", "5");
      assertThat(tally.requests()).isGreaterThan(3);
      assertThat(tally.bytes()).isGreaterThan(tally.requests() * 100_000);
      assertThat(tally.statuses()).containsOnlyKeys(200);
      assertThat(tally.opened()).isEqualTo(3);
      assertThat(server.size()).isBetween(1, 5);
    }
  }

  @Test
  @Timeout(60)
  void sendsTheBearerTokenFromTheTokenFile(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    java.nio.file.Path tokenFile = dir.resolve("token");
    java.nio.file.Files.writeString(tokenFile, "s3cret-token\n");
    try (KvTestServer server = new KvTestServer(200)) {
      server.requireToken("s3cret-token");
      AbuseTally withToken = abuse(server, "--mode", "flood-large", "--connections", "1",
          "--duration", "300ms", "--value-size", "10", "--token-file", tokenFile.toString());
      assertThat(withToken.statuses()).containsOnlyKeys(200);
      java.nio.file.Files.writeString(tokenFile, "wrong-token");
      AbuseTally wrongToken = abuse(server, "--mode", "flood-large", "--connections", "1",
          "--duration", "300ms", "--value-size", "10", "--token-file", tokenFile.toString());
      assertThat(wrongToken.statuses()).containsOnlyKeys(401);
    }
  }

  @Test
  void aTokenFileThatCannotBeReadOrCarriedIsAUsageError(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    java.nio.file.Path tokenFile = dir.resolve("token");
    java.nio.file.Files.writeString(tokenFile, "two words");
    AbuseCommand command = new AbuseCommand();
    new CommandLine(command).parseArgs("--mode", "idle", "--token-file", tokenFile.toString());
    org.assertj.core.api.Assertions.assertThatThrownBy(command::settings)
        .isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("characters a header cannot carry");
    AbuseCommand missing = new AbuseCommand();
    new CommandLine(missing).parseArgs("--mode", "idle", "--token-file", dir.resolve("absent").toString());
    org.assertj.core.api.Assertions.assertThatThrownBy(missing::settings)
        .isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("no such token file");
    java.nio.file.Files.write(tokenFile, new byte[BearerToken.MAX_TOKEN_FILE_BYTES + 1]);
    AbuseCommand huge = new AbuseCommand();
    new CommandLine(huge).parseArgs("--mode", "idle", "--token-file", tokenFile.toString());
    org.assertj.core.api.Assertions.assertThatThrownBy(huge::settings)
        .isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("not a token file");
  }

  @Test
  @Timeout(60)
  void floodLargeKeepsGoingWhenTheServerShedsAndCloses() throws Exception {
    try (KvTestServer server = new KvTestServer(503, java.time.Duration.ZERO, true)) {
      AbuseTally tally = abuse(server, "--mode", "flood-large", "--connections", "2",
          "--duration", "1s", "--value-size", "1000");
      assertThat(tally.statuses()).containsOnlyKeys(503);
      // Every answer closes the connection, and the flood reopens at once.
      assertThat(tally.opened()).isGreaterThan(10);
      assertThat(tally.closedByServer()).isGreaterThan(10);
    }
  }

  @Test
  @Timeout(60)
  void pipelineNoReadWritesRequestsItNeverReads() throws Exception {
    try (KvTestServer server = new KvTestServer(200)) {
      AbuseTally tally = abuse(server, "--mode", "pipeline-no-read", "--connections", "1",
          "--duration", "1s", "--value-size", "65536");
      assertThat(tally.requests()).isGreaterThanOrEqualTo(Abuser.PIPELINE_BATCH);
      assertThat(tally.statuses()).isEmpty();
      assertThat(server.size()).isEqualTo(1);
    }
  }

  @Test
  @Timeout(60)
  void idleConnectionsSendNothing() throws Exception {
    try (KvTestServer server = new KvTestServer(200)) {
      AbuseTally tally = abuse(server, "--mode", "idle", "--connections", "20",
          "--duration", "1s");
      assertThat(tally.opened()).isEqualTo(20);
      assertThat(tally.peakOpen()).isEqualTo(20);
      assertThat(tally.requests()).isZero();
      assertThat(tally.bytes()).isZero();
      assertThat(tally.closedByServer()).isZero();
      assertThat(server.requests.get()).isZero();
    }
  }

  @Test
  @Timeout(60)
  void slowlorisSendsOneByteAtATime() throws Exception {
    try (KvTestServer server = new KvTestServer(200)) {
      AbuseTally tally = abuse(server, "--mode", "slowloris", "--connections", "2",
          "--duration", "1s", "--byte-interval", "50ms");
      assertThat(tally.requests()).isEqualTo(2);
      // About 20 bytes each in a second; never a whole head, so never an answer.
      assertThat(tally.bytes()).isBetween(20L, 60L);
      assertThat(tally.statuses()).isEmpty();
      assertThat(server.requests.get()).isZero();
    }
  }

  @Test
  void readsStatusLengthAndConnectionOfAnAnswer() throws IOException {
    InputStream in = stream("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"
        + "Content-Length: 5\r\nConnection: close\r\n\r\nbusy!HTTP/1.1 200 OK\r\n"
        + "Content-Length: 0\r\n\r\n");
    assertThat(Abuser.Response.read(in)).isEqualTo(new Abuser.Response(503, false));
    assertThat(Abuser.Response.read(in)).isEqualTo(new Abuser.Response(200, true));
    assertThat(Abuser.Response.read(in)).isNull();
    assertThat(Abuser.Response.read(stream("HTTP/1.1 408 Request Timeout\r\n\r\n")))
        .isEqualTo(new Abuser.Response(408, false));
    assertThatThrownBy(() -> Abuser.Response.read(stream("SSH-2.0-OpenSSH\r\n")))
        .isInstanceOf(IOException.class);
    assertThatThrownBy(() -> Abuser.Response.read(stream("HTTP/1.1 200 OK\r\n"
        + "Transfer-Encoding: chunked\r\n\r\n"))).isInstanceOf(IOException.class);
  }

  @Test
  @Timeout(60)
  void theCommandWritesItsReportAsJson(@TempDir Path dir) throws Exception {
    try (KvTestServer server = new KvTestServer(200)) {
      Path json = dir.resolve("abuse.json");
      StringWriter out = new StringWriter();
      CommandLine commandLine = new CommandLine(new AbuseCommand());
      commandLine.setOut(new PrintWriter(out));
      int exit = commandLine.execute("--url", server.url(), "--mode", "idle", "--connections",
          "3", "--duration", "1s", "--json", json.toString());
      assertThat(exit).isZero();
      assertThat(out.toString()).contains("abuse idle: 3 connections", "connections opened 3");
      assertThat(Files.readString(json)).contains("\"mode\": \"idle\"", "\"opened\": 3");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"--mode=flood", "--connections=0", "--duration=0s",
      "--value-size=-1", "--keys=0", "--url=ftp://x", "--connect-timeout=0s"})
  void badInputIsAUsageError(String arg) {
    AbuseCommand command = new AbuseCommand();
    assertThatThrownBy(() -> {
          new CommandLine(command).parseArgs("--mode", "idle", arg);
          command.settings();
        })
        .isInstanceOf(CommandLine.ParameterException.class);
  }

  private static InputStream stream(String text) {
    return new ByteArrayInputStream(text.getBytes(StandardCharsets.ISO_8859_1));
  }
}
