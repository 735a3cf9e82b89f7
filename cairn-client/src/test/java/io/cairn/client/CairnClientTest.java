package io.cairn.client;

import static io.cairn.client.FakeNode.answer;
import static io.cairn.client.FakeNode.drop;
import static io.cairn.client.FakeNode.error;
import static io.cairn.client.FakeNode.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The client against scripted nodes: what it sends (paths, conditions, idempotency keys, causal
 * tokens), which answers it retries and where, and what the caller gets when retries run out.
 */
class CairnClientTest {
    private static final String ETAG = "\"00000190a0b0c0d0-1\"";
    private static final String ETAG2 = "\"00000190a0b0c0d1-1\"";
    private static final RetryPolicy FAST = RetryPolicy.builder()
            .initialBackoff(Duration.ofMillis(1)).maxBackoff(Duration.ofMillis(5)).maxAttempts(4).build();

    private final List<AutoCloseable> open = new CopyOnWriteArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
    }

    private FakeNode node(FakeNode.Answer... answers) throws IOException {
        FakeNode n = new FakeNode(answers);
        open.add(n);
        return n;
    }

    private CairnClient client(CairnClient.Builder b) {
        CairnClient c = b.build();
        open.add(c);
        return c;
    }

    private CairnClient client(FakeNode node) {
        return client(CairnClient.builder().endpoint(node.url()).token("t0k3n").retryPolicy(FAST));
    }

    /** A loopback port nothing listens on: connecting to it is refused. */
    private static String deadEndpoint() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return "127.0.0.1:" + s.getLocalPort();
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void sendsKeysAsOnePathSegmentWithTheTokenAndReadsTheAnswer() throws IOException {
        FakeNode node = node(answer(200, "v", "ETag", ETAG, "Content-Type", "text/plain", "Cairn-Expires-At", "2030-01-01T00:00:00Z"));
        CairnClient cairn = client(node);
        Value v = cairn.get("a/b c", ReadOptions.defaults().r(Quorum.ONE)).orElseThrow();
        assertThat(v.asString()).isEqualTo("v");
        assertThat(v.etag()).isEqualTo(ETAG);
        assertThat(v.contentType()).isEqualTo("text/plain");
        assertThat(v.expiresAt()).contains(java.time.Instant.parse("2030-01-01T00:00:00Z"));
        cairn.namespace("sessions").get("x", ReadOptions.defaults().serial());
        assertThat(node.received).extracting(FakeNode.Received::target).containsExactly("/kv/a%2Fb%20c?r=one", "/ns/sessions/kv/x?consistency=serial");
        assertThat(node.received.get(0).header("Authorization")).isEqualTo("Bearer t0k3n");
        assertThat(node.received.get(0).header("Idempotency-Key")).as("reads need none").isNull();
    }

    @Test
    void aMissingKeyIsEmptyButAMissingNamespaceIsAnError() throws IOException {
        FakeNode node = node(error(404, "key_not_found"), error(404, "namespace_not_found"));
        CairnClient cairn = client(node);
        assertThat(cairn.get("k")).isEmpty();
        assertThatThrownBy(() -> cairn.namespace("nope").get("k")).isInstanceOf(InvalidRequestException.class)
                .extracting(e -> ((CairnException) e).code()).isEqualTo("namespace_not_found");
    }

    @Test
    void writesCarryConditionsTtlContentTypeAndQuorum() throws IOException {
        FakeNode node = node(ok("ETag", ETAG, "Cairn-Expires-At", "2030-01-01T00:00:00Z"), answer(204, "", "ETag", ETAG2));
        CairnClient cairn = client(node);
        WriteResult put = cairn.put("k", bytes("v"), WriteOptions.defaults().ifMatch(ETAG).ttl(Duration.ofSeconds(90)).contentType("text/plain")
                .w(Quorum.ALL));
        assertThat(put.etag()).isEqualTo(ETAG);
        assertThat(put.expiresAt()).isPresent();
        assertThat(put.replayed()).isFalse();
        cairn.delete("k", WriteOptions.defaults().ifExists());
        FakeNode.Received p = node.received.get(0);
        assertThat(p.method()).isEqualTo("PUT");
        assertThat(p.target()).isEqualTo("/kv/k?w=all");
        assertThat(p.header("If-Match")).isEqualTo(ETAG);
        assertThat(p.header("Cairn-TTL")).isEqualTo("90000ms");
        assertThat(p.header("Content-Type")).isEqualTo("text/plain");
        assertThat(p.text()).isEqualTo("v");
        FakeNode.Received d = node.received.get(1);
        assertThat(d.method()).isEqualTo("DELETE");
        assertThat(d.header("If-Match")).isEqualTo("*");
        cairn.put("new", bytes("v"), WriteOptions.defaults().ifAbsent().noExpiry());
        assertThat(node.received.get(2).header("If-None-Match")).isEqualTo("*");
        assertThat(node.received.get(2).header("Cairn-TTL")).isEqualTo("none");
        assertThatThrownBy(() -> cairn.delete("k", WriteOptions.defaults().ifAbsent())).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aRetriedWriteKeepsItsIdempotencyKeyAndAReplayIsASuccess() throws IOException {
        FakeNode node = node(error(504, "outcome_unknown"), error(409, "idempotency_in_flight"),
                ok("ETag", ETAG, "Idempotent-Replayed", "true"));
        CairnClient cairn = client(node);
        WriteResult put = cairn.put("k", bytes("v"));
        assertThat(put.replayed()).isTrue();
        assertThat(put.attempts()).isEqualTo(3);
        List<String> keys = node.received.stream().map(r -> r.header("Idempotency-Key")).toList();
        assertThat(keys).hasSize(3).doesNotContainNull().containsOnly(keys.get(0));
        assertThat(put.idempotencyKey()).contains(keys.get(0));
        assertThat(node.received).extracting(FakeNode.Received::text).containsOnly("v");

        cairn.put("k2", bytes("v"));
        assertThat(node.received.get(3).header("Idempotency-Key")).as("each write has its own key").isNotEqualTo(keys.get(0));
    }

    @Test
    void aWriteFailsOverAfterALostConnectionWithTheSameKey() throws IOException {
        FakeNode a = node(drop());
        FakeNode b = node(ok("ETag", ETAG));
        CairnClient cairn = client(CairnClient.builder().endpoints(a.url(), b.url()).endpointSelection(EndpointSelection.PREFERRED_FIRST)
                .retryPolicy(FAST));
        WriteResult put = cairn.put("k", bytes("v"));
        assertThat(put.endpoint()).isEqualTo(URI.create(b.url()));
        assertThat(a.received).hasSize(1);
        assertThat(b.received).hasSize(1);
        assertThat(b.received.get(0).header("Idempotency-Key")).isNotNull().isEqualTo(a.received.get(0).header("Idempotency-Key"));
    }

    @Test
    void aTimedOutWriteIsRetriedWithTheSameKey() throws IOException {
        FakeNode node = node(ok("ETag", ETAG).after(600), ok("ETag", ETAG, "Idempotent-Replayed", "true"));
        CairnClient cairn = client(CairnClient.builder().endpoint(node.url()).retryPolicy(FAST).requestTimeout(Duration.ofMillis(200)));
        WriteResult put = cairn.put("k", bytes("v"));
        assertThat(put.replayed()).isTrue();
        assertThat(node.received).hasSize(2);
        assertThat(node.received.get(1).header("Idempotency-Key")).isEqualTo(node.received.get(0).header("Idempotency-Key"));
    }

    @Test
    void aWriteIsNeverRetriedWithoutAnIdempotencyKey() throws IOException {
        FakeNode node = node(drop(), ok("ETag", ETAG));
        CairnClient cairn = client(CairnClient.builder().endpoint(node.url())
                .retryPolicy(RetryPolicy.builder().retryWrites(false).initialBackoff(Duration.ofMillis(1)).build()));
        assertThatThrownBy(() -> cairn.put("k", bytes("v"))).isInstanceOf(OutcomeUnknownException.class)
                .satisfies(e -> assertThat(((OutcomeUnknownException) e).idempotencyKey()).isEmpty());
        assertThat(node.received).hasSize(1);
        assertThat(node.received.get(0).header("Idempotency-Key")).isNull();

        node.then(error(503, "overloaded"), ok("ETag", ETAG));
        assertThatThrownBy(() -> cairn.delete("k")).isInstanceOf(UnavailableException.class);
        assertThat(node.received).hasSize(2);
        assertThat(cairn.get("k")).as("reads are still retried").isPresent();

        node.then(answer(504, "<html>gateway timeout</html>"));
        assertThatThrownBy(() -> cairn.put("k", bytes("v"))).as("a proxy's 504 may come after the write ran")
                .isInstanceOf(OutcomeUnknownException.class);
        assertThat(node.received).hasSize(4);
    }

    @Test
    void aWriteWhoseOutcomeStaysUnknownIsNeverReportedAsFailed() throws IOException {
        FakeNode node = node(error(504, "outcome_unknown"));
        CairnClient cairn = client(node);
        assertThatThrownBy(() -> cairn.put("k", bytes("v"))).isInstanceOf(OutcomeUnknownException.class).satisfies(e -> {
            OutcomeUnknownException u = (OutcomeUnknownException) e;
            assertThat(u.idempotencyKey()).contains(node.received.get(0).header("Idempotency-Key"));
            assertThat(u.status()).isEqualTo(504);
            assertThat(u.getMessage()).contains(u.idempotencyKey().orElseThrow());
        });
        assertThat(node.received).hasSize(FAST.maxAttempts());

        // A lost answer and then a 503 that changed nothing: the first attempt may still have been applied.
        FakeNode other = node(drop(), error(503, "quorum_unavailable"));
        CairnClient c2 = client(CairnClient.builder().endpoint(other.url())
                .retryPolicy(RetryPolicy.builder().initialBackoff(Duration.ofMillis(1)).maxBackoff(Duration.ofMillis(5)).maxAttempts(2).build()));
        assertThatThrownBy(() -> c2.put("k", bytes("v"))).isInstanceOf(OutcomeUnknownException.class).cause()
                .isInstanceOf(UnavailableException.class);
    }

    @Test
    void aFailedConditionAfterAnAmbiguousAttemptMayBeTheWritesOwnEffect() throws IOException {
        String failed = "{\"code\":\"precondition_failed\",\"message\":\"m\",\"currentEtag\":\"" + ETAG2.replace("\"", "\\\"") + "\"}";
        FakeNode node = node(answer(412, failed, "ETag", ETAG2));
        CairnClient cairn = client(node);
        assertThatThrownBy(() -> cairn.put("k", bytes("v"), WriteOptions.defaults().ifMatch(ETAG))).isInstanceOf(PreconditionFailedException.class)
                .satisfies(e -> assertThat(((PreconditionFailedException) e).currentEtag()).contains(ETAG2));
        assertThat(node.received).as("a failed condition is not retried").hasSize(1);

        node.then(drop(), answer(412, failed));
        assertThatThrownBy(() -> cairn.put("k", bytes("v"), WriteOptions.defaults().ifMatch(ETAG))).isInstanceOf(OutcomeUnknownException.class)
                .cause().isInstanceOf(PreconditionFailedException.class);

        node.then(drop(), answer(412, failed, "Idempotent-Replayed", "true"));
        assertThatThrownBy(() -> cairn.put("k", bytes("v"), WriteOptions.defaults().ifMatch(ETAG)))
                .as("a replayed answer is the first attempt's own outcome").isExactlyInstanceOf(PreconditionFailedException.class);
    }

    @Test
    void contentionIsRetriedAfterTheServersRetryAfter() throws IOException {
        FakeNode node = node(error(503, "contention", "Retry-After", "1"), ok("ETag", ETAG));
        CairnClient cairn = client(node);
        long start = System.nanoTime();
        cairn.put("k", bytes("v"), WriteOptions.defaults().ifAbsent());
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
        assertThat(node.received).hasSize(2);
        assertThat(node.received.get(1).header("Idempotency-Key")).isEqualTo(node.received.get(0).header("Idempotency-Key"));
    }

    @Test
    void readsAreRetriedOnReadTimeoutsAndLostConnectionsButNotOnRefusals() throws IOException {
        FakeNode node = node(error(504, "read_timeout"), drop(), answer(200, "v", "ETag", ETAG));
        CairnClient cairn = client(node);
        assertThat(cairn.get("k")).isPresent();
        assertThat(node.received).hasSize(3);
        node.then(error(401, "unauthenticated"));
        assertThatThrownBy(() -> cairn.get("k")).isInstanceOf(AuthException.class);
        assertThat(node.received).hasSize(4);
        node.then(drop());
        assertThatThrownBy(() -> cairn.get("k")).isInstanceOf(UnavailableException.class)
                .extracting(e -> ((CairnException) e).code()).isEqualTo("connection_lost");
    }

    @Test
    void anEndpointThatRefusesConnectionsIsSkippedWhileItIsDown() throws IOException {
        String dead = deadEndpoint();
        FakeNode live = node(answer(200, "v", "ETag", ETAG));
        List<RequestListener.Attempt> attempts = new CopyOnWriteArrayList<>();
        List<RequestListener.Outcome> outcomes = new CopyOnWriteArrayList<>();
        CairnClient cairn = client(CairnClient.builder().endpoints(dead, live.url()).retryPolicy(FAST).listener(new RequestListener() {
            @Override
            public void requestStarted(Attempt attempt) {
                attempts.add(attempt);
            }

            @Override
            public void requestFinished(Attempt attempt, Outcome outcome) {
                outcomes.add(outcome);
            }
        }));
        for (int i = 0; i < 6; i++) {
            assertThat(cairn.get("k")).isPresent();
        }
        assertThat(attempts.stream().filter(a -> a.endpoint().toString().endsWith(dead))).as("tried once, then skipped").hasSize(1);
        assertThat(outcomes).filteredOn(o -> "connect_failed".equals(o.code())).hasSize(1).allMatch(RequestListener.Outcome::willRetry);
        assertThat(outcomes).filteredOn(o -> o.status() == 200).hasSize(6);
        assertThat(attempts).allMatch(a -> a.operation().equals("get") && a.namespace().equals("default"));
        assertThat(attempts.stream().filter(a -> a.attempt() == 2)).hasSize(1);
    }

    @Test
    void whenNoEndpointCanBeReachedTheCallerIsToldNothingWasSent() throws IOException {
        CairnClient cairn = client(CairnClient.builder().endpoints(deadEndpoint(), deadEndpoint()).retryPolicy(FAST));
        assertThatThrownBy(() -> cairn.put("k", bytes("v"))).isExactlyInstanceOf(UnavailableException.class)
                .extracting(e -> ((CairnException) e).code()).isEqualTo("unreachable");
    }

    @Test
    void theNewestEtagSeenGoesAsCausalTokenOnUnconditionalWritesOnly() throws IOException {
        FakeNode node = node(ok("ETag", ETAG), answer(200, "v", "ETag", ETAG2), ok("ETag", ETAG), ok("ETag", ETAG2), answer(204, "", "ETag", ETAG),
                ok("ETag", ETAG2), answer(200, "{\"results\":[{\"op\":\"put\",\"key\":\"k\",\"status\":200,\"etag\":\"x\"}]}"));
        CairnClient cairn = client(node);
        cairn.put("k", bytes("first"));
        assertThat(node.received.get(0).header("Cairn-After")).as("nothing seen yet").isNull();
        cairn.get("k");
        cairn.put("k", bytes("v"));
        assertThat(node.received.get(2).header("Cairn-After")).as("the read's version").isEqualTo(ETAG2);
        cairn.put("k", bytes("v"), WriteOptions.defaults().ifMatch(ETAG));
        assertThat(node.received.get(3).header("Cairn-After")).as("a conditional write needs none").isNull();
        cairn.delete("k");
        assertThat(node.received.get(4).header("Cairn-After")).as("the conditional write's version").isEqualTo(ETAG2);
        cairn.namespace("other").put("k", bytes("v"));
        assertThat(node.received.get(5).header("Cairn-After")).as("another namespace, another key").isNull();
        cairn.batch(Batch.builder().put("k", bytes("v")).build());
        assertThat(node.received.get(6).header("Cairn-After")).as("the delete's version").isEqualTo(ETAG);
    }

    @Test
    void anUpdateRereadsSeriallyAfterAConflictAndWritesIfMatch() throws IOException {
        String failed = "{\"code\":\"precondition_failed\",\"message\":\"m\",\"currentEtag\":\"" + ETAG2.replace("\"", "\\\"") + "\"}";
        FakeNode node = node(answer(200, "1", "ETag", ETAG, "Content-Type", "text/plain"), answer(412, failed), answer(200, "5", "ETag", ETAG2,
                "Content-Type", "text/plain"), ok("ETag", "\"00000190a0b0c0d2-1\""));
        CairnClient cairn = client(node);
        Optional<Value> now = cairn.update("n", v -> bytes(Long.toString(Long.parseLong(v.orElseThrow().asString()) + 1)));
        assertThat(now.orElseThrow().asString()).isEqualTo("6");
        assertThat(now.orElseThrow().etag()).isEqualTo("\"00000190a0b0c0d2-1\"");
        assertThat(node.received).extracting(FakeNode.Received::target).containsExactly("/kv/n", "/kv/n", "/kv/n?consistency=serial", "/kv/n");
        assertThat(node.received.get(1).header("If-Match")).isEqualTo(ETAG);
        assertThat(node.received.get(3).header("If-Match")).isEqualTo(ETAG2);
        assertThat(node.received.get(3).header("Content-Type")).as("the current content type is kept").isEqualTo("text/plain");
        assertThat(node.received.get(3).text()).isEqualTo("6");

        node.then(error(404, "key_not_found"), ok("ETag", ETAG));
        cairn.update("fresh", v -> bytes("created"));
        assertThat(node.received.get(5).header("If-None-Match")).isEqualTo("*");
    }

    @Test
    void anUpdateGivesUpAfterItsRoundsAndNeverRepeatsAWriteWhoseOutcomeIsUnknown() throws IOException {
        String failed = "{\"code\":\"precondition_failed\",\"message\":\"m\",\"currentEtag\":null}";
        FakeNode node = node(answer(200, "1", "ETag", ETAG), answer(412, failed), answer(200, "1", "ETag", ETAG), answer(412, failed),
                answer(200, "1", "ETag", ETAG), answer(412, failed));
        CairnClient cairn = client(CairnClient.builder().endpoint(node.url()).retryPolicy(RetryPolicy.builder().maxCasAttempts(3)
                .initialBackoff(Duration.ofMillis(1)).maxBackoff(Duration.ofMillis(2)).build()));
        assertThatThrownBy(() -> cairn.update("n", v -> bytes("x"))).isInstanceOf(PreconditionFailedException.class);
        assertThat(node.received).hasSize(6);

        FakeNode other = node(answer(200, "1", "ETag", ETAG), error(504, "outcome_unknown"));
        CairnClient c2 = client(CairnClient.builder().endpoint(other.url()).retryPolicy(RetryPolicy.builder().maxAttempts(2)
                .initialBackoff(Duration.ofMillis(1)).maxBackoff(Duration.ofMillis(2)).build()));
        List<Optional<Value>> seen = new CopyOnWriteArrayList<>();
        assertThatThrownBy(() -> c2.update("n", v -> {
            seen.add(v);
            return bytes("x");
        })).isInstanceOf(OutcomeUnknownException.class);
        assertThat(seen).as("change ran once").hasSize(1);
    }

    @Test
    void aBatchIsOneRequestWithPerOperationResults() throws IOException {
        String results = """
                {"results":[
                  {"op":"put","key":"a","status":200,"etag":"\\"00000190a0b0c0d0-1\\"","expiresAt":"2030-01-01T00:00:00Z"},
                  {"op":"get","key":"a","status":200,"etag":"\\"00000190a0b0c0d0-1\\"","contentType":"text/plain","value":"hi"},
                  {"op":"get","key":"bin","status":200,"etag":"\\"00000190a0b0c0d0-1\\"","valueBase64":"AAH/","future":{"x":1}},
                  {"op":"put","key":"b","status":412,"code":"precondition_failed","message":"m","currentEtag":null},
                  {"op":"delete","key":"c","status":204,"etag":"\\"00000190a0b0c0d1-1\\""},
                  {"op":"get","key":"c","status":404,"code":"key_not_found","message":"m"}]}""";
        FakeNode node = node(answer(200, results));
        CairnClient cairn = client(node);
        BatchResult r = cairn.batch(Batch.builder()
                .put("a", bytes("hi"), WriteOptions.defaults().contentType("text/plain").ttl(Duration.ofSeconds(30)))
                .get("a").get("bin")
                .put("b", new byte[] {0, 1, (byte) 0xFF}, WriteOptions.defaults().ifAbsent())
                .delete("c", WriteOptions.defaults().ifMatch(ETAG))
                .get("c")
                .w(Quorum.QUORUM)
                .build());
        assertThat(r.size()).isEqualTo(6);
        assertThat(r.get(0).succeeded()).isTrue();
        assertThat(r.get(0).expiresAt()).isPresent();
        assertThat(r.get(1).value().orElseThrow().asString()).isEqualTo("hi");
        assertThat(r.get(2).value().orElseThrow().bytes()).containsExactly(0, 1, 0xFF);
        assertThat(r.get(3).failure()).containsInstanceOf(PreconditionFailedException.class);
        assertThat(r.get(4).status()).isEqualTo(204);
        assertThat(r.get(5).value()).isEmpty();
        assertThat(r.get(5).failure()).isEmpty();
        FakeNode.Received sent = node.received.get(0);
        assertThat(sent.method()).isEqualTo("BATCH");
        assertThat(sent.target()).isEqualTo("/kv?w=quorum");
        assertThat(sent.header("Content-Type")).isEqualTo("application/json");
        assertThat(sent.header("Idempotency-Key")).isNotNull();
        assertThat(sent.text()).contains("\"op\":\"put\",\"key\":\"a\",\"valueBase64\":\"aGk=\",\"contentType\":\"text/plain\",\"ttl\":\"30000ms\"")
                .contains("\"ifNoneMatch\":\"*\"").contains("\"ifMatch\":\"\\\"00000190a0b0c0d0-1\\\"\"");

        node.then(answer(200, "{\"results\":[{\"op\":\"get\",\"key\":\"a\",\"status\":404}]}"));
        cairn.batch(Batch.builder().get("a").build());
        assertThat(node.received.get(1).header("Idempotency-Key")).as("a batch of gets writes nothing").isNull();
        node.then(answer(200, "{\"results\":[]}"));
        assertThatThrownBy(() -> cairn.batch(Batch.builder().get("a").build())).isInstanceOf(CairnException.class)
                .extracting(e -> ((CairnException) e).code()).isEqualTo("malformed_response");
    }

    @Test
    void asyncCallsCompleteWithTheSameResultsAndErrors() throws Exception {
        FakeNode node = node(answer(200, "v", "ETag", ETAG), error(400, "invalid_ttl"));
        CairnClient cairn = client(node);
        assertThat(cairn.getAsync("k").get().orElseThrow().asString()).isEqualTo("v");
        assertThat(cairn.putAsync("k", bytes("v"), WriteOptions.defaults())).failsWithin(Duration.ofSeconds(5))
                .withThrowableOfType(java.util.concurrent.ExecutionException.class).havingCause().isInstanceOf(InvalidRequestException.class);
    }

    @Test
    void anAnswerOverTheBoundIsRefusedAndLeavesAWritesOutcomeUnknown() throws IOException {
        FakeNode node = node(answer(200, "x".repeat(4096), "ETag", ETAG));
        CairnClient cairn = client(CairnClient.builder().endpoint(node.url()).retryPolicy(FAST).maxResponseBytes(1024));
        assertThatThrownBy(() -> cairn.get("k")).isExactlyInstanceOf(CairnException.class)
                .extracting(e -> ((CairnException) e).code()).isEqualTo("response_too_large");
        assertThat(node.received).as("not retried").hasSize(1);
        assertThatThrownBy(() -> cairn.put("k", bytes("v"))).isInstanceOf(OutcomeUnknownException.class);
    }

    @Test
    void aListenerThatThrowsDisturbsNoRequestAndAClosedClientSendsNothing() throws IOException {
        FakeNode node = node(answer(200, "v", "ETag", ETAG));
        CairnClient cairn = client(CairnClient.builder().endpoint(node.url()).retryPolicy(FAST).listener(new RequestListener() {
            @Override
            public void requestFinished(Attempt attempt, Outcome outcome) {
                throw new IllegalStateException("a broken metrics hook (expected in this test)");
            }
        }));
        List<Throwable> reported = new CopyOnWriteArrayList<>();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> reported.add(e));
        try {
            assertThat(cairn.get("k")).isPresent();
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(null);
        }
        assertThat(reported).hasSize(1);
        cairn.close();
        assertThatThrownBy(() -> cairn.get("k")).isInstanceOf(CairnException.class)
                .extracting(e -> ((CairnException) e).code()).isEqualTo("client_closed");
        assertThat(node.received).hasSize(1);
    }
}
