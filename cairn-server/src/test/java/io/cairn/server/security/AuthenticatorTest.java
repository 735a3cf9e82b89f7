package io.cairn.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.auth.Credential;
import io.cairn.auth.Need;
import io.cairn.auth.Right;
import io.cairn.auth.TokenCache;
import io.cairn.auth.Verdict;
import io.cairn.error.ErrorCode;
import io.cairn.request.Answer;
import io.cairn.request.IdempotencyTag;
import io.cairn.request.Op;
import io.cairn.request.OpResult;
import io.cairn.placement.Quorum;
import io.cairn.request.WriteOutcome;
import io.cairn.server.service.KvService;
import io.cairn.storage.MemoryEngine;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The authenticator's bounds: one store read per id at a time, a cap on reads at once, failing closed, a bounded audit trail. */
class AuthenticatorTest {
    @TempDir
    Path tmp;

    /** A token store whose reads complete when the test says. */
    private final List<CompletableFuture<Answer>> reads = new CopyOnWriteArrayList<>();
    private final KvService service = new KvService() {
        @Override
        public CompletableFuture<WriteOutcome> write(List<Op> ops, IdempotencyTag idempotency, Quorum r, Quorum w, long deadlineNanos) {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletableFuture<Answer> read(byte[] key, Quorum r, long deadlineNanos) {
            CompletableFuture<Answer> f = new CompletableFuture<>();
            reads.add(f);
            return f;
        }

        @Override
        public boolean replicated() {
            return false;
        }
    };
    private final List<Map<String, ?>> audited = new CopyOnWriteArrayList<>();
    private final AtomicLong nowMillis = new AtomicLong(1_000_000);

    private Authenticator authenticator(int maxLookups, int maxAudited) {
        AdminCredential admin = AdminCredential.open(tmp.resolve("admin.token"), Clock.systemUTC(), AuditSink.NONE);
        return new Authenticator(admin, new TokenStore(service, new MemoryEngine(), () -> null), new TokenCache(100, 5_000, 1_000),
                2_000, maxLookups, maxAudited, Clock.systemUTC(), nowMillis::get,
                (event, outcome, who, from, details) -> audited.add(details == null ? Map.of() : details), Authenticator.Sink.NONE);
    }

    private static String header(int seed) {
        byte[] random = new byte[40];
        random[0] = (byte) seed;
        return "Bearer " + Credential.fromRandom(random).text();
    }

    @Test
    void requestsForOneUncachedIdShareOneStoreReadAndTheAnswerIsCached() {
        Authenticator auth = authenticator(10, 100);
        Need need = Need.data("default", Right.READ);
        List<CompletableFuture<Verdict>> verdicts = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            verdicts.add(auth.authorize(header(1), need, null));
        }
        assertThat(reads).as("three entries of one token, read once").hasSize(3);
        reads.forEach(f -> f.complete(Answer.of(new OpResult.NotFound())));
        verdicts.forEach(v -> assertThat(v.join()).isInstanceOfSatisfying(Verdict.Refused.class, r -> assertThat(r.reason()).isEqualTo("unknown")));
        auth.authorize(header(1), need, null).join();
        assertThat(reads).as("the unknown id is remembered").hasSize(3);
        nowMillis.addAndGet(1_000);
        auth.authorize(header(1), need, null);
        assertThat(reads).as("for auth.unknownCacheTtl only").hasSize(6);
    }

    @Test
    void aTokenInUseIsReadAgainBeforeItsCacheEntryRunsOutWhileRequestsGoOn() {
        Authenticator auth = authenticator(10, 100);
        byte[] random = new byte[40];
        random[0] = 9;
        Credential c = Credential.fromRandom(random);
        io.cairn.auth.Token t = new io.cairn.auth.Token(c.id(), "svc", c.secretHash(), List.of(io.cairn.auth.Role.parse("read:*")), 0,
                io.cairn.auth.Token.NEVER, "test");
        String header = "Bearer " + c.text();
        Need need = Need.data("default", Right.READ);
        CompletableFuture<Verdict> first = auth.authorize(header, need, null);
        reads.get(0).complete(Answer.of(new OpResult.Found(io.cairn.record.Record.value(new io.cairn.clock.Version(1, 1), 0, null,
                io.cairn.auth.TokenCodec.encode(t)))));
        reads.get(1).complete(Answer.of(new OpResult.NotFound()));
        reads.get(2).complete(Answer.of(new OpResult.NotFound()));
        assertThat(first.join()).isInstanceOf(Verdict.Allowed.class);
        nowMillis.addAndGet(3_000);
        CompletableFuture<Verdict> during = auth.authorize(header, need, null);
        assertThat(during).as("answered from the cache at once").isCompletedWithValueMatching(v -> v instanceof Verdict.Allowed);
        assertThat(reads).as("and a read ahead started").hasSize(6);
        auth.authorize(header, need, null);
        assertThat(reads).as("one at a time").hasSize(6);
    }

    @Test
    void readsBeyondTheCapAreShedAndAStoreThatCannotAnswerIsAFailureNotAPass() {
        Authenticator auth = authenticator(1, 100);
        Need need = Need.ADMIN;
        CompletableFuture<Verdict> first = auth.authorize(header(2), need, null);
        Verdict second = auth.authorize(header(3), need, null).join();
        assertThat(second).isInstanceOfSatisfying(Verdict.Refused.class, r -> assertThat(r.code()).isEqualTo(ErrorCode.OVERLOADED));
        reads.get(0).complete(Answer.failed(ErrorCode.QUORUM_UNAVAILABLE, "1 of 3 replicas reachable", Map.of()));
        reads.get(1).complete(Answer.of(new OpResult.NotFound()));
        reads.get(2).complete(Answer.of(new OpResult.NotFound()));
        assertThat(first.join()).isInstanceOfSatisfying(Verdict.Refused.class, r -> {
            assertThat(r.code()).isEqualTo(ErrorCode.AUTH_UNAVAILABLE);
            assertThat(r.message()).contains("1 of 3 replicas reachable");
        });
        auth.authorize(header(3), need, null);
        assertThat(reads).as("the cap is free again").hasSize(6);
    }

    @Test
    void refusalsBeyondTheAuditRateAreCountedNotWritten() {
        Authenticator auth = authenticator(10, 2);
        for (int i = 0; i < 5; i++) {
            auth.authorize((String) null, Need.ADMIN, null).join();
        }
        assertThat(audited).hasSize(2);
        nowMillis.addAndGet(1_000);
        auth.authorize("Bearer nonsense", Need.ADMIN, null).join();
        assertThat(audited).hasSize(3);
        assertThat(audited.get(2).get("refusalsNotAuditedBefore")).isEqualTo(3L);
    }

    @Test
    void noSecondCarriesMoreThanTheAuditRateEvenAcrossAWholeSecondsBoundary() {
        Authenticator auth = authenticator(10, 3);
        nowMillis.set(1_999_900); // 100 ms before a whole second
        for (int i = 0; i < 5; i++) {
            auth.authorize((String) null, Need.ADMIN, null).join();
        }
        assertThat(audited).hasSize(3);
        nowMillis.set(2_000_100); // past the whole second, but within one second of the three lines
        for (int i = 0; i < 5; i++) {
            auth.authorize((String) null, Need.ADMIN, null).join();
        }
        assertThat(audited).as("a fixed window would allow three more here").hasSize(3);
        nowMillis.set(2_000_900); // one second after the first line
        auth.authorize((String) null, Need.ADMIN, null).join();
        assertThat(audited).hasSize(4);
        assertThat(audited.get(3).get("refusalsNotAuditedBefore")).isEqualTo(7L);
    }

    @Test
    void aZeroAuditRateWritesNoRefusal() {
        Authenticator auth = authenticator(10, 0);
        auth.authorize((String) null, Need.ADMIN, null).join();
        assertThat(audited).isEmpty();
    }
}
