package io.cairn.client.example;

import io.cairn.client.CairnClient;
import io.cairn.client.Value;
import io.cairn.client.WriteOptions;
import io.cairn.client.WriteResult;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;

/**
 * A tour of the Java client against a running node: a put, a get, a compare-and-swap counter and
 * an idempotent write retried by hand. Run it as docs/client.md says; it connects to
 * {@code CAIRN_URL} (default {@code http://127.0.0.1:7070}; several endpoints separated by
 * commas) with {@code CAIRN_TOKEN} (default: the token in {@code ./cairn-data/auth/admin.token},
 * which {@code bin/cairn start} creates).
 */
public final class Example {
    private Example() {}

    public static void main(String[] args) throws IOException {
        String url = System.getenv().getOrDefault("CAIRN_URL", "http://127.0.0.1:7070");
        String token = System.getenv("CAIRN_TOKEN");
        if (token == null) {
            Path file = Path.of("cairn-data", "auth", "admin.token");
            token = Files.exists(file) ? Files.readString(file).strip() : null;
        }
        run(url, token, System.out);
    }

    /** The tour itself, against {@code url} (comma-separated endpoints) with {@code token} (null: none). */
    public static void run(String url, String token, PrintStream out) {
        try (CairnClient cairn = CairnClient.builder()
                .endpoints(url.split(","))
                .token(token)
                .build()) {
            // Write and read: every write gets a new version, its ETag.
            WriteResult put = cairn.put("example:greeting", "hello from the Java client");
            out.println("put example:greeting -> " + put.etag());
            Optional<Value> greeting = cairn.get("example:greeting");
            out.println("get example:greeting -> " + greeting.map(Value::asString).orElse("(absent)") + " " + greeting.map(Value::etag).orElse(""));

            // A TTL, and a key with a slash (sent as example%2Fsession).
            cairn.put("example/session", "cart=3".getBytes(StandardCharsets.UTF_8), WriteOptions.defaults().ttl(Duration.ofMinutes(30)));
            out.println("session expires at " + cairn.get("example/session").flatMap(Value::expiresAt).orElseThrow());

            // Compare-and-swap: read, compute, write If-Match; a concurrent writer makes it start again.
            Optional<Value> counter = cairn.update("example:counter", current -> {
                long n = current.map(v -> Long.parseLong(v.asString())).orElse(0L);
                return Long.toString(n + 1).getBytes(StandardCharsets.UTF_8);
            });
            out.println("counter -> " + counter.map(Value::asString).orElseThrow());

            // An idempotent write: the same Idempotency-Key twice applies it once; the second answer is the first one replayed.
            String key = "example-order-" + UUID.randomUUID();
            WriteOptions once = WriteOptions.defaults().idempotencyKey(key).contentType("text/plain");
            WriteResult first = cairn.put("example:order", "paid".getBytes(StandardCharsets.UTF_8), once);
            WriteResult again = cairn.put("example:order", "paid".getBytes(StandardCharsets.UTF_8), once);
            out.println("order written " + first.etag() + ", retried: replayed=" + again.replayed() + " " + again.etag());
        }
    }
}
