package io.cairn.server.http;

import static io.cairn.server.http.TestNode.json;
import static io.cairn.server.http.TestNode.text;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bearer tokens on one node: every data and admin route refuses without one, roles limit what a token may do, revocation and rotation take effect. */
class AuthHttpTest {
    @TempDir
    static Path tmp;
    static TestNode node;

    @BeforeAll
    static void start() {
        node = TestNode.start(tmp.resolve("data"), "auth.enabled", "true");
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    private static final List<String[]> GUARDED = List.of(
            new String[] {"GET", "/kv/a"}, new String[] {"HEAD", "/kv/a"}, new String[] {"PUT", "/kv/a"}, new String[] {"DELETE", "/kv/a"},
            new String[] {"POST", "/kv/_batch"}, new String[] {"BATCH", "/kv"}, new String[] {"GET", "/admin/status"},
            new String[] {"GET", "/admin/cluster"}, new String[] {"GET", "/admin/faults"}, new String[] {"POST", "/admin/faults?block=2"},
            new String[] {"GET", "/admin/auth/tokens"}, new String[] {"POST", "/admin/auth/tokens"}, new String[] {"GET", "/admin/auth/whoami"},
            new String[] {"DELETE", "/admin/auth/tokens/0123456789abcdef"}, new String[] {"GET", "/metrics"}, new String[] {"GET", "/nowhere"});

    @Test
    void everyDataAndAdminRouteRefusesWithoutAValidTokenAndChangesNothing() throws Exception {
        assertThat(node.put("/kv/a", "kept").statusCode()).isEqualTo(200);
        String[] badHeaders = {null, "Bearer nonsense", "Basic YWRtaW46YWRtaW4=", "Bearer " + TestTokens.ADMIN.text().replace("cairn_", "cairn-"),
                "Bearer cairn_0123456789abcdef_" + "A".repeat(43)};
        for (String[] route : GUARDED) {
            for (String auth : badHeaders) {
                HttpRequest.Builder b = node.anonymous(route[1]).method(route[0], route[0].equals("PUT") || route[0].equals("POST") || route[0].equals("BATCH")
                        ? HttpRequest.BodyPublishers.ofString("{\"operations\":[{\"op\":\"put\",\"key\":\"a\",\"value\":\"changed\"}]}")
                        : HttpRequest.BodyPublishers.noBody());
                if (auth != null) {
                    b.header("Authorization", auth);
                }
                HttpResponse<byte[]> r = node.send(b);
                assertThat(r.statusCode()).as("%s %s with %s", route[0], route[1], auth).isEqualTo(401);
                assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"cairn\"");
                if (!route[0].equals("HEAD")) {
                    assertThat(json(r).path("code").asText()).isEqualTo("unauthenticated");
                }
            }
        }
        assertThat(text(node.get("/kv/a"))).isEqualTo("kept");
        assertThat(node.anonymous("/health").build()).isNotNull();
        assertThat(node.send(node.anonymous("/health")).statusCode()).isEqualTo(200);
        assertThat(node.send(node.anonymous("/ready")).statusCode()).isEqualTo(200);
        String metrics = text(node.get("/metrics"));
        assertThat(metrics).contains("cairn_auth_refusals_total{reason=\"missing\",route=\"data\",status=\"401\"}")
                .contains("reason=\"unknown\"").contains("reason=\"malformed\"");
        node.awaitAudit("\"event\":\"auth.refused\",\"outcome\":\"missing\"");
    }

    @Test
    void aRequestWithABodyAndNoCredentialIsRefusedBeforeItsBodyIsRead() {
        try (RawHttp raw = new RawHttp(node.port())) {
            // Announces 10 MB and sends none of it: the refusal must not wait for the body.
            raw.send("PUT /kv/big HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10000000\r\nAuthorization: Bearer x\r\n\r\n");
            RawHttp.Response r = raw.read(false);
            assertThat(r.status()).isEqualTo(401);
            assertThat(r.header("connection")).isEqualTo("close");
        }
    }

    @Test
    void aRequestWithABodyAndATokenThatTurnsOutUnknownOrTooWeakIsRefusedWithoutWaitingForItsBody() {
        String reader = create("body-reader", "[\"read:default\"]", null).path("token").asText();
        String unknown = "cairn_ffffffffffffffff_" + "A".repeat(43);
        for (String[] c : new String[][] {{unknown, "401"}, {reader, "403"}, {unknown, "401"}}) {
            try (RawHttp raw = new RawHttp(node.port())) {
                // Announces 10 MB and sends none of it, with a well-formed token: the refusal comes
                // once the token is looked up (or from the cache), not after the body or its timeout.
                raw.send("PUT /kv/big HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10000000\r\nExpect: 100-continue\r\n"
                        + "Authorization: Bearer " + c[0] + "\r\n\r\n");
                RawHttp.Response r = raw.read(false);
                assertThat(r.status()).as(c[0]).isEqualTo(Integer.parseInt(c[1]));
                assertThat(r.header("connection")).isEqualTo("close");
            }
        }
        assertThat(node.get("/kv/big").statusCode()).isEqualTo(404);
    }

    @Test
    void twoCredentialsAreNoneAndOddMethodsOnTokenRoutesAreRefused() {
        try (RawHttp raw = new RawHttp(node.port())) {
            raw.send("GET /kv/a HTTP/1.1\r\nHost: 127.0.0.1\r\n" + TestTokens.AUTH_LINE + "Authorization: Bearer other\r\n\r\n");
            RawHttp.Response r = raw.read(false);
            assertThat(r.status()).isEqualTo(401);
            assertThat(r.text()).contains("given more than once");
        }
        assertThat(node.call("ELETE", "/admin/auth/tokens/0123456789abcdef", null).statusCode()).isEqualTo(405);
        assertThat(node.call("GE", "/admin/auth/whoami", null).statusCode()).isEqualTo(405);
        assertThat(node.call("PUT", "/admin/auth/tokens", new byte[0]).statusCode()).isEqualTo(405);
    }

    @Test
    void rolesLimitWhatATokenMayDo() throws Exception {
        String reader = create("dashboard", "[\"read:default\"]", null).path("token").asText();
        String writer = create("checkout", "[\"write:default\"]", null).path("token").asText();
        String metrics = create("prometheus", "[\"metrics\"]", null).path("token").asText();
        assertThat(node.put("/kv/r", "v", "Authorization", "Bearer " + writer).statusCode()).isEqualTo(200);
        assertThat(text(node.get("/kv/r", "Authorization", "Bearer " + reader))).isEqualTo("v");
        HttpResponse<byte[]> denied = node.put("/kv/r", "w", "Authorization", "Bearer " + reader);
        assertThat(denied.statusCode()).isEqualTo(403);
        assertThat(json(denied).path("code").asText()).isEqualTo("forbidden");
        assertThat(json(denied).path("message").asText()).contains("write on namespace default");
        assertThat(node.delete("/kv/r", "Authorization", "Bearer " + reader).statusCode()).isEqualTo(403);
        assertThat(node.call("POST", "/kv/_batch", "{\"operations\":[{\"op\":\"get\",\"key\":\"r\"}]}".getBytes(StandardCharsets.UTF_8),
                "Authorization", "Bearer " + reader, "Content-Type", "application/json").statusCode()).as("a batch of reads needs read only").isEqualTo(200);
        assertThat(node.call("POST", "/kv/_batch", "{\"operations\":[{\"op\":\"get\",\"key\":\"r\"},{\"op\":\"delete\",\"key\":\"r\"}]}".getBytes(StandardCharsets.UTF_8),
                "Authorization", "Bearer " + reader, "Content-Type", "application/json").statusCode()).isEqualTo(403);
        assertThat(text(node.get("/kv/r"))).isEqualTo("v");
        assertThat(node.get("/admin/status", "Authorization", "Bearer " + writer).statusCode()).isEqualTo(403);
        assertThat(node.get("/admin/auth/tokens", "Authorization", "Bearer " + writer).statusCode()).isEqualTo(403);
        assertThat(node.get("/metrics", "Authorization", "Bearer " + writer).statusCode()).isEqualTo(403);
        assertThat(node.get("/metrics", "Authorization", "Bearer " + metrics).statusCode()).isEqualTo(200);
        assertThat(node.get("/kv/r", "Authorization", "Bearer " + metrics).statusCode()).isEqualTo(403);
        JsonNode me = json(node.get("/admin/auth/whoami", "Authorization", "Bearer " + reader));
        assertThat(me.path("name").asText()).isEqualTo("dashboard");
        assertThat(me.path("roles").toString()).isEqualTo("[\"read:default\"]");
        assertThat(text(node.get("/metrics"))).contains("cairn_auth_refusals_total{reason=\"forbidden\",route=\"data\",status=\"403\"}");
    }

    @Test
    void revokedRotatedAndExpiredTokensStopWorking() throws Exception {
        JsonNode made = create("batch-job", "[\"write:default\"]", "2s");
        String token = made.path("token").asText();
        String id = made.path("id").asText();
        assertThat(made.path("state").asText()).isEqualTo("active");
        assertThat(node.put("/kv/j", "1", "Authorization", "Bearer " + token).statusCode()).isEqualTo(200);
        Thread.sleep(2_100);
        HttpResponse<byte[]> expired = node.put("/kv/j", "2", "Authorization", "Bearer " + token);
        assertThat(expired.statusCode()).isEqualTo(401);
        assertThat(json(expired).path("message").asText()).contains("expired");

        JsonNode second = create("worker", "[\"write:default\"]", "1h");
        String old = second.path("token").asText();
        HttpResponse<byte[]> rotated = node.call("POST", "/admin/auth/tokens/" + second.path("id").asText() + "/rotate?grace=1h", new byte[0]);
        assertThat(rotated.statusCode()).as(TestNode.describe(rotated)).isEqualTo(201);
        String fresh = json(rotated).path("token").asText();
        assertThat(json(rotated).path("name").asText()).isEqualTo("worker");
        assertThat(node.put("/kv/w", "1", "Authorization", "Bearer " + old).statusCode()).as("within its grace").isEqualTo(200);
        assertThat(node.put("/kv/w", "2", "Authorization", "Bearer " + fresh).statusCode()).isEqualTo(200);
        // Rotated once: a second rotation would leave two successors live.
        HttpResponse<byte[]> again = node.call("POST", "/admin/auth/tokens/" + second.path("id").asText() + "/rotate?grace=0", new byte[0]);
        assertThat(again.statusCode()).as(TestNode.describe(again)).isEqualTo(400);
        assertThat(json(again).path("message").asText()).contains("already rotated");
        // A grace past the token's own expiry does not lengthen its life.
        JsonNode brief = create("brief", "[\"read:default\"]", "1m");
        JsonNode briefRotated = json(node.call("POST", "/admin/auth/tokens/" + brief.path("id").asText() + "/rotate?grace=10m", new byte[0]));
        assertThat(java.time.Instant.parse(briefRotated.path("replacedEndsAt").asText()))
                .isBeforeOrEqualTo(java.time.Instant.parse(brief.path("expiresAt").asText()));
        // ttl: null is as if absent, as in every other body.
        HttpResponse<byte[]> nullTtl = node.call("POST", "/admin/auth/tokens",
                "{\"name\":\"n\",\"roles\":[\"read:default\"],\"ttl\":null}".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                "Content-Type", "application/json");
        assertThat(nullTtl.statusCode()).as(TestNode.describe(nullTtl)).isEqualTo(201);
        HttpResponse<byte[]> form = node.call("POST", "/admin/auth/tokens",
                "{\"name\":\"f\",\"roles\":[\"read:default\"]}".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                "Content-Type", "application/x-www-form-urlencoded");
        assertThat(form.statusCode()).as(TestNode.describe(form)).isEqualTo(415);
        assertThat(json(form).path("message").asText()).contains("a token request must be JSON");

        HttpResponse<byte[]> revoked = node.delete("/admin/auth/tokens/" + second.path("id").asText());
        assertThat(revoked.statusCode()).isEqualTo(200);
        assertThat(json(revoked).path("state").asText()).isEqualTo("revoked");
        HttpResponse<byte[]> refused = node.put("/kv/w", "3", "Authorization", "Bearer " + old);
        assertThat(refused.statusCode()).as("revoked on this node: at once").isEqualTo(401);
        assertThat(json(refused).path("message").asText()).contains("revoked");
        assertThat(node.put("/kv/w", "4", "Authorization", "Bearer " + fresh).statusCode()).isEqualTo(200);

        JsonNode listed = json(node.get("/admin/auth/tokens"));
        assertThat(listed.path("tokens").toString()).contains(id).contains("\"state\":\"revoked\"").doesNotContain(old.substring(23));
        assertThat(node.get("/admin/auth/tokens/" + id).statusCode()).isEqualTo(200);
        assertThat(node.get("/admin/auth/tokens/ffffffffffffffff").statusCode()).isEqualTo(404);
        assertThat(node.get("/admin/auth/tokens/nope").statusCode()).isEqualTo(400);
        node.awaitAudit("\"event\":\"auth.token.revoked\"");
    }

    @Test
    void badTokenRequestsAreRefusedWithTheirReason() {
        assertThat(createRaw("{\"name\":\"x\",\"roles\":[\"superuser\"]}").statusCode()).isEqualTo(400);
        assertThat(createRaw("{\"name\":\"x\",\"roles\":[]}").statusCode()).isEqualTo(400);
        assertThat(createRaw("{\"name\":\"\",\"roles\":[\"metrics\"]}").statusCode()).isEqualTo(400);
        assertThat(createRaw("{\"name\":\"x\",\"roles\":[\"metrics\"],\"ttl\":\"99999d\"}").statusCode()).isEqualTo(400);
        assertThat(createRaw("{\"name\":\"x\",\"roles\":[\"metrics\"],\"admin\":true}").statusCode()).isEqualTo(400);
        assertThat(createRaw("not json").statusCode()).isEqualTo(400);
        // A lifetime under a second (one under a millisecond used to end before it began: a 500) is refused.
        for (String ttl : new String[] {"0.5ms", "PT0.0001S", "999ms"}) {
            HttpResponse<byte[]> r = createRaw("{\"name\":\"x\",\"roles\":[\"metrics\"],\"ttl\":\"" + ttl + "\"}");
            assertThat(r.statusCode()).as(ttl + ": " + TestNode.describe(r)).isEqualTo(400);
            assertThat(json(r).path("message").asText()).contains("at least 1s");
        }
        String rotatable = create("rotatable", "[\"metrics\"]", "1h").path("id").asText();
        HttpResponse<byte[]> shortGrace = node.call("POST", "/admin/auth/tokens/" + rotatable + "/rotate?grace=0.5ms", new byte[0]);
        assertThat(shortGrace.statusCode()).as(TestNode.describe(shortGrace)).isEqualTo(400);
        assertThat(json(shortGrace).path("message").asText()).contains("grace must be 0");
        assertThat(json(createRaw("{\"name\":\"x\",\"roles\":[\"read:Bad\"]}")).path("message").asText()).contains("not a role");
        assertThat(node.call("POST", "/admin/auth/tokens/" + TestTokens.ADMIN.id() + "/rotate", new byte[0]).statusCode())
                .as("the node's own credential is rotated by file, not here").isEqualTo(400);
    }

    private static HttpResponse<byte[]> createRaw(String body) {
        return node.call("POST", "/admin/auth/tokens", body.getBytes(StandardCharsets.UTF_8), "Content-Type", "application/json");
    }

    @Test
    void aTokenTtlIsADurationOrAWholeNumberOfSeconds() {
        assertThat(createRaw("{\"name\":\"secs\",\"roles\":[\"metrics\"],\"ttl\":86400}").statusCode()).isEqualTo(201);
        assertThat(createRaw("{\"name\":\"frac\",\"roles\":[\"metrics\"],\"ttl\":1.5}").statusCode()).isEqualTo(400);
        assertThat(createRaw("{\"name\":\"neg\",\"roles\":[\"metrics\"],\"ttl\":-5}").statusCode()).isEqualTo(400);
    }

    static JsonNode create(String name, String roles, String ttl) {
        HttpResponse<byte[]> r = createRaw("{\"name\":\"" + name + "\",\"roles\":" + roles + (ttl == null ? "" : ",\"ttl\":\"" + ttl + "\"") + "}");
        assertThat(r.statusCode()).as(TestNode.describe(r)).isEqualTo(201);
        return json(r);
    }
}
