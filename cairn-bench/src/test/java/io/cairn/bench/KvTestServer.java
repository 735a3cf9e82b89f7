package io.cairn.bench;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny in-memory /kv server on an ephemeral 127.0.0.1 port, for end-to-end tests. It answers
 * PUTs with a chosen status (optionally closing the connection after each, as a shedding server
 * does), and can take a fixed time over every request, which with its two worker threads caps
 * what it serves per second.
 */
final class KvTestServer implements AutoCloseable {
  private final Map<String, byte[]> store = new ConcurrentHashMap<>();
  private final HttpServer server;
  private final ExecutorService executor = Executors.newFixedThreadPool(2);
  private final int putStatus;
  private final Duration serviceTime;
  private final boolean closeAfterPut;
  final AtomicInteger requestsWithQuery = new AtomicInteger();
  final AtomicInteger requests = new AtomicInteger();
  private volatile String requiredToken;

  KvTestServer(int putStatus) throws IOException {
    this(putStatus, Duration.ZERO, false);
  }

  KvTestServer(int putStatus, Duration serviceTime, boolean closeAfterPut) throws IOException {
    this.putStatus = putStatus;
    this.serviceTime = serviceTime;
    this.closeAfterPut = closeAfterPut;
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
    server.createContext("/kv/", this::handle);
    server.setExecutor(executor);
    server.start();
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** From now on, a request without {@code Authorization: Bearer token} is answered 401. */
  void requireToken(String token) {
    this.requiredToken = token;
  }

  int size() {
    return store.size();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      requests.incrementAndGet();
      if (!serviceTime.isZero()) {
        try {
          Thread.sleep(serviceTime);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
      String token = requiredToken;
      if (token != null
          && !("Bearer " + token).equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
        exchange.getRequestBody().readAllBytes();
        exchange.sendResponseHeaders(401, -1);
        return;
      }
      String key = exchange.getRequestURI().getRawPath().substring("/kv/".length());
      if (exchange.getRequestURI().getRawQuery() != null) {
        requestsWithQuery.incrementAndGet();
      }
      byte[] body;
      try (InputStream in = exchange.getRequestBody()) {
        body = in.readAllBytes();
      }
      switch (exchange.getRequestMethod()) {
        case "GET" -> {
          byte[] value = store.get(key);
          if (value == null) {
            exchange.sendResponseHeaders(404, -1);
          } else {
            exchange.sendResponseHeaders(200, value.length == 0 ? -1 : value.length);
            exchange.getResponseBody().write(value);
          }
        }
        case "PUT" -> {
          if (putStatus == 200) {
            store.put(key, body);
          }
          if (closeAfterPut) {
            exchange.getResponseHeaders().set("Connection", "close");
          }
          exchange.sendResponseHeaders(putStatus, -1);
        }
        case "DELETE" -> {
          store.remove(key);
          exchange.sendResponseHeaders(204, -1);
        }
        default -> exchange.sendResponseHeaders(405, -1);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
