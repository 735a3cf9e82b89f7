package io.cairn.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Strict HTTP/1.1 framing through the real server, over raw sockets: every framing or syntax
 * error is a 400 (505 for an unknown version, 501 for an unknown transfer coding) that closes the
 * connection and applies nothing — in particular no prefix of a body is ever stored.
 */
class HttpFramingTest {
    @TempDir
    static Path dir;
    private static TestNode node;
    private static int counter;

    @BeforeAll
    static void start() {
        node = TestNode.start(dir.resolve("n"));
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    private static String key(String name) {
        return "framing-" + name + "-" + counter++;
    }

    /** Sends raw bytes, expects a refusal with {@code status} and {@code code}, then EOF. */
    private static RawHttp.Response refused(String raw, int status, String code) {
        try (RawHttp c = new RawHttp(node.port())) {
            c.send(raw);
            RawHttp.Response r = c.read();
            assertThat(r.status()).as(r.toString()).isEqualTo(status);
            assertThat(r.json().path("code").asText()).as(r.toString()).isEqualTo(code);
            assertThat(r.header("Connection")).isEqualToIgnoringCase("close");
            assertThat(c.closedByServer(5000)).as("connection closed after " + r).isTrue();
            return r;
        }
    }

    private static void absent(String key) {
        assertThat(node.get("/kv/" + key).statusCode()).as("nothing stored under " + key).isEqualTo(404);
    }

    private static String chunkedPut(String key, String chunks) {
        return "PUT /kv/" + key + " HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "Transfer-Encoding: chunked\r\n\r\n" + chunks;
    }

    @Test
    void invalidChunkSizeStoresNothing() {
        String k = key("zz");
        refused(chunkedPut(k, "5\r\nhello\r\nzz\r\nworld\r\n0\r\n\r\n"), 400, "malformed_request");
        absent(k);
    }

    @Test
    void overflowingChunkSizeStoresNothing() {
        String k = key("overflow");
        refused(chunkedPut(k, "5\r\nhello\r\nFFFFFFFFFFFFFFFFFFFF\r\nx\r\n0\r\n\r\n"), 400, "malformed_request");
        absent(k);
        String k2 = key("negative");
        refused(chunkedPut(k2, "-5\r\nhello\r\n0\r\n\r\n"), 400, "malformed_request");
        absent(k2);
    }

    @Test
    void chunkWithoutItsTerminatorStoresNothing() {
        String k = key("terminator");
        refused(chunkedPut(k, "5\r\nhelloXX3\r\nabc\r\n0\r\n\r\n"), 400, "malformed_request");
        absent(k);
    }

    @Test
    void chunkSizeWithSpacesOrGarbageAfterItIsRefused() {
        String k = key("space");
        refused(chunkedPut(k, " 5\r\nhello\r\n0\r\n\r\n"), 400, "malformed_request");
        refused(chunkedPut(k, "5 x\r\nhello\r\n0\r\n\r\n"), 400, "malformed_request");
        absent(k);
        // A chunk extension is legal and ignored.
        try (RawHttp c = new RawHttp(node.port())) {
            c.send(chunkedPut(k, "5;name=value\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n"));
            assertThat(c.read().status()).isEqualTo(200);
        }
        assertThat(TestNode.text(node.get("/kv/" + k))).isEqualTo("hello");
    }

    @Test
    void bodyCutShortByTheClientStoresNothing() throws Exception {
        String fixed = key("short-fixed");
        try (RawHttp c = new RawHttp(node.port())) {
            c.send("PUT /kv/" + fixed + " HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "Content-Length: 10\r\n\r\nhello");
        }
        String chunked = key("short-chunked");
        try (RawHttp c = new RawHttp(node.port())) {
            c.send(chunkedPut(chunked, "5\r\nhello\r\n"));
        }
        Thread.sleep(200);
        absent(fixed);
        absent(chunked);
    }

    @Test
    void bodyLongerThanItsContentLengthIsNotAnotherRequest() {
        String k = key("long");
        try (RawHttp c = new RawHttp(node.port())) {
            c.send("PUT /kv/" + k + " HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "Content-Length: 5\r\n\r\nhello GARBAGE\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
            RawHttp.Response second = c.read();
            assertThat(second.status()).as(second.toString()).isEqualTo(400);
            assertThat(c.closedByServer(5000)).isTrue();
        }
        assertThat(TestNode.text(node.get("/kv/" + k))).isEqualTo("hello");
    }

    @Test
    void aFragmentInTheTargetIsRefusedRatherThanCutOff() {
        String k = key("order");
        RawHttp.Response r = refused("PUT /kv/" + k + "#42 HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "Content-Length: 3\r\n\r\nabc",
                400, "malformed_request");
        assertThat(r.json().path("message").asText()).contains("%23");
        absent(k);
        refused("PUT /admin/namespaces/foo#bar HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "Content-Length: 2\r\n\r\n{}",
                400, "malformed_request");
        assertThat(node.get("/admin/namespaces/foo").statusCode()).isEqualTo(404);
    }

    @Test
    void theAbsoluteFormOfATargetIsAccepted() {
        String k = key("absolute");
        try (RawHttp c = new RawHttp(node.port())) {
            c.send("PUT http://127.0.0.1:" + node.port() + "/kv/" + k + "?ttl=1h HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE
                    + "Content-Length: 5\r\n\r\nhello");
            assertThat(c.read().status()).isEqualTo(200);
            c.send("GET HTTP://localhost/kv/" + k + " HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "\r\n");
            RawHttp.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.text()).isEqualTo("hello");
            assertThat(r.header("Cairn-Expires-At")).isNotNull();
        }
        refused("GET ftp://127.0.0.1/kv/" + k + " HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "\r\n", 400, "malformed_request");
        refused("GET http:///kv/" + k + " HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "\r\n", 400, "malformed_request");
    }

    @Test
    void ambiguousFramingIsRefused() {
        String k = key("ambiguous");
        refused("PUT /kv/" + k + " HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                400, "malformed_request");
        refused("PUT /kv/" + k + " HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400, "malformed_request");
        refused("PUT /kv/" + k + " HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "Content-Length: 5, 5\r\n\r\nhello", 400, "malformed_request");
        refused("PUT /kv/" + k + " HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "Content-Length: +5\r\n\r\nhello", 400, "malformed_request");
        refused("PUT /kv/" + k + " HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                501, "unsupported_transfer_encoding");
        refused("PUT /kv/" + k + " HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400, "malformed_request");
        refused("PUT /kv/" + k + " HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5\r\nhello\r\n0\r\n\r\n", 400, "malformed_request");
        absent(k);
    }

    @Test
    void onlyHttp10And11AreServed() {
        refused("GET /health HTTP/9.9\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "\r\n", 505, "http_version_not_supported");
        refused("GET /health HTTP/2.0\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "\r\n", 505, "http_version_not_supported");
        refused("GET /health HTTP/1.1x\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "\r\n", 400, "malformed_request");
        refused("GET /health http/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "\r\n", 400, "malformed_request");
        refused("GET  /health HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "\r\n", 400, "malformed_request");
    }

    @Test
    void obsoleteLineFoldingIsRefused() {
        String k = key("fold");
        RawHttp.Response r = refused("PUT /kv/" + k + " HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "Cairn-TTL: 1\r\n h\r\nContent-Length: 1\r\n\r\nv", 400, "malformed_request");
        assertThat(r.json().path("message").asText()).contains("folding");
        absent(k);
    }

    @Test
    void lineEndingsAndHeaderSyntaxAreStrict() {
        refused("GET /health HTTP/1.1\nHost: x\n\n", 400, "malformed_request");
        refused("GET /health HTTP/1.1\r\nHost: x\rX: y\r\n\r\n", 400, "malformed_request");
        refused("GET /health HTTP/1.1\r\nHost : x\r\n\r\n", 400, "malformed_request");
        refused("GET /health HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "No-Colon\r\n\r\n", 400, "malformed_request");
        refused("GET /health HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "X: a\u0001b\r\n\r\n", 400, "malformed_request");
        refused("GET /health HTTP/1.1\r\n\r\n", 400, "malformed_request");
        refused("GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "malformed_request");
    }

    @Test
    void emptyLinesBeforeARequestAreSkipped() {
        try (RawHttp c = new RawHttp(node.port())) {
            c.send("\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n" + TestTokens.AUTH_LINE + "\r\n");
            assertThat(c.read().status()).isEqualTo(200);
        }
    }

    @Test
    void malformedRequestsAreCounted() {
        double before = node.metric("cairn_http_malformed_total");
        refused("GET /health HTTP/1.1\nHost: x\n\n", 400, "malformed_request");
        assertThat(node.metric("cairn_http_malformed_total")).isEqualTo((Double.isNaN(before) ? 0 : before) + 1);
    }

    @Test
    void requestsAfterAMalformedOneOnTheSameConnectionAreNeverRead() {
        String k = key("after");
        try (RawHttp c = new RawHttp(node.port())) {
            c.send("GET /health HTTP/1.1\r\nHost : x\r\n\r\n" + RawHttp.request("PUT", "/kv/" + k, "v"));
            assertThat(c.read().status()).isEqualTo(400);
            assertThat(c.closedByServer(5000)).isTrue();
        }
        absent(k);
    }

    @Test
    void batchJsonIsStrict() {
        String k = key("batch");
        String dup = "{\"operations\":[{\"op\":\"put\",\"key\":\"" + k + "\",\"value\":\"a\",\"value\":\"b\"}]}";
        assertError(node.batch(dup), 400, "malformed_batch");
        String dupTop = "{\"operations\":[],\"operations\":[{\"op\":\"put\",\"key\":\"" + k + "\",\"value\":\"a\"}]}";
        assertError(node.batch(dupTop), 400, "malformed_batch");
        String trailing = "{\"operations\":[{\"op\":\"put\",\"key\":\"" + k + "\",\"value\":\"a\"}]} garbage";
        assertError(node.batch(trailing), 400, "malformed_batch");
        String second = "{\"operations\":[{\"op\":\"put\",\"key\":\"" + k + "\",\"value\":\"a\"}]}{}";
        assertError(node.batch(second), 400, "malformed_batch");
        String ok = "{\"operations\":[{\"op\":\"put\",\"key\":\"" + k + "\",\"value\":\"a\"}]}";
        assertError(node.batch(ok, "Content-Type", "application/x-www-form-urlencoded"), 415, "unsupported_media_type");
        assertError(node.batch(ok, "Content-Type", "text/plain"), 415, "unsupported_media_type");
        assertError(node.batch(ok, "Content-Type", "application/json; charset=latin1"), 415, "unsupported_media_type");
        absent(k);
        assertThat(node.batch(ok, "Content-Type", "application/json; charset=UTF-8").statusCode()).isEqualTo(200);
        assertThat(node.batch(ok).statusCode()).as("no Content-Type at all is taken as JSON").isEqualTo(200);
    }

    @Test
    void unquotedEntityTagsAreMalformed() {
        String k = key("etag");
        node.put("/kv/" + k, "v");
        String raw = TestNode.etag(node.get("/kv/" + k));
        String unquoted = raw.substring(1, raw.length() - 1);
        assertError(node.put("/kv/" + k, "w", "If-Match", unquoted), 400, "invalid_header");
        assertError(node.delete("/kv/" + k, "If-Match", unquoted), 400, "invalid_header");
        assertError(node.get("/kv/" + k, "If-None-Match", unquoted), 400, "invalid_header");
        assertThat(TestNode.text(node.get("/kv/" + k))).isEqualTo("v");
        assertThat(node.put("/kv/" + k, "w", "If-Match", raw).statusCode()).isEqualTo(200);
    }

    private static void assertError(java.net.http.HttpResponse<byte[]> r, int status, String code) {
        assertThat(r.statusCode()).as(TestNode.describe(r)).isEqualTo(status);
        assertThat(TestNode.json(r).path("code").asText()).as(TestNode.describe(r)).isEqualTo(code);
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).contains("\"message\"");
    }
}
