package io.cairn.bench;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The {@code cairn bench} command: a closed- or open-loop HTTP load generator for /kv. */
@Command(
    name = "bench",
    sortOptions = false,
    description =
        "HTTP/1.1 load generator for the /kv API. Closed loop by default: each connection keeps"
            + " exactly one request outstanding. With --rate, open loop: requests are due on a"
            + " fixed timetable whatever the answers, go to an idle connection (or wait for one,"
            + " counted as delayed), and their latency counts from when they were due. Prints"
            + " progress every second and a report at the end (ops/s counts successes only; 503"
            + " answers are counted as shed, apart from errors); exits 1 if the share of failed"
            + " requests exceeds --max-error-ratio.")
public final class BenchCommand implements Callable<Integer> {
  static final String DEFAULT_URL = "http://127.0.0.1:7070";
  static final int MAX_CONNECTIONS = 10_000;
  static final int MAX_THREADS = 64;
  static final long MAX_KEYS = ZipfianGenerator.MAX_ITEM_COUNT;
  static final int MAX_VALUE_SIZE_BYTES = 16 * 1024 * 1024;
  static final Duration MAX_RUN = Duration.ofHours(24);
  static final Duration MAX_REQUEST_TIMEOUT = Duration.ofMinutes(5);
  static final int MAX_HEADERS = 64;
  static final double MAX_RATE = 10_000_000;
  static final long MAX_BACKLOG = 10_000_000;

  private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}");
  private static final Pattern VISIBLE_ASCII = Pattern.compile("[\\x20-\\x7e]{0,4096}");
  private static final Pattern QUERY = Pattern.compile("[A-Za-z0-9\\-._~!$&'()*+,;=:@/?%]{0,4096}");

  @Spec private CommandSpec spec;

  @Option(
      names = "--url",
      paramLabel = "URL",
      description =
          "Server base URL; repeat to spread connections round-robin (default: "
              + DEFAULT_URL
              + ").")
  private List<String> urls = new ArrayList<>();

  @Option(
      names = "--connections",
      paramLabel = "N",
      defaultValue = "64",
      description = "Connections, each with one request outstanding (default: ${DEFAULT-VALUE}).")
  private int connections;

  @Option(
      names = "--rate",
      paramLabel = "OPS_PER_SEC",
      description =
          "Open loop: requests per second in all, due on a fixed timetable (default: closed loop).")
  private Double rate;

  @Option(
      names = "--max-backlog",
      paramLabel = "N",
      defaultValue = "1000",
      description =
          "Open loop: due requests that may wait for a free connection; beyond it the oldest are"
              + " dropped and reported as unsent (default: ${DEFAULT-VALUE}).")
  private long maxBacklog;

  @Option(
      names = "--threads",
      paramLabel = "N",
      defaultValue = "2",
      description = "Event-loop threads (default: ${DEFAULT-VALUE}).")
  private int threads;

  @Option(
      names = "--mix",
      paramLabel = "MIX",
      defaultValue = "get=90,put=10",
      converter = OperationMix.Converter.class,
      description = "Operation weights over get, put, delete (default: ${DEFAULT-VALUE}).")
  private OperationMix mix;

  @Option(
      names = "--keys",
      paramLabel = "N",
      defaultValue = "100000",
      description = "Number of distinct keys (default: ${DEFAULT-VALUE}).")
  private long keyCount;

  @Option(
      names = "--distribution",
      paramLabel = "NAME",
      defaultValue = "uniform",
      converter = Distribution.Converter.class,
      description = "Key distribution: uniform or zipfian (default: ${DEFAULT-VALUE}).")
  private Distribution distribution;

  @Option(
      names = "--zipf-theta",
      paramLabel = "THETA",
      defaultValue = "0.99",
      description = "Zipfian skew, in (0, 1) (default: ${DEFAULT-VALUE}).")
  private double zipfTheta;

  @Option(
      names = "--value-size",
      defaultValue = "100",
      paramLabel = "BYTES",
      description = "Bytes per put value (default: ${DEFAULT-VALUE}).")
  private int valueSizeBytes;

  @Option(
      names = "--duration",
      paramLabel = "DURATION",
      defaultValue = "30s",
      converter = DurationConverter.class,
      description = "Measured time, e.g. 30s, 2m (default: ${DEFAULT-VALUE}).")
  private Duration duration;

  @Option(
      names = "--warmup",
      paramLabel = "DURATION",
      defaultValue = "5s",
      converter = DurationConverter.class,
      description = "Time before measuring, excluded from results (default: ${DEFAULT-VALUE}).")
  private Duration warmup;

  @Option(names = "--prefill", description = "Put every key once before the run.")
  private boolean prefill;

  @Option(
      names = "--key-prefix",
      paramLabel = "PREFIX",
      defaultValue = "bench-",
      description = "Prefix of generated keys (default: ${DEFAULT-VALUE}).")
  private String keyPrefix;

  @Option(
      names = "--query",
      paramLabel = "QUERY",
      description = "Query string appended to every request, e.g. w=2&r=1.")
  private String query;

  @Option(
      names = "--header",
      paramLabel = "NAME:VALUE",
      description = "Extra request header; repeatable.")
  private List<String> headers = new ArrayList<>();

  @Option(
      names = "--token-file",
      paramLabel = "FILE",
      description =
          "Send the bearer token in this file (default: $CAIRN_TOKEN, else ./cairn-data/auth/admin.token"
              + " when present); ignored when a --header sets Authorization.")
  private Path tokenFile;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      defaultValue = "10s",
      converter = DurationConverter.class,
      description = "Request and connect timeout (default: ${DEFAULT-VALUE}).")
  private Duration requestTimeout;

  @Option(
      names = "--max-error-ratio",
      paramLabel = "RATIO",
      defaultValue = "0.01",
      description =
          "Exit 1 when failed requests (errors and 503s) and failed connects / attempts exceed"
              + " this (default: ${DEFAULT-VALUE}).")
  private double maxErrorRatio;

  @Option(
      names = "--seed",
      paramLabel = "SEED",
      description = "Seed for keys, operations and values (default: random).")
  private Long seed;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
  private boolean help;

  @Option(names = "--json", paramLabel = "FILE", description = "Also write the report as JSON.")
  private Path jsonFile;

  /** The bearer token to send (see {@link BearerToken}); null when none. */
  private String token() {
    try {
      return BearerToken.resolve(tokenFile, System.getenv("CAIRN_TOKEN"));
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(new CommandLine(this), e.getMessage(), e);
    }
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new BenchCommand()).execute(args));
  }

  @Override
  public Integer call() {
    BenchSettings settings = settings();
    PrintWriter out = spec.commandLine().getOut();
    BenchReport report;
    try {
      report = new LoadGenerator(settings, out).run();
    } catch (IllegalStateException e) {
      spec.commandLine().getErr().println("cairn bench: " + e.getMessage());
      spec.commandLine().getErr().flush();
      return 1;
    }
    out.print(report.toText());
    out.flush();
    if (jsonFile != null) {
      try {
        Files.writeString(jsonFile, report.toJson(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        spec.commandLine().getErr().println("cairn bench: cannot write " + jsonFile + ": " + e);
        return 1;
      }
    }
    return exitCode(report);
  }

  int exitCode(BenchReport report) {
    if (report.errorRatio() > maxErrorRatio) {
      spec.commandLine()
          .getErr()
          .printf(
              Locale.ROOT,
              "cairn bench: error ratio %.5f exceeds --max-error-ratio %s%n",
              report.errorRatio(),
              maxErrorRatio);
      spec.commandLine().getErr().flush();
      return 1;
    }
    return 0;
  }

  /** Validates the parsed options; a bad value is a usage error (exit code 2). */
  BenchSettings settings() {
    List<Target> targets = new ArrayList<>();
    for (String url : urls.isEmpty() ? List.of(DEFAULT_URL) : urls) {
      targets.add(parse(() -> Target.parse(url)));
    }
    require(connections >= 1 && connections <= MAX_CONNECTIONS,
        "--connections must be in [1, " + MAX_CONNECTIONS + "]");
    require(
        threads >= 1 && threads <= MAX_THREADS, "--threads must be in [1, " + MAX_THREADS + "]");
    require(keyCount >= 1 && keyCount <= MAX_KEYS, "--keys must be in [1, " + MAX_KEYS + "]");
    require(zipfTheta > 0.0 && zipfTheta < 1.0, "--zipf-theta must be in (0, 1)");
    require(valueSizeBytes >= 0 && valueSizeBytes <= MAX_VALUE_SIZE_BYTES,
        "--value-size must be in [0, " + MAX_VALUE_SIZE_BYTES + "]");
    require(!duration.isZero() && duration.compareTo(MAX_RUN) <= 0,
        "--duration must be positive and at most " + MAX_RUN);
    require(warmup.compareTo(MAX_RUN) <= 0, "--warmup must be at most " + MAX_RUN);
    require(requestTimeout.toMillis() >= 1 && requestTimeout.compareTo(MAX_REQUEST_TIMEOUT) <= 0,
        "--timeout must be in [1ms, " + MAX_REQUEST_TIMEOUT + "]");
    require(maxErrorRatio >= 0.0 && maxErrorRatio <= 1.0, "--max-error-ratio must be in [0, 1]");
    require(rate == null || (rate > 0 && rate <= MAX_RATE),
        "--rate must be in (0, " + (long) MAX_RATE + "]");
    require(maxBacklog >= 0 && maxBacklog <= MAX_BACKLOG,
        "--max-backlog must be in [0, " + MAX_BACKLOG + "]");
    require(!keyPrefix.isEmpty() && keyPrefix.length() <= 1024,
        "--key-prefix must have 1 to 1024 characters");
    String q = query == null ? "" : (query.startsWith("?") ? query.substring(1) : query);
    require(QUERY.matcher(q).matches(),
        "--query must be URL-encoded query text such as w=2&r=1");
    require(headers.size() <= MAX_HEADERS, "at most " + MAX_HEADERS + " --header options");
    List<Map.Entry<String, String>> parsedHeaders = new ArrayList<>();
    for (String header : headers) {
      parsedHeaders.add(header(header));
    }
    if (parsedHeaders.stream().noneMatch(h -> h.getKey().equalsIgnoreCase("Authorization"))) {
      String token = token();
      if (token != null) {
        parsedHeaders.add(Map.entry("Authorization", "Bearer " + token));
      }
    }
    return new BenchSettings(
        targets,
        connections,
        threads,
        mix,
        keyCount,
        distribution,
        zipfTheta,
        valueSizeBytes,
        duration,
        warmup,
        prefill,
        keyPrefix,
        q,
        parsedHeaders,
        requestTimeout,
        seed != null ? seed : System.nanoTime(),
        rate == null ? 0.0 : rate,
        maxBacklog);
  }

  private Map.Entry<String, String> header(String text) {
    int colon = text.indexOf(':');
    require(colon > 0, "--header '" + text + "' must be Name:Value");
    String name = text.substring(0, colon).strip();
    String value = text.substring(colon + 1).strip();
    require(HEADER_NAME.matcher(name).matches(), "--header name '" + name + "' is not a token");
    require(VISIBLE_ASCII.matcher(value).matches(),
        "--header value of '" + name + "' must be printable ASCII");
    String lower = name.toLowerCase(Locale.ROOT);
    require(!lower.equals("host") && !lower.equals("content-length")
            && !lower.equals("transfer-encoding") && !lower.equals("connection"),
        "--header cannot set " + name + "; the generator owns it");
    return new AbstractMap.SimpleImmutableEntry<>(name, value);
  }

  private <T> T parse(Supplier<T> parser) {
    try {
      return parser.get();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
  }

  private void require(boolean condition, String message) {
    if (!condition) {
      throw new ParameterException(spec.commandLine(), message);
    }
  }
}
