package io.cairn.bench;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code cairn abuse} command: a deliberately badly behaved client, to measure how a node
 * protects its other clients (see bench/overload.sh). Only for servers you run yourself.
 */
@Command(
    name = "abuse",
    sortOptions = false,
    description =
        "A badly behaved HTTP client for overload tests, for a fixed time. Modes:"
            + " flood-large (PUTs of --value-size bytes back to back on every connection, 503s"
            + " ignored), pipeline-no-read (GETs of a --value-size value written without pause,"
            + " answers never read), idle (connections that send nothing), slowloris (a request"
            + " head written one byte every --byte-interval, never finished). A connection the"
            + " server closes is reopened after --reconnect-delay (flood-large: at once). Prints"
            + " progress every second and a report of connections, requests and statuses.")
public final class AbuseCommand implements Callable<Integer> {
  static final int MAX_CONNECTIONS = 100_000;
  static final int MAX_VALUE_SIZE_BYTES = 64 * 1024 * 1024;

  @Spec private CommandSpec spec;

  @Option(
      names = "--url",
      paramLabel = "URL",
      description =
          "Server base URL; repeat to spread connections round-robin (default: "
              + BenchCommand.DEFAULT_URL
              + ").")
  private List<String> urls = new ArrayList<>();

  @Option(
      names = "--mode",
      required = true,
      paramLabel = "MODE",
      converter = AbuseMode.Converter.class,
      description = "flood-large, pipeline-no-read, idle or slowloris.")
  private AbuseMode mode;

  @Option(
      names = "--connections",
      paramLabel = "N",
      defaultValue = "100",
      description = "Connections held at once (default: ${DEFAULT-VALUE}).")
  private int connections;

  @Option(
      names = "--duration",
      paramLabel = "DURATION",
      defaultValue = "30s",
      converter = DurationConverter.class,
      description = "How long to misbehave (default: ${DEFAULT-VALUE}).")
  private Duration duration;

  @Option(
      names = "--value-size",
      paramLabel = "BYTES",
      defaultValue = "262144",
      description =
          "flood-large: bytes per PUT; pipeline-no-read: bytes of the value it GETs"
              + " (default: ${DEFAULT-VALUE}).")
  private int valueSizeBytes;

  @Option(
      names = "--keys",
      paramLabel = "N",
      defaultValue = "1000",
      description = "flood-large: distinct keys written, abuse-0.. (default: ${DEFAULT-VALUE}).")
  private int keys;

  @Option(
      names = "--byte-interval",
      paramLabel = "DURATION",
      defaultValue = "1s",
      converter = DurationConverter.class,
      description = "slowloris: pause between bytes (default: ${DEFAULT-VALUE}).")
  private Duration byteInterval;

  @Option(
      names = "--reconnect-delay",
      paramLabel = "DURATION",
      defaultValue = "1s",
      converter = DurationConverter.class,
      description =
          "Pause before reopening a connection the server closed or refused"
              + " (default: ${DEFAULT-VALUE}).")
  private Duration reconnectDelay;

  @Option(
      names = "--connect-timeout",
      paramLabel = "DURATION",
      defaultValue = "10s",
      converter = DurationConverter.class,
      description = "Connect timeout (default: ${DEFAULT-VALUE}).")
  private Duration connectTimeout;

  @Option(
      names = "--seed",
      paramLabel = "SEED",
      description = "Seed for keys and value bytes (default: random).")
  private Long seed;

  @Option(
      names = "--token-file",
      paramLabel = "FILE",
      description =
          "Send the bearer token in this file, so the abuse is measured as shedding rather than as"
              + " refused anonymous requests (default: $CAIRN_TOKEN, else"
              + " ./cairn-data/auth/admin.token when present).")
  private Path tokenFile;

  @Option(names = "--json", paramLabel = "FILE", description = "Also write the report as JSON.")
  private Path jsonFile;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
  private boolean help;

  public static void main(String[] args) {
    System.exit(new CommandLine(new AbuseCommand()).execute(args));
  }

  @Override
  public Integer call() {
    AbuseSettings settings = settings();
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Abuser abuser = new Abuser(settings, out);
    double seconds;
    try {
      seconds = abuser.run();
    } catch (IOException e) {
      err.println("cairn abuse: " + e.getMessage());
      err.flush();
      return 1;
    }
    if (jsonFile != null) {
      try {
        Files.writeString(
            jsonFile,
            abuser.tally().toJson(settings.mode(), settings.connections(), seconds),
            StandardCharsets.UTF_8);
      } catch (IOException e) {
        err.println("cairn abuse: cannot write " + jsonFile + ": " + e);
        err.flush();
        return 1;
      }
    }
    return 0;
  }

  /** Validates the parsed options; a bad value is a usage error (exit code 2). */
  AbuseSettings settings() {
    List<Target> targets = new ArrayList<>();
    for (String url : urls.isEmpty() ? List.of(BenchCommand.DEFAULT_URL) : urls) {
      try {
        targets.add(Target.parse(url));
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), e.getMessage(), e);
      }
    }
    require(connections >= 1 && connections <= MAX_CONNECTIONS,
        "--connections must be in [1, " + MAX_CONNECTIONS + "]");
    require(!duration.isZero() && duration.compareTo(BenchCommand.MAX_RUN) <= 0,
        "--duration must be positive and at most " + BenchCommand.MAX_RUN);
    require(valueSizeBytes >= 0 && valueSizeBytes <= MAX_VALUE_SIZE_BYTES,
        "--value-size must be in [0, " + MAX_VALUE_SIZE_BYTES + "]");
    require(keys >= 1, "--keys must be positive");
    require(byteInterval.compareTo(Duration.ofMinutes(10)) <= 0,
        "--byte-interval must be at most 10m");
    require(reconnectDelay.compareTo(Duration.ofMinutes(10)) <= 0,
        "--reconnect-delay must be at most 10m");
    String token;
    try {
      token = BearerToken.resolve(tokenFile, System.getenv("CAIRN_TOKEN"));
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    require(connectTimeout.toMillis() >= 1 && connectTimeout.compareTo(Duration.ofMinutes(5)) <= 0,
        "--connect-timeout must be in [1ms, 5m]");
    return new AbuseSettings(
        targets,
        mode,
        connections,
        duration,
        valueSizeBytes,
        keys,
        byteInterval,
        reconnectDelay,
        connectTimeout,
        seed != null ? seed : System.nanoTime(),
        token);
  }

  private void require(boolean condition, String message) {
    if (!condition) {
      throw new ParameterException(spec.commandLine(), message);
    }
  }
}
