package io.cairn.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs one abusive client against Cairn for a fixed time and reports what it did.
 *
 * <p>Design. One virtual thread per connection, on plain blocking sockets: an abuser needs to
 * hold many sockets cheaply and misbehave exactly (write one byte, never read), not to be fast.
 * Each thread loops until the deadline: open a connection, misbehave on it until the server
 * closes it, then open another after {@code reconnectDelay}. The calling thread reports once a
 * second; at the deadline it closes every open socket, which unblocks its thread wherever it is
 * (a write the server does not read, a read the server never answers), and joins them all.
 *
 * <p>Loops are bounded by the deadline; reading an answer is bounded by the limits below, so a
 * hostile or broken server cannot make the abuser buffer without end.
 */
final class Abuser {
  /** Requests written per write call in pipeline-no-read. */
  static final int PIPELINE_BATCH = 64;
  static final String PIPELINE_KEY = "abuse-pipelined";
  private static final int MAX_LINE_BYTES = 16 * 1024;
  private static final int MAX_HEADER_LINES = 128;
  private static final long SECOND_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(15);

  private final AbuseSettings settings;
  private final PrintWriter out;
  private final AbuseTally tally = new AbuseTally();
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final byte[] value;
  /**
   * The Authorization header line, or empty: the abuser authenticates like a real client would,
   * so what it tests is shedding, not the refusal of anonymous requests.
   */
  private final String authorization;
  private volatile boolean stopped;
  private long deadlineNanos;

  Abuser(AbuseSettings settings, PrintWriter out) {
    this.settings = settings;
    this.out = out;
    this.value = new byte[settings.valueSizeBytes()];
    this.authorization = settings.token() == null ? "" : "Authorization: Bearer " + settings.token() + "\r\n";
    new SplittableRandom(settings.seed()).nextBytes(value);
  }

  AbuseTally tally() {
    return tally;
  }

  /** Runs for the configured duration; returns the seconds it ran. */
  double run() throws IOException {
    out.printf(
        Locale.ROOT,
        "cairn abuse: %s, mode %s, %d connections, %s%n",
        settings.targets(),
        settings.mode(),
        settings.connections(),
        settings.duration());
    out.flush();
    if (settings.mode() == AbuseMode.PIPELINE_NO_READ) {
      for (Target target : settings.targets()) {
        int status = putOnce(target, PIPELINE_KEY);
        out.printf(Locale.ROOT, "setup: PUT %s/kv/%s (%d bytes) -> %d%n", target, PIPELINE_KEY,
            value.length, status);
        if (status != 200) {
          throw new IOException("the setup PUT of " + PIPELINE_KEY + " answered " + status);
        }
      }
    }
    long start = System.nanoTime();
    deadlineNanos = start + settings.duration().toNanos();
    List<Thread> threads = new ArrayList<>(settings.connections());
    SplittableRandom seeds = new SplittableRandom(settings.seed());
    for (int i = 0; i < settings.connections(); i++) {
      Target target = settings.targets().get(i % settings.targets().size());
      SplittableRandom random = seeds.split();
      int index = i;
      threads.add(
          Thread.ofVirtual().name("abuse-" + i).start(() -> connectionLoop(index, target, random)));
    }
    report(start);
    stopped = true;
    for (Socket socket : sockets) {
      closeQuietly(socket);
    }
    long joinDeadline = System.nanoTime() + JOIN_TIMEOUT.toNanos();
    for (Thread thread : threads) {
      long left = joinDeadline - System.nanoTime();
      if (left <= 0 || !joinQuietly(thread, left)) {
        out.println("cairn abuse: some connections did not stop in " + JOIN_TIMEOUT);
        break;
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    out.print(tally.toText(settings.mode(), settings.connections(), seconds));
    out.flush();
    return seconds;
  }

  /** Prints progress once a second until the deadline. */
  private void report(long start) {
    long lastRequests = 0;
    long lastOpened = 0;
    long lastClosed = 0;
    long tick = start;
    long maxTicks = settings.duration().toNanos() / SECOND_NANOS + 2;
    for (long i = 0; i < maxTicks && tick < deadlineNanos; i++) {
      tick = Math.min(tick + SECOND_NANOS, deadlineNanos);
      for (long now = System.nanoTime(); now < tick; now = System.nanoTime()) {
        LockSupport.parkNanos(tick - now);
      }
      long requests = tally.requests();
      long opened = tally.opened();
      long closed = tally.closedByServer();
      out.printf(
          Locale.ROOT,
          "[%6.1fs] open %6d  opened +%-6d closed by server +%-6d requests +%-8d statuses %s%n",
          (tick - start) / 1e9,
          tally.open(),
          opened - lastOpened,
          closed - lastClosed,
          requests - lastRequests,
          tally.statuses());
      out.flush();
      lastRequests = requests;
      lastOpened = opened;
      lastClosed = closed;
    }
  }

  private void connectionLoop(int index, Target target, SplittableRandom random) {
    while (!stopped && System.nanoTime() < deadlineNanos) {
      Socket socket = open(target);
      if (socket != null) {
        long openedNanos = System.nanoTime();
        boolean byServer = true;
        try {
          byServer = misbehave(socket, index, target, random);
        } catch (IOException e) {
          byServer = !stopped;
        } finally {
          sockets.remove(socket);
          closeQuietly(socket);
          tally.onClosed(byServer, System.nanoTime() - openedNanos);
        }
      }
      if (settings.mode() != AbuseMode.FLOOD_LARGE || socket == null) {
        pause(settings.reconnectDelay());
      }
    }
  }

  /** Returns a connected socket, or null (counted) when the connect fails. */
  private Socket open(Target target) {
    Socket socket = new Socket();
    try {
      if (settings.mode() == AbuseMode.PIPELINE_NO_READ) {
        // A small window, so the server's answers back up into its own buffers at once.
        socket.setReceiveBufferSize(4096);
      }
      socket.connect(
          new InetSocketAddress(target.socketHost(), target.port()),
          (int) settings.connectTimeout().toMillis());
    } catch (IOException e) {
      closeQuietly(socket);
      if (!stopped) {
        tally.onConnectFailure();
      }
      return null;
    }
    sockets.add(socket);
    tally.onOpened();
    if (stopped) {
      closeQuietly(socket);
    }
    return socket;
  }

  /**
   * Misbehaves on one connection until the server closes it (returns true) or the run ends
   * (returns false). An IOException means the connection broke under us.
   */
  private boolean misbehave(Socket socket, int index, Target target, SplittableRandom random)
      throws IOException {
    return switch (settings.mode()) {
      case FLOOD_LARGE -> floodLarge(socket, target, random);
      case PIPELINE_NO_READ -> pipelineWithoutReading(socket, target);
      case IDLE -> idle(socket);
      case SLOWLORIS -> slowloris(socket, index, target);
    };
  }

  private boolean floodLarge(Socket socket, Target target, SplittableRandom random)
      throws IOException {
    InputStream in = new BufferedInputStream(socket.getInputStream());
    OutputStream os = socket.getOutputStream();
    while (!stopped && System.nanoTime() < deadlineNanos) {
      byte[] head = putHead(target, "abuse-" + random.nextInt(settings.keys()));
      os.write(head);
      try {
        os.write(value);
      } catch (IOException e) {
        // The server refused the request at its head and stopped reading: its answer is there.
      }
      os.flush();
      tally.onSent(1, head.length + value.length);
      Response response = Response.read(in);
      if (response == null) {
        return true;
      }
      tally.onStatus(response.status());
      if (!response.keepAlive()) {
        return true;
      }
    }
    return false;
  }

  private boolean pipelineWithoutReading(Socket socket, Target target) throws IOException {
    byte[] one = request("GET", target, PIPELINE_KEY, "");
    byte[] batch = new byte[one.length * PIPELINE_BATCH];
    for (int i = 0; i < PIPELINE_BATCH; i++) {
      System.arraycopy(one, 0, batch, i * one.length, one.length);
    }
    OutputStream os = socket.getOutputStream();
    while (!stopped && System.nanoTime() < deadlineNanos) {
      // Blocks once the server stops reading; the run's end closes the socket under it.
      os.write(batch);
      tally.onSent(PIPELINE_BATCH, batch.length);
    }
    return false;
  }

  private boolean idle(Socket socket) throws IOException {
    InputStream in = new BufferedInputStream(socket.getInputStream());
    // Blocks until the server closes, or answers (it should not: nothing was asked).
    Response response = Response.read(in);
    if (response != null) {
      tally.onStatus(response.status());
    }
    return !stopped;
  }

  private boolean slowloris(Socket socket, int index, Target target) throws IOException {
    byte[] head =
        ("GET " + target.basePath() + "/kv/abuse-slow-" + index + " HTTP/1.1\r\nHost: "
                + target.authority() + "\r\n" + authorization + "X-Slow: ")
            .getBytes(StandardCharsets.US_ASCII);
    InputStream in = new BufferedInputStream(socket.getInputStream());
    OutputStream os = socket.getOutputStream();
    for (long i = 0; !stopped && System.nanoTime() < deadlineNanos; i++) {
      // The head, then a header value that never ends.
      os.write(i < head.length ? head[(int) i] : 'a');
      os.flush();
      tally.onSent(i == 0 ? 1 : 0, 1);
      pause(settings.byteInterval());
      if (in.available() > 0) {
        Response response = Response.read(in);
        if (response != null) {
          tally.onStatus(response.status());
        }
        return true;
      }
    }
    return false;
  }

  private int putOnce(Target target, String key) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(
          new InetSocketAddress(target.socketHost(), target.port()),
          (int) settings.connectTimeout().toMillis());
      socket.setSoTimeout((int) settings.connectTimeout().toMillis());
      OutputStream os = socket.getOutputStream();
      os.write(putHead(target, key));
      os.write(value);
      os.flush();
      Response response = Response.read(new BufferedInputStream(socket.getInputStream()));
      return response == null ? -1 : response.status();
    }
  }

  private byte[] putHead(Target target, String key) {
    return request("PUT", target, key, "Content-Length: " + value.length + "\r\n");
  }

  private byte[] request(String method, Target target, String key, String headers) {
    return (method + " " + target.basePath() + "/kv/" + key + " HTTP/1.1\r\nHost: "
            + target.authority() + "\r\n" + authorization + headers + "\r\n")
        .getBytes(StandardCharsets.US_ASCII);
  }

  private void pause(Duration duration) {
    long until = Math.min(System.nanoTime() + duration.toNanos(), deadlineNanos);
    for (long now = System.nanoTime(); now < until && !stopped; now = System.nanoTime()) {
      LockSupport.parkNanos(until - now);
    }
  }

  private static boolean joinQuietly(Thread thread, long nanos) {
    try {
      return thread.join(Duration.ofNanos(nanos));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // Closing a socket that already failed; nothing left to do with it.
    }
  }

  /** The parts of an HTTP/1.1 answer the abuser looks at; its body is read and dropped. */
  record Response(int status, boolean keepAlive) {
    /** Reads one answer; null when the connection ends before a status line. */
    static Response read(InputStream in) throws IOException {
      String statusLine = line(in);
      if (statusLine == null) {
        return null;
      }
      String[] parts = statusLine.split(" ", 3);
      if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
        throw new IOException("not an HTTP status line: " + statusLine);
      }
      int status;
      try {
        status = Integer.parseInt(parts[1]);
      } catch (NumberFormatException e) {
        throw new IOException("bad status in: " + statusLine, e);
      }
      long length = -1;
      boolean keepAlive = parts[0].equals("HTTP/1.1");
      for (int i = 0; i < MAX_HEADER_LINES; i++) {
        String header = line(in);
        if (header == null) {
          return new Response(status, false);
        }
        if (header.isEmpty()) {
          if (length < 0) {
            // No length: the body runs to the end of the connection.
            return new Response(status, false);
          }
          in.skipNBytes(length);
          return new Response(status, keepAlive);
        }
        int colon = header.indexOf(':');
        if (colon <= 0) {
          throw new IOException("bad header line: " + header);
        }
        String name = header.substring(0, colon).strip().toLowerCase(Locale.ROOT);
        String val = header.substring(colon + 1).strip();
        if (name.equals("content-length")) {
          try {
            length = Long.parseLong(val);
          } catch (NumberFormatException e) {
            throw new IOException("bad Content-Length: " + val, e);
          }
        } else if (name.equals("connection")) {
          keepAlive = !val.equalsIgnoreCase("close");
        } else if (name.equals("transfer-encoding")) {
          throw new IOException("chunked answers are not expected here");
        }
      }
      throw new IOException("more than " + MAX_HEADER_LINES + " header lines");
    }

    /** One CRLF- or LF-terminated line without its terminator; null at end of stream. */
    private static String line(InputStream in) throws IOException {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      for (int i = 0; i < MAX_LINE_BYTES; i++) {
        int c = in.read();
        if (c < 0) {
          return i == 0 ? null : bytes.toString(StandardCharsets.ISO_8859_1);
        }
        if (c == '\n') {
          return bytes.toString(StandardCharsets.ISO_8859_1);
        }
        if (c != '\r') {
          bytes.write(c);
        }
      }
      throw new IOException("a line longer than " + MAX_LINE_BYTES + " bytes");
    }
  }
}
