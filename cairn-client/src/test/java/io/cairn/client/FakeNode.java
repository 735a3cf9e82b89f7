package io.cairn.client;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A scripted stand-in for a Cairn node on 127.0.0.1 (an ephemeral port): it answers each request
 * with the next scripted {@link Answer} (the last one repeats) and records what it received.
 */
final class FakeNode implements AutoCloseable {
    /** A request as the node received it. */
    record Received(String method, String target, Map<String, List<String>> headers, byte[] body) {
        String header(String name) {
            for (Map.Entry<String, List<String>> e : headers.entrySet()) {
                if (e.getKey().equalsIgnoreCase(name)) {
                    return e.getValue().get(0);
                }
            }
            return null;
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** One scripted answer; {@code drop}: close the connection without answering. */
    record Answer(int status, List<String> headers, String body, boolean drop, long delayMillis) {
        Answer after(long millis) {
            return new Answer(status, headers, body, drop, millis);
        }
    }

    static Answer ok(String... headers) {
        return new Answer(200, List.of(headers), "", false, 0);
    }

    static Answer answer(int status, String body, String... headers) {
        return new Answer(status, List.of(headers), body, false, 0);
    }

    static Answer error(int status, String code, String... headers) {
        return new Answer(status, List.of(headers), "{\"code\":\"" + code + "\",\"message\":\"scripted " + code + "\"}", false, 0);
    }

    static Answer drop() {
        return new Answer(0, List.of(), "", true, 0);
    }

    final List<Received> received = new CopyOnWriteArrayList<>();
    private final Deque<Answer> script = new ArrayDeque<>();
    private final HttpServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool();

    FakeNode(Answer... answers) throws IOException {
        script.addAll(List.of(answers));
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(threads);
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Replaces what is left of the script. */
    synchronized void then(Answer... answers) {
        script.clear();
        script.addAll(List.of(answers));
    }

    private synchronized Answer next() {
        return script.size() > 1 ? script.poll() : script.peek();
    }

    private void handle(HttpExchange exchange) throws IOException {
        byte[] body = exchange.getRequestBody().readAllBytes();
        String target = exchange.getRequestURI().getRawPath() + (exchange.getRequestURI().getRawQuery() == null ? "" : "?" + exchange.getRequestURI().getRawQuery());
        received.add(new Received(exchange.getRequestMethod(), target, Map.copyOf(exchange.getRequestHeaders()), body));
        Answer a = next();
        if (a.delayMillis() > 0) {
            try {
                Thread.sleep(a.delayMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (a.drop()) {
            exchange.close();
            return;
        }
        for (int i = 0; i < a.headers().size(); i += 2) {
            exchange.getResponseHeaders().add(a.headers().get(i), a.headers().get(i + 1));
        }
        byte[] out = a.body().getBytes(StandardCharsets.UTF_8);
        if (a.body().startsWith("{")) {
            exchange.getResponseHeaders().set("Content-Type", "application/json");
        }
        exchange.sendResponseHeaders(a.status(), out.length == 0 ? -1 : out.length);
        try (OutputStream o = exchange.getResponseBody()) {
            o.write(out);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }
}
