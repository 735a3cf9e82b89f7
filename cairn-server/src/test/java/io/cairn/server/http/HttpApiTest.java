package io.cairn.server.http;

import static io.cairn.server.http.TestNode.describe;
import static io.cairn.server.http.TestNode.encodeKey;
import static io.cairn.server.http.TestNode.etag;
import static io.cairn.server.http.TestNode.json;
import static io.cairn.server.http.TestNode.text;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.server.rocks.RocksEngine;
import io.cairn.storage.Durability;
import io.cairn.storage.Keyspace;
import io.cairn.storage.WriteBatch;
import io.cairn.clock.Version;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every route and every error of the HTTP API, through a real node over real sockets: the kv
 * routes, conditions, key encoding, limits, TTL, batches, connection handling and the
 * operational endpoints.
 */
class HttpApiTest {
    @TempDir
    static Path tmp;

    /** A node with default settings. */
    static TestNode node;
    /** A node with small limits: 1 KiB values, 3 operations per batch. */
    static TestNode small;

    private static final AtomicInteger keys = new AtomicInteger();

    @BeforeAll
    static void start() {
        node = TestNode.start(tmp.resolve("default"));
        small = TestNode.start(tmp.resolve("small"), "limits.maxValueBytes", "1024", "limits.maxBatchOperations", "3",
                "limits.maxBatchReadBytes", "2048");
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
        if (small != null) {
            small.close();
        }
    }

    /** A fresh key per use, so tests sharing a node never see each other's data. */
    private static String key(String prefix) {
        return prefix + "-" + keys.incrementAndGet();
    }

    private static void assertError(HttpResponse<byte[]> r, int status, String code) {
        assertThat(r.statusCode()).as(describe(r)).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).as(describe(r)).hasValue("application/json");
        assertThat(json(r).path("code").asText()).as(describe(r)).isEqualTo(code);
        assertThat(json(r).path("message").asText()).as(describe(r)).isNotBlank();
    }

    private static void assertError(RawHttp.Response r, int status, String code) {
        assertThat(r.status()).as(r.toString()).isEqualTo(status);
        assertThat(r.json().path("code").asText()).as(r.toString()).isEqualTo(code);
    }

    // ---- PUT / GET / HEAD / DELETE ----

    @Test
    void aSingleNodeTakesTheQuorumsOneReplicaMeetsSoClusterCodeRunsUnchanged() {
        String path = "/kv/" + key("portable");
        assertThat(node.put(path + "?w=quorum", "v1").statusCode()).isEqualTo(200);
        assertThat(node.put(path + "?w=all", "v2", "Cairn-Write-Quorum", "all").statusCode()).isEqualTo(200);
        assertThat(text(node.get(path + "?r=one"))).isEqualTo("v2");
        assertThat(text(node.get(path, "Cairn-Read-Quorum", "1"))).isEqualTo("v2");
        HttpResponse<byte[]> batch = node.call("POST", "/kv/_batch?r=quorum&w=1",
                ("{\"operations\":[{\"op\":\"get\",\"key\":\"" + key("portable") + "\"}]}").getBytes(java.nio.charset.StandardCharsets.UTF_8),
                "Content-Type", "application/json");
        assertThat(batch.statusCode()).as(describe(batch)).isEqualTo(200);
        // More than one replica is more than a single node has: refused, and nothing is written.
        assertError(node.put(path + "?w=2", "v3"), 400, "invalid_quorum");
        assertError(node.get(path + "?r=3"), 400, "invalid_quorum");
        assertThat(text(node.get(path))).isEqualTo("v2");
    }

    @Test
    void headersAndBodiesARequestDoesNotTakeAreRefusedAndChangeNothing() {
        String path = "/kv/" + key("unused");
        assertThat(node.put(path, "v1").statusCode()).isEqualTo(200);
        // Headers of writes on a read, of reads on a write: each names the header.
        String[][] cases = {
                {"GET", "Cairn-TTL", "10s"}, {"GET", "Cairn-Write-Quorum", "1"}, {"GET", "Idempotency-Key", "k1"},
                {"HEAD", "Cairn-TTL", "10s"}, {"PUT", "Cairn-Read-Quorum", "1"}, {"PUT", "Cairn-Consistency", "serial"},
                {"DELETE", "Cairn-TTL", "10s"}, {"DELETE", "Cairn-Read-Quorum", "1"}};
        for (String[] c : cases) {
            HttpResponse<byte[]> r = node.call(c[0], path, c[0].equals("PUT") ? "v2".getBytes(java.nio.charset.StandardCharsets.UTF_8) : null, c[1], c[2]);
            assertThat(r.statusCode()).as(c[0] + " with " + c[1] + ": " + describe(r)).isEqualTo(400);
            if (!c[0].equals("HEAD")) {
                assertError(r, 400, "invalid_header");
                assertThat(json(r).path("message").asText()).contains(c[1]);
            }
        }
        assertThat(text(node.get(path))).isEqualTo("v1");
        // A body on GET, HEAD or DELETE: refused before it is read; the key is not deleted.
        for (String method : List.of("GET", "HEAD", "DELETE")) {
            try (RawHttp c = new RawHttp(node.port())) {
                c.send(method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + TestTokens.AUTH_LINE + "Content-Length: 5\r\n\r\nhello");
                RawHttp.Response r = c.read(method.equals("HEAD"));
                assertThat(r.status()).as(method + ": " + r).isEqualTo(400);
                if (!method.equals("HEAD")) {
                    assertThat(r.json().path("code").asText()).isEqualTo("malformed_request");
                    assertThat(r.json().path("message").asText()).contains(method + " request");
                }
            }
        }
        assertThat(text(node.get(path))).isEqualTo("v1");
        // Conditions: a read's If-None-Match compares weakly; If-Modified-Since is honoured on reads;
        // If-Unmodified-Since, which no write could evaluate atomically, is refused everywhere.
        HttpResponse<byte[]> current = node.get(path);
        String tag = etag(current);
        assertThat(node.get(path, "If-None-Match", "W/" + tag).statusCode()).isEqualTo(304);
        String lastModified = current.headers().firstValue("Last-Modified").orElseThrow();
        assertThat(node.get(path, "If-Modified-Since", lastModified).statusCode()).isEqualTo(304);
        assertThat(node.get(path, "If-Modified-Since", "Mon, 01 Jan 2001 00:00:00 GMT").statusCode()).isEqualTo(200);
        assertThat(node.get(path, "If-Modified-Since", "yesterday").statusCode()).as("an invalid date is ignored").isEqualTo(200);
        for (String method : List.of("PUT", "DELETE", "GET")) {
            HttpResponse<byte[]> r = node.call(method, path, method.equals("PUT") ? new byte[] {'x'} : null,
                    "If-Unmodified-Since", "Mon, 01 Jan 2001 00:00:00 GMT");
            assertError(r, 400, "invalid_header");
            assertThat(json(r).path("message").asText()).contains("If-Match");
        }
        assertError(node.call("POST", "/admin/auth/tokens", "{\"name\":\"x\",\"roles\":[\"admin\"]}".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                "Content-Type", "application/json", "Idempotency-Key", "once"), 400, "invalid_header");
        // A batch of reads only takes no Idempotency-Key either (its stored answer would hold
        // every value read, for a caller that may only read); one with a write does.
        String key = path.substring("/kv/".length());
        HttpResponse<byte[]> reads = node.call("POST", "/kv/_batch", ("{\"operations\":[{\"op\":\"get\",\"key\":\"" + key + "\"}]}")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8), "Content-Type", "application/json", "Idempotency-Key", "reads-1");
        assertError(reads, 400, "invalid_header");
        assertThat(json(reads).path("message").asText()).contains("Idempotency-Key");
        assertThat(node.call("POST", "/kv/_batch", ("{\"operations\":[{\"op\":\"get\",\"key\":\"" + key + "\"},{\"op\":\"put\",\"key\":\""
                + key + "-2\",\"value\":\"x\"}]}").getBytes(java.nio.charset.StandardCharsets.UTF_8), "Content-Type", "application/json",
                "Idempotency-Key", "reads-2").statusCode()).isEqualTo(200);
        assertThat(text(node.get(path))).isEqualTo("v1");
        // An empty body (Content-Length: 0) is no body.
        try (RawHttp c = new RawHttp(node.port())) {
            c.send("DELETE " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + TestTokens.AUTH_LINE + "Content-Length: 0\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(204);
        }
    }

    @Test
    void putGetHeadDeleteRoundTrip() {
        String path = "/kv/" + key("rt");
        HttpResponse<byte[]> put = node.put(path, "hello", "Content-Type", "text/plain; charset=utf-8");
        assertThat(put.statusCode()).as(describe(put)).isEqualTo(200);
        assertThat(put.body()).isEmpty();
        String etag = etag(put);
        assertThat(etag).matches("\"[0-9a-f]{16}-[0-9a-f]+\"");
        assertThat(put.headers().firstValue("Cairn-Expires-At")).isEmpty();

        HttpResponse<byte[]> get = node.get(path);
        assertThat(get.statusCode()).isEqualTo(200);
        assertThat(text(get)).isEqualTo("hello");
        assertThat(etag(get)).isEqualTo(etag);
        assertThat(get.headers().firstValue("Content-Type")).hasValue("text/plain; charset=utf-8");
        assertThat(get.headers().firstValueAsLong("Content-Length")).hasValue(5);

        HttpResponse<byte[]> head = node.head(path);
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        assertThat(head.headers().firstValueAsLong("Content-Length")).hasValue(5);
        assertThat(etag(head)).isEqualTo(etag);

        HttpResponse<byte[]> del = node.delete(path);
        assertThat(del.statusCode()).as(describe(del)).isEqualTo(204);
        assertThat(etag(del)).isNotNull().isNotEqualTo(etag);
        assertError(node.get(path), 404, "key_not_found");
        assertThat(node.head(path).statusCode()).isEqualTo(404);
    }

    @Test
    void binaryValueRoundTripsByteForByteWithDefaultContentType() {
        byte[] value = new byte[4096];
        for (int i = 0; i < value.length; i++) {
            value[i] = (byte) (i * 31 + 7);
        }
        value[0] = 0;
        value[1] = (byte) 0xFF;
        String path = "/kv/" + key("bin");
        assertThat(node.put(path, value).statusCode()).isEqualTo(200);
        HttpResponse<byte[]> get = node.get(path);
        assertThat(get.body()).isEqualTo(value);
        assertThat(get.headers().firstValue("Content-Type")).hasValue("application/octet-stream");
    }

    @Test
    void emptyValueIsAValue() {
        String path = "/kv/" + key("empty");
        assertThat(node.put(path, new byte[0]).statusCode()).isEqualTo(200);
        HttpResponse<byte[]> get = node.get(path);
        assertThat(get.statusCode()).isEqualTo(200);
        assertThat(get.body()).isEmpty();
    }

    @Test
    void overwriteMakesANewVersion() {
        String path = "/kv/" + key("over");
        String first = etag(node.put(path, "1"));
        String second = etag(node.put(path, "2"));
        assertThat(second).isNotEqualTo(first);
        HttpResponse<byte[]> get = node.get(path);
        assertThat(text(get)).isEqualTo("2");
        assertThat(etag(get)).isEqualTo(second);
    }

    @Test
    void lastModifiedIsTheWriteTime() {
        Instant before = Instant.now().minusSeconds(1);
        String path = "/kv/" + key("lm");
        node.put(path, "x");
        Instant after = Instant.now().plusSeconds(1);
        String lastModified = node.get(path).headers().firstValue("Last-Modified").orElseThrow();
        Instant parsed = ZonedDateTime.parse(lastModified, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        assertThat(parsed).isBetween(before, after);
        assertThat(lastModified).endsWith(" GMT");
    }

    /**
     * Last-Modified must be an IMF-fixdate (RFC 9110 5.6.7), whose day is always two digits. The
     * node's clock is moved to 5 January 2030 through the HLC it recovers from disk, so the
     * check does not depend on today's date.
     */
    @Test
    void lastModifiedIsAnImfFixdateEvenOnSingleDigitDays() {
        Path dir = tmp.resolve("future-clock");
        TestNode.start(dir).close();
        long future = Instant.parse("2030-01-05T10:00:00Z").toEpochMilli();
        try (RocksEngine engine = new RocksEngine(dir.resolve("rocksdb"), node.node.config().rocks())) {
            engine.write(new WriteBatch().put(Keyspace.meta("hlc"), ByteBuffer.allocate(8).putLong(Version.pack(future, 0)).array()), Durability.SYNC);
        }
        try (TestNode ahead = TestNode.start(dir)) {
            ahead.put("/kv/k", "v");
            String lastModified = ahead.get("/kv/k").headers().firstValue("Last-Modified").orElseThrow();
            assertThat(lastModified).startsWith("Sat, ").endsWith(" 2030 10:00:00 GMT");
            assertThat(lastModified).matches("(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT");
        }
    }

    @Test
    void missingKeyIs404Json() {
        assertError(node.get("/kv/" + key("missing")), 404, "key_not_found");
    }

    // ---- conditional requests ----

    @Test
    void ifNoneMatchOnGetAnswers304() {
        String path = "/kv/" + key("inm");
        String etag = etag(node.put(path, "v"));
        HttpResponse<byte[]> same = node.get(path, "If-None-Match", etag);
        assertThat(same.statusCode()).isEqualTo(304);
        assertThat(same.body()).isEmpty();
        assertThat(etag(same)).isEqualTo(etag);
        assertThat(node.get(path, "If-None-Match", "*").statusCode()).isEqualTo(304);
        assertThat(node.get(path, "If-None-Match", "\"0000000000000001-1\", " + etag).statusCode()).isEqualTo(304);
        HttpResponse<byte[]> other = node.get(path, "If-None-Match", "\"0000000000000001-1\"");
        assertThat(other.statusCode()).isEqualTo(200);
        assertThat(text(other)).isEqualTo("v");
    }

    @Test
    void ifMatchCurrentSucceedsAndStaleFailsWithCurrentEtag() {
        String path = "/kv/" + key("im");
        String v1 = etag(node.put(path, "1"));
        HttpResponse<byte[]> ok = node.put(path, "2", "If-Match", v1);
        assertThat(ok.statusCode()).as(describe(ok)).isEqualTo(200);
        String v2 = etag(ok);

        HttpResponse<byte[]> stale = node.put(path, "3", "If-Match", v1);
        assertError(stale, 412, "precondition_failed");
        assertThat(json(stale).path("currentEtag").asText()).isEqualTo(v2);
        assertThat(etag(stale)).isEqualTo(v2);
        assertThat(text(node.get(path))).isEqualTo("2");

        HttpResponse<byte[]> list = node.put(path, "4", "If-Match", v1 + ", " + v2);
        assertThat(list.statusCode()).as(describe(list)).isEqualTo(200);
    }

    @Test
    void ifMatchOnMissingKeyFailsWithNullCurrentEtag() {
        String path = "/kv/" + key("im-missing");
        HttpResponse<byte[]> r = node.put(path, "x", "If-Match", "\"0000018c00000000-1\"");
        assertError(r, 412, "precondition_failed");
        assertThat(json(r).has("currentEtag")).isTrue();
        assertThat(json(r).get("currentEtag").isNull()).isTrue();
        assertThat(r.headers().firstValue("ETag")).isEmpty();
        assertThat(node.get(path).statusCode()).isEqualTo(404);
    }

    /**
     * A well-formed entity tag that is not a Cairn version (or a weak tag, under strong matching)
     * can never match: the write must be refused, not applied unconditionally.
     */
    @Test
    void ifMatchWithForeignOrWeakTagNeverMatches() {
        String path = "/kv/" + key("im-foreign");
        String v1 = etag(node.put(path, "1"));
        HttpResponse<byte[]> foreign = node.put(path, "2", "If-Match", "\"not-a-version\"");
        assertThat(foreign.statusCode()).as(describe(foreign)).isEqualTo(412);
        HttpResponse<byte[]> weak = node.put(path, "3", "If-Match", "W/" + v1);
        assertThat(weak.statusCode()).as(describe(weak)).isEqualTo(412);
        HttpResponse<byte[]> deleted = node.delete(path, "If-Match", "\"nope\"");
        assertThat(deleted.statusCode()).as(describe(deleted)).isEqualTo(412);
        assertThat(text(node.get(path))).isEqualTo("1");
        String absent = "/kv/" + key("im-foreign-absent");
        HttpResponse<byte[]> create = node.put(absent, "x", "If-Match", "\"nope\"");
        assertThat(create.statusCode()).as(describe(create)).isEqualTo(412);
        assertThat(node.get(absent).statusCode()).isEqualTo(404);
    }

    @Test
    void ifNoneMatchStarCreatesOnlyOnce() {
        String path = "/kv/" + key("create");
        HttpResponse<byte[]> first = node.put(path, "a", "If-None-Match", "*");
        assertThat(first.statusCode()).as(describe(first)).isEqualTo(200);
        HttpResponse<byte[]> second = node.put(path, "b", "If-None-Match", "*");
        assertError(second, 412, "precondition_failed");
        assertThat(json(second).path("currentEtag").asText()).isEqualTo(etag(first));
        assertThat(text(node.get(path))).isEqualTo("a");
        assertThat(node.put(path, "c", "If-None-Match", "\"0000018c00000000-1\"").statusCode()).isEqualTo(400);
        // After a delete the key is absent again, so create-only succeeds.
        node.delete(path);
        assertThat(node.put(path, "d", "If-None-Match", "*").statusCode()).isEqualTo(200);
    }

    @Test
    void ifMatchStarRequiresALiveValue() {
        String path = "/kv/" + key("star");
        assertError(node.put(path, "a", "If-Match", "*"), 412, "precondition_failed");
        assertThat(node.get(path).statusCode()).isEqualTo(404);
        node.put(path, "b");
        assertThat(node.put(path, "c", "If-Match", "*").statusCode()).isEqualTo(200);
        assertThat(text(node.get(path))).isEqualTo("c");
    }

    @Test
    void deleteWithIfMatch() {
        String path = "/kv/" + key("del-im");
        String v1 = etag(node.put(path, "1"));
        String v2 = etag(node.put(path, "2"));
        HttpResponse<byte[]> stale = node.delete(path, "If-Match", v1);
        assertError(stale, 412, "precondition_failed");
        assertThat(json(stale).path("currentEtag").asText()).isEqualTo(v2);
        assertThat(node.get(path).statusCode()).isEqualTo(200);
        assertThat(node.delete(path, "If-Match", v2).statusCode()).isEqualTo(204);
        assertThat(node.get(path).statusCode()).isEqualTo(404);
        assertError(node.delete(path, "If-Match", "*"), 412, "precondition_failed");
        assertError(node.delete(path, "If-None-Match", "*"), 400, "invalid_header");
    }

    @Test
    void malformedConditionHeadersAre400() {
        String path = "/kv/" + key("bad-cond");
        String v1 = etag(node.put(path, "1"));
        for (String bad : new String[] {"\"abc", "a\"b", ",", "\"\"", "\"a b\"", v1 + ",,"}) {
            assertError(node.put(path, "2", "If-Match", bad), 400, "invalid_header");
            assertError(node.delete(path, "If-Match", bad), 400, "invalid_header");
            assertError(node.get(path, "If-None-Match", bad), 400, "invalid_header");
        }
        assertError(node.put(path, "2", "If-Match", v1, "If-None-Match", "*"), 400, "invalid_header");
        assertError(node.put(path, "2", "If-Match", v1, "If-Match", v1), 400, "invalid_header");
        assertError(node.put(path, "2", "Content-Type", "text/" + "x".repeat(300)), 400, "invalid_header");
        assertError(node.put(path, "2", "Cairn-TTL", "1s", "Cairn-TTL", "1s"), 400, "invalid_header");
        assertThat(text(node.get(path))).isEqualTo("1");
    }

    // ---- keys ----

    @Test
    void percentEncodedUtf8KeysRoundTrip() {
        for (String k : new String[] {"user:123/session", "emoji-\uD83D\uDE00-\u00e9\u4e2d", "a+b c", "100%", "?#&=", "..", "\u0000nul"}) {
            String path = "/kv/" + encodeKey(k + keys.incrementAndGet());
            HttpResponse<byte[]> put = node.put(path, k);
            assertThat(put.statusCode()).as(describe(put)).isEqualTo(200);
            HttpResponse<byte[]> get = node.get(path);
            assertThat(text(get)).as(k).isEqualTo(k);
        }
        // The same key in raw and encoded form is the same key; '+' in a path is a literal plus.
        String raw = key("plain+key");
        node.put("/kv/" + raw, "v");
        assertThat(text(node.get("/kv/" + encodeKey(raw)))).isEqualTo("v");
        // A key containing %2F is one key, distinct from its percent-escaped form.
        String slash = key("s");
        node.put("/kv/" + encodeKey("a/" + slash), "slash");
        assertThat(node.get("/kv/" + encodeKey("a%2F" + slash)).statusCode()).isEqualTo(404);
    }

    @Test
    void emptyKeyIsTheBatchOnlyRoute() {
        for (String m : new String[] {"GET", "PUT", "DELETE"}) {
            HttpResponse<byte[]> r = node.call(m, "/kv/", m.equals("PUT") ? new byte[] {1} : null);
            assertError(r, 405, "method_not_allowed");
            assertThat(r.headers().firstValue("Allow")).hasValue("BATCH");
        }
        HttpResponse<byte[]> bare = node.get("/kv");
        assertError(bare, 405, "method_not_allowed");
        assertThat(bare.headers().firstValue("Allow")).hasValue("BATCH");
    }

    @Test
    void slashInsideKeyIsInvalid() {
        assertError(node.get("/kv/a/b"), 400, "invalid_key");
        assertError(node.put("/kv/a/b", "x"), 400, "invalid_key");
        assertError(node.get("/kv/a/"), 400, "invalid_key");
    }

    @Test
    void malformedEscapesAreInvalidKeys() {
        try (RawHttp c = new RawHttp(node.port())) {
            for (String target : new String[] {"/kv/%zz", "/kv/%4", "/kv/a%", "/kv/%C3%28", "/kv/%ff", "/kv/%ED%A0%80", "/kv/%C0%AF", "/kv/a%g1"}) {
                c.send(RawHttp.request("GET", target, null));
                assertError(c.read(), 400, "invalid_key");
                c.send(RawHttp.request("PUT", target, "v"));
                assertError(c.read(), 400, "invalid_key");
            }
            // Raw (unencoded) UTF-8 in the request line is accepted as the same key.
            String k = key("raw-\u00e9");
            node.put("/kv/" + encodeKey(k), "raw");
            c.send((RawHttp.request("GET", "/kv/" + new String(k.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1), null)));
            assertThat(c.read().text()).isEqualTo("raw");
        }
    }

    @Test
    void keyLengthLimitIsInUtf8Bytes() {
        String exact = "k" + "x".repeat(1022) + "y";
        assertThat(exact.getBytes(StandardCharsets.UTF_8)).hasSize(1024);
        assertThat(node.put("/kv/" + exact, "ok").statusCode()).isEqualTo(200);
        assertThat(text(node.get("/kv/" + exact))).isEqualTo("ok");
        assertError(node.put("/kv/" + exact + "z", "no"), 400, "key_too_long");
        assertError(node.get("/kv/" + exact + "z"), 400, "key_too_long");
        // 256 four-byte code points: exactly 1024 bytes, 3072 characters when encoded.
        String emoji = "\uD83D\uDE00".repeat(256);
        assertThat(node.put("/kv/" + encodeKey(emoji), "e").statusCode()).isEqualTo(200);
        assertThat(text(node.get("/kv/" + encodeKey(emoji)))).isEqualTo("e");
        assertError(node.put("/kv/" + encodeKey(emoji + "a"), "e"), 400, "key_too_long");
        // 1025 bytes as two-byte code points plus one ASCII byte.
        assertError(node.get("/kv/" + encodeKey("\u00e9".repeat(512) + "a")), 400, "key_too_long");
    }

    // ---- query parameters and routes ----

    @Test
    void unknownOrRepeatedQueryParametersAre400() {
        String path = "/kv/" + key("q");
        assertError(node.get(path + "?foo=1"), 400, "invalid_parameter");
        assertError(node.get(path + "?ttl=1"), 400, "invalid_parameter");
        assertError(node.put(path + "?ttl=1&ttl=2", "x"), 400, "invalid_parameter");
        assertError(node.put(path + "?bogus", "x"), 400, "invalid_parameter");
        assertError(node.delete(path + "?x=y"), 400, "invalid_parameter");
        assertError(node.call("BATCH", "/kv?dry=1", "[{\"op\":\"get\",\"key\":\"a\"}]".getBytes(StandardCharsets.UTF_8)), 400, "invalid_parameter");
        assertThat(node.get(path).statusCode()).isEqualTo(404);
        try (RawHttp c = new RawHttp(node.port())) {
            c.send(RawHttp.request("PUT", path + "?ttl=%zz", "x"));
            assertError(c.read(), 400, "invalid_parameter");
        }
    }

    @Test
    void unknownRouteIs404() {
        for (String path : new String[] {"/", "/nope", "/kvx", "/health/x", "/admin", "/KV/a"}) {
            assertError(node.get(path), 404, "route_not_found");
        }
    }

    @Test
    void wrongMethodIs405WithAllow() {
        HttpResponse<byte[]> post = node.call("POST", "/kv/x", "v".getBytes(StandardCharsets.UTF_8));
        assertError(post, 405, "method_not_allowed");
        assertThat(post.headers().firstValue("Allow")).hasValue("GET, HEAD, PUT, DELETE");
        assertThat(node.get("/kv/x").statusCode()).isEqualTo(404);
        for (String path : new String[] {"/health", "/ready", "/metrics", "/admin/status"}) {
            HttpResponse<byte[]> put = node.put(path, "x");
            assertError(put, 405, "method_not_allowed");
            assertThat(put.headers().firstValue("Allow")).hasValue("GET, HEAD");
            assertThat(node.delete(path).statusCode()).isEqualTo(405);
        }
        HttpResponse<byte[]> patch = node.call("PATCH", "/kv/x", "v".getBytes(StandardCharsets.UTF_8));
        assertError(patch, 405, "method_not_allowed");
        HttpResponse<byte[]> batchPut = node.call("PUT", "/kv/_batch", "[]".getBytes(StandardCharsets.UTF_8));
        assertThat(batchPut.statusCode()).isEqualTo(200); // "_batch" is an ordinary key for PUT
        assertThat(node.call("BATCH", "/kv/_batch", "[]".getBytes(StandardCharsets.UTF_8)).statusCode()).isEqualTo(405);
    }

    // ---- body limits ----

    @Test
    void valueOverTheLimitIs413AndNothingIsStored() {
        String path = "/kv/" + key("big");
        assertThat(small.put(path, new byte[1024]).statusCode()).isEqualTo(200);
        String etag = etag(small.get(path));
        assertError(small.put(path, new byte[1025]), 413, "value_too_large");
        assertError(small.put(path, new byte[4000]), 413, "value_too_large");
        HttpResponse<byte[]> get = small.get(path);
        assertThat(get.body()).hasSize(1024);
        assertThat(etag(get)).isEqualTo(etag);
        String fresh = "/kv/" + key("big-fresh");
        assertError(small.put(fresh, new byte[2048]), 413, "value_too_large");
        assertThat(small.get(fresh).statusCode()).isEqualTo(404);
    }

    @Test
    void hugeDeclaredContentLengthIsRefusedBeforeTheBodyIsSent() throws Exception {
        String path = "/kv/" + key("huge");
        try (RawHttp c = new RawHttp(node.port())) {
            c.send("PUT " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + TestTokens.AUTH_LINE + "Content-Length: 10000000000\r\n\r\n");
            RawHttp.Response r = c.read();
            assertError(r, 413, "value_too_large");
            assertThat(r.header("Connection")).isEqualToIgnoringCase("close");
            assertThat(c.closedByServer(5000)).isTrue();
        }
        try (RawHttp c = new RawHttp(small.port())) {
            c.send("PUT " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + TestTokens.AUTH_LINE + "Content-Length: 1025\r\n\r\n");
            assertError(c.read(), 413, "value_too_large");
        }
        try (RawHttp c = new RawHttp(node.port())) {
            c.send("POST /kv/_batch HTTP/1.1\r\nHost: 127.0.0.1\r\n" + TestTokens.AUTH_LINE + "Content-Length: 999999999\r\n\r\n");
            assertError(c.read(), 413, "body_too_large");
        }
        try (RawHttp c = new RawHttp(node.port())) {
            c.send("POST /admin/repair HTTP/1.1\r\nHost: 127.0.0.1\r\n" + TestTokens.AUTH_LINE + "Content-Length: 70000\r\n\r\n");
            assertError(c.read(), 413, "body_too_large");
        }
        assertThat(node.get(path).statusCode()).isEqualTo(404);
    }

    @Test
    void chunkedBodyOverTheLimitIs413() {
        String path = "/kv/" + key("chunked");
        try (RawHttp c = new RawHttp(small.port())) {
            c.send("PUT " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + TestTokens.AUTH_LINE + "Transfer-Encoding: chunked\r\n\r\n"
                    + "258\r\n" + "a".repeat(600) + "\r\n" + "258\r\n" + "b".repeat(600) + "\r\n");
            RawHttp.Response r = c.read();
            assertError(r, 413, "value_too_large");
            assertThat(c.closedByServer(5000)).isTrue();
        }
        assertThat(small.get(path).statusCode()).isEqualTo(404);
        // A chunked body within the limit is assembled and stored.
        try (RawHttp c = new RawHttp(small.port())) {
            c.send("PUT " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + TestTokens.AUTH_LINE + "Transfer-Encoding: chunked\r\n\r\n"
                    + "3\r\nabc\r\n" + "2\r\nde\r\n0\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
        }
        assertThat(text(small.get(path))).isEqualTo("abcde");
    }

    @Test
    void expectContinueIsHonoured() throws Exception {
        String path = "/kv/" + key("expect");
        try (RawHttp c = new RawHttp(node.port())) {
            c.send("PUT " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + TestTokens.AUTH_LINE + "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n");
            RawHttp.Response interim = c.read();
            assertThat(interim.status()).as(interim.toString()).isEqualTo(100);
            c.send("hello");
            RawHttp.Response done = c.read();
            assertThat(done.status()).as(done.toString()).isEqualTo(200);
        }
        assertThat(text(node.get(path))).isEqualTo("hello");
        // Over the limit: refused at once, without a 100 Continue.
        try (RawHttp c = new RawHttp(small.port())) {
            c.send("PUT " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + TestTokens.AUTH_LINE + "Expect: 100-continue\r\nContent-Length: 5000\r\n\r\n");
            assertError(c.read(), 413, "value_too_large");
        }
        // Through HttpClient's own expect-continue support.
        HttpResponse<byte[]> viaClient = node.send(node.request(path).expectContinue(true)
                .PUT(HttpRequest.BodyPublishers.ofString("world")));
        assertThat(viaClient.statusCode()).isEqualTo(200);
        assertThat(text(node.get(path))).isEqualTo("world");
        // An expectation the server cannot meet: 417, before the body, and nothing stored.
        for (String expect : List.of("200-ok", "100-continue, x-other", "")) {
            try (RawHttp c = new RawHttp(node.port())) {
                c.send("PUT " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + TestTokens.AUTH_LINE + "Expect: " + expect + "\r\nContent-Length: 5\r\n\r\n");
                assertError(c.read(), 417, "expectation_failed");
            }
        }
        assertThat(text(node.get(path))).isEqualTo("world");
    }

    // ---- TTL ----

    @Test
    void ttlFormsAreAccepted() {
        long now = System.currentTimeMillis();
        record Case(String query, String header, long millis) {}
        for (Case c : new Case[] {new Case("?ttl=2", null, 2000), new Case(null, "1500ms", 1500), new Case(null, "2s", 2000),
                new Case(null, "PT2S", 2000), new Case("?ttl=3m", null, 180_000), new Case("?ttl=pt1h", null, 3_600_000),
                new Case("?ttl=2", "2", 2000)}) {
            String path = "/kv/" + key("ttl") + (c.query == null ? "" : c.query);
            HttpResponse<byte[]> put = c.header == null ? node.put(path, "x") : node.put(path, "x", "Cairn-TTL", c.header);
            assertThat(put.statusCode()).as(describe(put)).isEqualTo(200);
            Instant expires = Instant.parse(put.headers().firstValue("Cairn-Expires-At").orElseThrow());
            assertThat(expires.toEpochMilli()).as(c.toString()).isBetween(now + c.millis - 100, System.currentTimeMillis() + c.millis + 100);
            String getPath = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
            HttpResponse<byte[]> get = node.get(getPath);
            assertThat(get.headers().firstValue("Cairn-Expires-At")).as(c.toString()).hasValue(expires.toString());
        }
        String none = "/kv/" + key("ttl-none");
        HttpResponse<byte[]> put = node.put(none, "x", "Cairn-TTL", "none");
        assertThat(put.statusCode()).isEqualTo(200);
        assertThat(put.headers().firstValue("Cairn-Expires-At")).isEmpty();
        assertThat(node.get(none).headers().firstValue("Cairn-Expires-At")).isEmpty();
        assertThat(node.put("/kv/" + key("ttl-none-q") + "?ttl=none", "x").statusCode()).isEqualTo(200);
    }

    @Test
    void aContentTypeNoHeaderCanCarryIsRefusedEverywhereAPutTakesOne() {
        String key = key("ct-bad");
        for (String bad : new String[] {"text/plain\r\nX-Injected: yes", "a\u0000b", "a\u007fb", "caf\u00e9/x", "", "x".repeat(256)}) {
            String body = "[{\"op\":\"put\",\"key\":\"" + key + "\",\"value\":\"v\",\"contentType\":" + quoted(bad) + "}]";
            HttpResponse<byte[]> r = node.batch(body);
            assertError(r, 400, "malformed_batch");
            assertThat(json(r).path("message").asText()).contains("'contentType'");
        }
        assertError(node.put("/kv/" + key, "v", "Content-Type", "x".repeat(256)), 400, "invalid_header");
        assertThat(node.get("/kv/" + key).statusCode()).as("nothing was stored").isEqualTo(404);
        String fine = "application/vnd.cairn+json; charset=utf-8";
        assertThat(node.batch("[{\"op\":\"put\",\"key\":\"" + key + "\",\"value\":\"v\",\"contentType\":" + quoted(fine) + "}]")
                .statusCode()).isEqualTo(200);
        assertThat(node.get("/kv/" + key).headers().firstValue("Content-Type")).contains(fine);
    }

    @Test
    void aReadWithIfMatchAnswersOnlyWhileTheVersionIsCurrent() {
        String path = "/kv/" + key("read-if-match");
        assertError(node.get(path, "If-Match", "*"), 412, "precondition_failed");
        String etag = node.put(path, "v1").headers().firstValue("ETag").orElseThrow();
        assertThat(text(node.get(path, "If-Match", etag))).isEqualTo("v1");
        assertThat(node.get(path, "If-Match", "*").statusCode()).isEqualTo(200);
        String newer = node.put(path, "v2").headers().firstValue("ETag").orElseThrow();
        HttpResponse<byte[]> stale = node.get(path, "If-Match", etag);
        assertError(stale, 412, "precondition_failed");
        assertThat(json(stale).path("currentEtag").asText()).isEqualTo(newer);
        assertThat(node.call("HEAD", path, new byte[0], "If-Match", etag).statusCode()).isEqualTo(412);
        assertError(node.get(path, "If-Match", newer, "If-None-Match", etag), 400, "invalid_header");
    }

    @Test
    void malformedJsonIsDescribedInTheClientsTermsNotTheParsers() {
        String deep = "[".repeat(1_200) + "]".repeat(1_200);
        for (String body : new String[] {"[{\"op\":\"get\",\"key\":\"a\"}] {}", "{\"operations\":[", deep, "[{\"op\":\"get\",\"key\":\"a\",}]"}) {
            HttpResponse<byte[]> r = node.batch(body);
            assertError(r, 400, "malformed_batch");
            assertThat(json(r).path("message").asText()).as(body.substring(0, Math.min(40, body.length())))
                    .startsWith("the body is not valid JSON").doesNotContain("com.fasterxml").doesNotContain("Feature").doesNotContain("Constraints")
                    .doesNotContain("Source");
        }
        assertThat(json(node.batch("[{\"op\":\"get\",\"key\":\"a\"}] {}")).path("message").asText()).contains("more after the JSON document");
        assertThat(json(node.batch(deep)).path("message").asText()).contains("nesting depth");
    }

    @Test
    void headersThatShapeOneKeysWriteAreRefusedOnABatchAndChangeNothing() {
        String key = key("batch-headers");
        assertThat(node.put("/kv/" + key, "v1").statusCode()).isEqualTo(200);
        for (String[] header : new String[][] {{"If-Match", "\"0000000000000001-1\""}, {"If-None-Match", "*"}, {"Cairn-TTL", "5"},
                {"Cairn-Consistency", "serial"}}) {
            HttpResponse<byte[]> r = node.batch("[{\"op\":\"delete\",\"key\":\"" + key + "\"}]", header);
            assertError(r, 400, "invalid_header");
            assertThat(json(r).path("message").asText()).as(header[0]).contains(header[0]).contains("in the body");
        }
        assertThat(node.get("/kv/" + key).statusCode()).as("nothing was deleted").isEqualTo(200);
    }

    @Test
    void aBatchTtlIsAnyNumberOfSecondsOrADurationAndNullIsNone() {
        String key = key("batch-ttl");
        for (String ttl : new String[] {"1.5", "1e3", "\"1.5\"", "null"}) {
            HttpResponse<byte[]> r = node.batch("[{\"op\":\"put\",\"key\":\"" + key + "\",\"value\":\"v\",\"ttl\":" + ttl + "}]");
            assertThat(r.statusCode()).as(ttl + ": " + TestNode.describe(r)).isEqualTo(200);
            assertThat(node.get("/kv/" + key).headers().firstValue("Cairn-Expires-At").isPresent()).as(ttl).isEqualTo(!ttl.equals("null"));
        }
        for (String ttl : new String[] {"0.0005", "-1", "0", "true", "[1]", "1e400", "-1e400", "1e308", "99999999999999999999999"}) {
            assertError(node.batch("[{\"op\":\"put\",\"key\":\"" + key + "\",\"value\":\"v\",\"ttl\":" + ttl + "}]"), 400, "malformed_batch");
        }
    }

    private static String quoted(String text) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void invalidTtlIs400() {
        String path = "/kv/" + key("ttl-bad");
        for (String bad : new String[] {"0", "-1", "abc", "1.5x", "0ms", "PT0S", "PT-1S", "1w", "", "36501d", "99999999999999999999", "1m30",
                // Shorter than the millisecond expiry is kept in: it would round to 0, "never expires".
                "0.0001", "0.1ms", "PT0.0001S", "999us"}) {
            assertError(node.put(path, "x", "Cairn-TTL", bad), 400, "invalid_ttl");
            assertError(node.put(path + "?ttl=" + encodeKey(bad), "x"), 400, "invalid_ttl");
        }
        assertError(node.put(path + "?ttl=2", "x", "Cairn-TTL", "5"), 400, "invalid_ttl");
        // Control characters are not spaces: %00, a line feed or a vertical tab is refused, not trimmed.
        for (String bad : new String[] {"1s%00", "1h%0A", "%0B1h", "1h%091m"}) {
            assertError(node.put(path + "?ttl=" + bad, "x"), 400, "invalid_ttl");
        }
        assertThat(node.get(path).statusCode()).isEqualTo(404);
        // The one duration grammar: compounds and fractions are TTLs too.
        assertThat(node.put(path, "x", "Cairn-TTL", "1m30s").statusCode()).isEqualTo(200);
        assertThat(node.put(path + "?ttl=1.5h", "x").statusCode()).isEqualTo(200);
    }

    // ---- BATCH ----

    @Test
    void aBatchsReadsReturnAtMostTheirLimitOfBytesAndTheGetPastItAloneIsRefused() {
        // Two values of 1 000 bytes fit the node's 2 048; a third read of one does not, and answers
        // 413 on its own while the batch's write still applies (a thousand reads of one large
        // value once built a 1.4 GB answer and ran a node out of memory).
        String a = key("ra");
        String c = key("rc");
        assertThat(small.put("/kv/" + a, new byte[1000]).statusCode()).isEqualTo(200);
        String body = "{\"operations\": [{\"op\":\"get\",\"key\":\"" + a + "\"},{\"op\":\"put\",\"key\":\"" + c
                + "\",\"value\":\"vc\"},{\"op\":\"get\",\"key\":\"" + a + "\"}]}";
        HttpResponse<byte[]> first = small.call("POST", "/kv/_batch", body.getBytes(StandardCharsets.UTF_8), "Content-Type", "application/json");
        assertThat(first.statusCode()).as(describe(first)).isEqualTo(200);
        JsonNode results = json(first).get("results");
        assertThat(results.get(0).path("status").asInt()).isEqualTo(200);
        assertThat(results.get(1).path("status").asInt()).isEqualTo(200);
        assertThat(results.get(2).path("status").asInt()).as("2 000 bytes read fit 2 048").isEqualTo(200);
        body = "{\"operations\": [{\"op\":\"get\",\"key\":\"" + a + "\"},{\"op\":\"get\",\"key\":\"" + a
                + "\"},{\"op\":\"get\",\"key\":\"" + a + "\"}]}";
        HttpResponse<byte[]> second = small.call("POST", "/kv/_batch", body.getBytes(StandardCharsets.UTF_8), "Content-Type", "application/json");
        assertThat(second.statusCode()).as(describe(second)).isEqualTo(200);
        results = json(second).get("results");
        assertThat(results.get(0).path("status").asInt()).isEqualTo(200);
        assertThat(results.get(1).path("status").asInt()).isEqualTo(200);
        assertThat(results.get(2).path("status").asInt()).isEqualTo(413);
        assertThat(results.get(2).path("code").asText()).isEqualTo("response_too_large");
        assertThat(results.get(2).path("message").asText()).contains("limits.maxBatchReadBytes");
        assertThat(results.get(2).has("value")).isFalse();
        assertThat(text(small.get("/kv/" + c))).isEqualTo("vc");
    }

    @Test
    void batchRunsOperationsInOrderViaBothRoutes() {
        for (String route : new String[] {"BATCH /kv", "BATCH /kv/", "POST /kv/_batch"}) {
            String a = key("ba");
            String b = key("bb");
            node.put("/kv/" + b, "old-b");
            String body = "{\"operations\": ["
                    + "{\"op\":\"get\",\"key\":\"" + a + "\"},"
                    + "{\"op\":\"put\",\"key\":\"" + a + "\",\"value\":\"va\",\"contentType\":\"text/plain\",\"ttl\":\"1h\"},"
                    + "{\"op\":\"get\",\"key\":\"" + a + "\"},"
                    + "{\"op\":\"delete\",\"key\":\"" + b + "\"},"
                    + "{\"op\":\"get\",\"key\":\"" + b + "\"}]}";
            String[] mp = route.split(" ");
            HttpResponse<byte[]> r = node.call(mp[0], mp[1], body.getBytes(StandardCharsets.UTF_8));
            assertThat(r.statusCode()).as(describe(r)).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
            JsonNode results = json(r).get("results");
            assertThat(results).hasSize(5);
            assertThat(results.get(0).path("status").asInt()).isEqualTo(404);
            assertThat(results.get(0).path("code").asText()).isEqualTo("key_not_found");
            assertThat(results.get(1).path("status").asInt()).isEqualTo(200);
            assertThat(results.get(1).path("op").asText()).isEqualTo("put");
            assertThat(results.get(1).path("key").asText()).isEqualTo(a);
            assertThat(results.get(1).has("expiresAt")).isTrue();
            String etagA = results.get(1).path("etag").asText();
            assertThat(results.get(2).path("status").asInt()).isEqualTo(200);
            assertThat(results.get(2).path("value").asText()).isEqualTo("va");
            assertThat(results.get(2).path("etag").asText()).isEqualTo(etagA);
            assertThat(results.get(2).path("contentType").asText()).isEqualTo("text/plain");
            assertThat(results.get(3).path("status").asInt()).isEqualTo(204);
            assertThat(results.get(4).path("status").asInt()).isEqualTo(404);
            HttpResponse<byte[]> getA = node.get("/kv/" + a);
            assertThat(text(getA)).isEqualTo("va");
            assertThat(etag(getA)).isEqualTo(etagA);
            assertThat(getA.headers().firstValue("Content-Type")).hasValue("text/plain");
            assertThat(node.get("/kv/" + b).statusCode()).isEqualTo(404);
        }
    }

    @Test
    void conditionalOperationsInsideABatchFailAlone() {
        String a = key("bc-a");
        String b = key("bc-b");
        String c = key("bc-c");
        String va = etag(node.put("/kv/" + a, "a1"));
        String vb = etag(node.put("/kv/" + b, "b1"));
        node.put("/kv/" + b, "b2");
        String body = "[{\"op\":\"put\",\"key\":\"" + a + "\",\"value\":\"a2\",\"ifMatch\":" + TestNode.JSON.valueToTree(va) + "},"
                + "{\"op\":\"put\",\"key\":\"" + b + "\",\"value\":\"b3\",\"ifMatch\":" + TestNode.JSON.valueToTree(vb) + "},"
                + "{\"op\":\"put\",\"key\":\"" + c + "\",\"value\":\"c1\",\"ifNoneMatch\":\"*\"},"
                + "{\"op\":\"put\",\"key\":\"" + c + "\",\"value\":\"c2\",\"ifNoneMatch\":\"*\"},"
                + "{\"op\":\"delete\",\"key\":\"" + a + "\",\"ifMatch\":\"\\\"0000000000000001-1\\\"\"}]";
        HttpResponse<byte[]> r = node.batch(body);
        assertThat(r.statusCode()).as(describe(r)).isEqualTo(200);
        JsonNode results = json(r).get("results");
        assertThat(results.get(0).path("status").asInt()).isEqualTo(200);
        assertThat(results.get(1).path("status").asInt()).isEqualTo(412);
        assertThat(results.get(1).path("code").asText()).isEqualTo("precondition_failed");
        assertThat(results.get(1).path("currentEtag").asText()).isEqualTo(etag(node.get("/kv/" + b)));
        assertThat(results.get(2).path("status").asInt()).isEqualTo(200);
        assertThat(results.get(3).path("status").asInt()).isEqualTo(412);
        assertThat(results.get(3).path("currentEtag").asText()).isEqualTo(results.get(2).path("etag").asText());
        assertThat(results.get(4).path("status").asInt()).isEqualTo(412);
        assertThat(text(node.get("/kv/" + a))).isEqualTo("a2");
        assertThat(text(node.get("/kv/" + b))).isEqualTo("b2");
        assertThat(text(node.get("/kv/" + c))).isEqualTo("c1");
    }

    @Test
    void batchBinaryValuesUseBase64() {
        String k = key("b64");
        byte[] value = {0, 1, 2, (byte) 0xC3, (byte) 0x28, (byte) 0xFF};
        String body = "{\"operations\":[{\"op\":\"put\",\"key\":\"" + k + "\",\"valueBase64\":\"" + Base64.getEncoder().encodeToString(value) + "\"},"
                + "{\"op\":\"get\",\"key\":\"" + k + "\"}]}";
        JsonNode results = json(node.batch(body)).get("results");
        assertThat(results.get(1).has("value")).isFalse();
        assertThat(Base64.getDecoder().decode(results.get(1).path("valueBase64").asText())).isEqualTo(value);
        assertThat(node.get("/kv/" + k).body()).isEqualTo(value);
        // A read-only batch takes the read path and renders the same way.
        JsonNode read = json(node.batch("[{\"op\":\"get\",\"key\":\"" + k + "\"}]")).get("results");
        assertThat(Base64.getDecoder().decode(read.get(0).path("valueBase64").asText())).isEqualTo(value);
        // Keys in a batch are text, so any Unicode key works and matches the URL-encoded form.
        String uk = key("user:1/\uD83D\uDE00");
        node.batch("[{\"op\":\"put\",\"key\":" + TestNode.JSON.valueToTree(uk) + ",\"value\":\"u\"}]");
        assertThat(text(node.get("/kv/" + encodeKey(uk)))).isEqualTo("u");
    }

    @Test
    void malformedBatchesAre400AndApplyNothing() {
        String k = key("bm");
        for (String bad : new String[] {"", "{", "not json", "{\"operations\": 5}", "{\"operations\": []}", "[]", "{}", "null", "\"x\"",
                "{\"operations\":[{\"op\":\"put\",\"key\":\"" + k + "\",\"value\":\"v\"}], \"extra\": 1}",
                "[{\"op\":\"put\",\"key\":\"" + k + "\",\"value\":\"v\",\"valu\":\"typo\"}]",
                "[{\"op\":\"get\",\"key\":\"" + k + "\",\"ttl\":\"1s\"}]",
                "[{\"op\":\"put\",\"key\":\"" + k + "\"}]",
                "[{\"op\":\"put\",\"key\":\"" + k + "\",\"value\":\"v\",\"valueBase64\":\"dg==\"}]",
                "[{\"op\":\"put\",\"key\":\"" + k + "\",\"valueBase64\":\"***\"}]",
                "[{\"op\":\"put\",\"key\":\"" + k + "\",\"value\":\"v\",\"ttl\":0}]",
                "[{\"op\":\"put\",\"key\":\"" + k + "\",\"value\":\"v\",\"ttl\":true}]",
                "[{\"op\":\"put\",\"key\":\"" + k + "\",\"value\":\"v\",\"ifMatch\":\"\\\"x\",\"ifNoneMatch\":\"*\"}]",
                "[{\"op\":\"put\",\"key\":\"\",\"value\":\"v\"}]",
                "[{\"op\":\"put\",\"key\":" + TestNode.JSON.valueToTree("x".repeat(1025)) + ",\"value\":\"v\"}]",
                "[{\"op\":\"upsert\",\"key\":\"" + k + "\"}]", "[{\"key\":\"" + k + "\"}]", "[5]", "[{\"op\":\"put\",\"key\":5,\"value\":\"v\"}]"}) {
            assertError(node.batch(bad), 400, "malformed_batch");
            assertError(node.call("POST", "/kv/_batch", bad.getBytes(StandardCharsets.UTF_8)), 400, "malformed_batch");
        }
        assertThat(node.get("/kv/" + k).statusCode()).isEqualTo(404);
    }

    /** Found by BatchCodecFuzzTest: Jackson reads 00 00 00 xx as UTF-32 and throws an IOException on a bad code point. */
    @Test
    void batchBodyInBrokenUtf32Is400NotAnInternalError() {
        byte[] body = {0, 0, 0, '[', 0, '_', 0, 0};
        HttpResponse<byte[]> r = node.call("BATCH", "/kv", body);
        assertError(r, 400, "malformed_batch");
    }

    @Test
    void badOperationIsNamedAndNothingInTheBatchIsApplied() {
        String a = key("bi-a");
        String b = key("bi-b");
        String body = "{\"operations\":[{\"op\":\"put\",\"key\":\"" + a + "\",\"value\":\"1\"},"
                + "{\"op\":\"delete\",\"key\":\"" + b + "\"},"
                + "{\"op\":\"put\",\"key\":\"" + b + "\",\"value\":\"2\",\"ttl\":\"soon\"}]}";
        node.put("/kv/" + b, "keep");
        HttpResponse<byte[]> r = node.batch(body);
        assertError(r, 400, "malformed_batch");
        assertThat(json(r).path("message").asText()).contains("operations[2]");
        assertThat(json(r).path("operation").asInt()).isEqualTo(2);
        assertThat(json(r).path("cause").asText()).isEqualTo("invalid_ttl");
        assertThat(node.get("/kv/" + a).statusCode()).isEqualTo(404);
        assertThat(text(node.get("/kv/" + b))).isEqualTo("keep");
    }

    @Test
    void tooManyOperationsIs413() {
        String k = key("many");
        String op = "{\"op\":\"put\",\"key\":\"" + k + "\",\"value\":\"v\"}";
        HttpResponse<byte[]> r = small.batch("[" + String.join(",", op, op, op, op) + "]");
        assertError(r, 413, "too_many_operations");
        assertThat(small.get("/kv/" + k).statusCode()).isEqualTo(404);
        assertThat(small.batch("[" + String.join(",", op, op, op) + "]").statusCode()).isEqualTo(200);
        // A value over the value limit inside a batch is refused, naming the operation.
        HttpResponse<byte[]> big = small.batch("[{\"op\":\"put\",\"key\":\"" + key("bigv") + "\",\"value\":\"" + "x".repeat(1025) + "\"}]");
        assertThat(big.statusCode()).as(describe(big)).isIn(400, 413);
        assertThat(text(big)).contains("operations[0]").contains("value_too_large");
    }

    @Test
    void bareArrayAndCustomMethodOverRawSocket() {
        String k = key("raw-batch");
        try (RawHttp c = new RawHttp(node.port())) {
            c.send(RawHttp.request("BATCH", "/kv", "[{\"op\":\"put\",\"key\":\"" + k + "\",\"value\":\"r\"},{\"op\":\"get\",\"key\":\"" + k + "\"}]",
                    "Content-Type: application/json"));
            RawHttp.Response r = c.read();
            assertThat(r.status()).as(r.toString()).isEqualTo(200);
            assertThat(r.json().get("results").get(1).path("value").asText()).isEqualTo("r");
        }
    }

    // ---- connections ----

    @Test
    void manyRequestsOverOneKeepAliveConnection() {
        String path = "/kv/" + key("ka");
        try (RawHttp c = new RawHttp(node.port())) {
            for (int i = 0; i < 50; i++) {
                c.send(RawHttp.request("PUT", path, "v" + i));
                RawHttp.Response put = c.read();
                assertThat(put.status()).as(put.toString()).isEqualTo(200);
                assertThat(put.header("Connection")).isNotEqualToIgnoringCase("close");
                c.send(RawHttp.request("GET", path, null));
                assertThat(c.read().text()).isEqualTo("v" + i);
                c.send(RawHttp.request("HEAD", path, null));
                RawHttp.Response head = c.read(true);
                assertThat(head.header("Content-Length")).isEqualTo(Integer.toString(("v" + i).length()));
                c.send(RawHttp.request("GET", "/kv/" + key("ka-missing"), null));
                assertThat(c.read().status()).isEqualTo(404);
            }
        }
    }

    @Test
    void headSendsNoBodyBytes() throws Exception {
        String path = "/kv/" + key("head");
        node.put(path, "0123456789");
        try (RawHttp c = new RawHttp(node.port())) {
            c.send(RawHttp.request("HEAD", path, null));
            RawHttp.Response head = c.read(true);
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("Content-Length")).isEqualTo("10");
            assertThat(c.availableAfter(200)).isZero();
            c.send(RawHttp.request("GET", path, null));
            assertThat(c.read().text()).isEqualTo("0123456789");
        }
    }

    @Test
    void pipelinedRequestsAnswerInOrder() {
        String path = "/kv/" + key("pipe");
        StringBuilder pipeline = new StringBuilder();
        pipeline.append(RawHttp.request("PUT", path, "first"));
        pipeline.append(RawHttp.request("GET", path, null));
        pipeline.append(RawHttp.request("PUT", path, "second"));
        pipeline.append(RawHttp.request("GET", "/nope", null));
        pipeline.append(RawHttp.request("GET", path, null));
        pipeline.append(RawHttp.request("DELETE", path, null));
        pipeline.append(RawHttp.request("GET", path, null));
        try (RawHttp c = new RawHttp(node.port())) {
            c.send(pipeline.toString());
            RawHttp.Response put1 = c.read();
            RawHttp.Response get1 = c.read();
            RawHttp.Response put2 = c.read();
            RawHttp.Response nope = c.read();
            RawHttp.Response get2 = c.read();
            RawHttp.Response del = c.read();
            RawHttp.Response get3 = c.read();
            assertThat(put1.status()).isEqualTo(200);
            assertThat(get1.text()).isEqualTo("first");
            assertThat(get1.header("ETag")).isEqualTo(put1.header("ETag"));
            assertThat(put2.status()).isEqualTo(200);
            assertThat(nope.status()).isEqualTo(404);
            assertThat(get2.text()).isEqualTo("second");
            assertThat(get2.header("ETag")).isEqualTo(put2.header("ETag"));
            assertThat(del.status()).isEqualTo(204);
            assertThat(get3.status()).isEqualTo(404);
        }
    }

    /**
     * A pipelined request that is refused at its head (here a declared body over the limit) must
     * not overtake the answer to the write before it: the client would read 413 as the answer to
     * a PUT that was in fact applied.
     */
    @Test
    void refusedPipelinedRequestDoesNotOvertakeAnEarlierWrite() {
        String applied = "/kv/" + key("pipe-ok");
        String refused = "/kv/" + key("pipe-big");
        try (RawHttp c = new RawHttp(small.port())) {
            c.send(RawHttp.request("PUT", applied, "v")
                    + "PUT " + refused + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + TestTokens.AUTH_LINE + "Content-Length: 5000\r\n\r\n");
            RawHttp.Response first = c.read();
            assertThat(first.status()).as("answer to the first PUT: " + first).isEqualTo(200);
            RawHttp.Response second = c.read();
            assertError(second, 413, "value_too_large");
        }
        assertThat(text(small.get(applied))).isEqualTo("v");
    }

    @Test
    void http10WithoutKeepAliveCloses() {
        try (RawHttp c = new RawHttp(node.port())) {
            c.send("GET /health HTTP/1.0\r\n\r\n");
            RawHttp.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(c.closedByServer(5000)).isTrue();
        }
        try (RawHttp c = new RawHttp(node.port())) {
            c.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + TestTokens.AUTH_LINE + "Connection: close\r\n\r\n");
            RawHttp.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("Connection")).isEqualToIgnoringCase("close");
            assertThat(c.closedByServer(5000)).isTrue();
        }
        try (RawHttp c = new RawHttp(node.port())) {
            c.send("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
            c.send("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
        }
    }

    @Test
    void malformedRequestLineIs400() {
        try (RawHttp c = new RawHttp(node.port())) {
            c.send("GARBAGE\r\n\r\n");
            RawHttp.Response r = c.read();
            assertThat(r.status()).as(r.toString()).isEqualTo(400);
        }
        try (RawHttp c = new RawHttp(node.port())) {
            c.send("PUT /kv/a HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "Content-Length: abc\r\n\r\n");
            RawHttp.Response r = c.read();
            assertError(r, 400, "malformed_request");
        }
        try (RawHttp c = new RawHttp(node.port())) {
            c.send("GET /health HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "X-Big: " + "a".repeat(20_000) + "\r\n\r\n");
            assertError(c.read(), 431, "headers_too_large");
        }
    }

    // ---- operational endpoints ----

    @Test
    void healthAndReady() {
        HttpResponse<byte[]> health = node.get("/health");
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(json(health).path("status").asText()).isEqualTo("ok");
        HttpResponse<byte[]> ready = node.get("/ready");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(json(ready).path("ready").asBoolean()).isTrue();
        assertThat(json(ready).path("storageFailed").asBoolean()).isFalse();
        assertThat(node.head("/health").statusCode()).isEqualTo(200);
        // Kubernetes-style probes: text by default, the same JSON with ?verbose; open like /health.
        HttpResponse<byte[]> livez = node.anonymousGet("/livez");
        assertThat(livez.statusCode()).isEqualTo(200);
        assertThat(text(livez)).isEqualTo("ok\n");
        HttpResponse<byte[]> readyz = node.anonymousGet("/readyz?verbose");
        assertThat(readyz.statusCode()).isEqualTo(200);
        assertThat(json(readyz).path("ready").asBoolean()).isTrue();
        assertError(node.get("/readyz?colour=red"), 400, "invalid_parameter");
    }

    @Test
    void metricsCountRequestsAndExportStorageGauges() {
        node.put("/kv/" + key("m"), "x");
        node.get("/kv/" + key("m-missing"));
        HttpResponse<byte[]> r = node.get("/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
        String m = text(r);
        assertThat(m).contains("cairn_http_request_duration_seconds_count{op=\"put\",status=\"200\"}")
                .contains("cairn_http_request_duration_seconds_count{op=\"get\",status=\"404\"}")
                .contains("cairn_storage_pending_compaction_bytes")
                .contains("cairn_storage_sst_bytes")
                .contains("cairn_write_queue_depth")
                .contains("cairn_ttl_sweep_backlog")
                .contains("cairn_idempotency_records");
        assertThat(node.metric("cairn_http_request_duration_seconds_count{op=\"put\",status=\"200\"}")).isGreaterThanOrEqualTo(1);
        // Conventional names: a build info series, base units, SLO buckets rather than a fine histogram.
        assertThat(m).containsPattern("cairn_build_info\\{java=\"[^\"]+\",version=\"[^\"]+\"\\} 1")
                .contains("cairn_storage_stall_seconds_total").contains("cairn_storage_delayed_write_bytes_per_second")
                .doesNotContain("cairn_storage_stall_micros");
        assertThat(m.lines().filter(l -> l.startsWith("cairn_http_request_duration_seconds_bucket{") && l.contains("op=\"put\",status=\"200\""))
                .count()).isEqualTo(14); // 13 boundaries and +Inf
        // Routes have their own op label: probes, metrics and admin routes are told apart.
        node.get("/admin/status");
        node.get("/ready");
        node.call("FROBNICATE", "/kv/" + key("m"), null);
        String after = text(node.get("/metrics"));
        assertThat(after).contains("op=\"admin_status\"").contains("op=\"ready\"").contains("op=\"metrics\"").doesNotContain("frobnicate");
    }

    @Test
    void adminStatusDescribesTheNode() {
        JsonNode s = small.status();
        assertThat(s.path("nodeId").asInt()).isEqualTo(1);
        assertThat(s.path("uptimeSeconds").isIntegralNumber()).isTrue();
        assertThat(s.path("uptimeSeconds").asLong()).isGreaterThanOrEqualTo(0);
        assertThat(s.path("ready").asBoolean()).isTrue();
        assertThat(s.path("config").path("maxValueBytes").asInt()).isEqualTo(1024);
        assertThat(s.path("config").path("maxBatchOperations").asInt()).isEqualTo(3);
        assertThat(s.path("config").path("maxBatchReadBytes").asLong()).isEqualTo(2048);
        assertThat(s.path("config").path("http").asText()).isEqualTo("127.0.0.1:" + small.port());
        assertThat(s.path("storage").path("engine").asText()).isEqualTo("rocksdb");
        assertThat(s.path("storage").has("pendingCompactionBytes")).isTrue();
        for (String b : new String[] {"writeQueue", "ttlSweep", "idempotencyRecords", "httpConnections"}) {
            assertThat(s.path("backlogs").path(b).isNumber()).as(b).isTrue();
        }
        assertThat(s.path("backlogs").path("httpConnections").asInt()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void errorBodiesAreAlwaysTheOneJsonShape() {
        for (HttpResponse<byte[]> r : Arrays.asList(node.get("/nope"), node.get("/kv/a/b"), node.put("/health", "x"),
                node.put("/kv/x?ttl=abc", "x"), node.batch("{"))) {
            JsonNode body = json(r);
            assertThat(body.path("code").isTextual()).as(describe(r)).isTrue();
            assertThat(body.path("message").isTextual()).as(describe(r)).isTrue();
        }
    }
}
