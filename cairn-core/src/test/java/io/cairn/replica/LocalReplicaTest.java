package io.cairn.replica;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.clock.HybridClock;
import io.cairn.clock.ManualClock;
import io.cairn.error.ErrorCode;
import io.cairn.request.IdempotencyTag;
import io.cairn.namespace.Namespace;
import io.cairn.placement.Partitioner;
import io.cairn.record.Record;
import io.cairn.record.RecordCodec;
import io.cairn.request.Condition;
import io.cairn.request.Limits;
import io.cairn.request.Op;
import io.cairn.request.OpResult;
import io.cairn.request.WriteOutcome;
import io.cairn.request.WriteRequest;
import io.cairn.storage.Durability;
import io.cairn.storage.Keyspace;
import io.cairn.storage.MemoryEngine;
import io.cairn.storage.StorageEngine;
import io.cairn.storage.WriteBatch;
import io.cairn.clock.Version;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The local replica over the in-memory engine and a manual clock. */
class LocalReplicaTest {
    private static final long T = 1_700_000_000_000L;
    private static final int NODE = 5;
    private static final long GRACE = 10_000;
    private static final Namespace NS = Namespace.defaults(0);

    private final ManualClock physical = new ManualClock(T);
    private final RecordingEngine engine = new RecordingEngine(new MemoryEngine());
    private LocalReplica replica = replica(Durability.SYNC);

    private LocalReplica replica(Durability durability) {
        return new LocalReplica(engine, new HybridClock(physical, NODE), durability, GRACE, Limits.DEFAULTS);
    }

    // --- reads and plain writes

    @Nested
    class ReadsAndWrites {
        @Test
        void aPutIsReadBackWithItsVersionAndContentType() {
            OpResult.Written w = written(apply(put("k", "v1", "text/plain", Op.NO_TTL, Condition.NONE)));

            OpResult.Found found = found(replica.read(NS, b("k")));
            assertThat(found.record().value()).isEqualTo(b("v1"));
            assertThat(found.record().contentType()).isEqualTo("text/plain");
            assertThat(found.record().version()).isEqualTo(w.version());
            assertThat(w.version().nodeId()).isEqualTo(NODE);
            assertThat(w.expiresAtMillis()).isEqualTo(Record.NO_EXPIRY);
        }

        @Test
        void aMissingKeyIsNotFound() {
            assertThat(replica.read(NS, b("nothing"))).isInstanceOf(OpResult.NotFound.class);
        }

        @Test
        void anOverwriteGetsANewerVersionAndWins() {
            Version first = written(apply(put("k", "v1"))).version();
            Version second = written(apply(put("k", "v2"))).version();

            assertThat(second).isGreaterThan(first);
            assertThat(found(replica.read(NS, b("k"))).record().value()).isEqualTo(b("v2"));
        }

        @Test
        void aDeleteHidesTheKeyBehindATombstone() {
            Version put = written(apply(put("k", "v"))).version();
            OpResult result = apply(new Op.Delete(b("k"), Condition.NONE));

            assertThat(result).isInstanceOf(OpResult.Deleted.class);
            assertThat(((OpResult.Deleted) result).version()).isGreaterThan(put);
            assertThat(replica.read(NS, b("k"))).isInstanceOf(OpResult.NotFound.class);
            Record stored = RecordCodec.decode(b("k"), engine.get(storageKey("k")));
            assertThat(stored.tombstone()).isTrue();
        }

        @Test
        void keysAreSeparatedByNamespace() {
            Namespace other = new Namespace(2, "other", new Partitioner(16), 0);
            apply(put("k", "default"));
            replica.apply(List.of(WriteRequest.of(other, put("k", "other"))));

            assertThat(found(replica.read(NS, b("k"))).record().value()).isEqualTo(b("default"));
            assertThat(found(replica.read(other, b("k"))).record().value()).isEqualTo(b("other"));
        }

        @Test
        void aGetInsideAWriteRequestSeesTheEarlierOperations() {
            List<OpResult> results = executed(replica.apply(List.of(request(put("k", "v"), new Op.Get(b("k")),
                    new Op.Delete(b("k"), Condition.NONE), new Op.Get(b("k")))))).results();

            assertThat(((OpResult.Found) results.get(1)).record().value()).isEqualTo(b("v"));
            assertThat(results.get(3)).isInstanceOf(OpResult.NotFound.class);
        }

        @Test
        void badKeysAndValuesFailAndWriteNothing() {
            LocalReplica small = new LocalReplica(engine, new HybridClock(physical, NODE), Durability.SYNC, GRACE, new Limits(4, 8, 10, 1000));
            List<OpResult> results = executed(small.apply(List.of(request(
                    new Op.Put(new byte[0], b("v"), null, Op.NO_TTL, Condition.NONE),
                    new Op.Put(b("12345"), b("v"), null, Op.NO_TTL, Condition.NONE),
                    new Op.Put(b("k"), b("123456789"), null, Op.NO_TTL, Condition.NONE),
                    new Op.Delete(b("12345"), Condition.NONE))))).results();

            assertThat(results).extracting(r -> ((OpResult.Failed) r).code())
                    .containsExactly(ErrorCode.INVALID_KEY, ErrorCode.KEY_TOO_LONG, ErrorCode.VALUE_TOO_LARGE, ErrorCode.KEY_TOO_LONG);
            assertThat(engine.dataKeys()).isEmpty();
        }

        @Test
        void aGroupIsOneEngineWriteWithTheConfiguredDurability() {
            engine.writes.clear();
            List<WriteOutcome> outcomes = replica.apply(List.of(
                    WriteRequest.of(NS, put("a", "1")),
                    WriteRequest.of(NS, put("b", "2")),
                    WriteRequest.of(NS, new Op.Delete(b("c"), Condition.NONE))));

            assertThat(outcomes).hasSize(3).allMatch(o -> o instanceof WriteOutcome.Executed e && !e.replayed());
            assertThat(engine.writes).containsExactly(Durability.SYNC);
            assertThat(replica.stats().writeGroups()).isEqualTo(1);
            assertThat(replica.stats().writeRequests()).isEqualTo(3);

            LocalReplica async = replica(Durability.ASYNC);
            engine.writes.clear();
            async.apply(List.of(WriteRequest.of(NS, put("d", "4"))));
            assertThat(engine.writes).containsExactly(Durability.ASYNC);
        }

        @Test
        void aGroupThatChangesNothingDoesNotWrite() {
            engine.writes.clear();
            replica.apply(List.of(
                    WriteRequest.of(NS, put("k", "v", null, Op.NO_TTL, Condition.ifMatch(new Version(1, 1)))),
                    WriteRequest.of(NS, new Op.Get(b("k")))));
            assertThat(engine.writes).isEmpty();
        }
    }

    // --- conditions

    @Nested
    class Conditions {
        @Test
        void ifMatchWithTheCurrentVersionWrites() {
            Version v1 = written(apply(put("k", "v1"))).version();
            OpResult result = apply(put("k", "v2", null, Op.NO_TTL, Condition.ifMatch(v1)));

            assertThat(result).isInstanceOf(OpResult.Written.class);
            assertThat(value("k")).isEqualTo("v2");
        }

        @Test
        void ifMatchAcceptsAnyOfSeveralVersions() {
            Version v1 = written(apply(put("k", "v1"))).version();
            Condition either = new Condition(Set.of(new Version(1, 1), v1), false, false);
            assertThat(apply(put("k", "v2", null, Op.NO_TTL, either))).isInstanceOf(OpResult.Written.class);
        }

        @Test
        void ifMatchWithAnotherVersionFailsAndReportsTheCurrentOne() {
            Version v1 = written(apply(put("k", "v1"))).version();
            Version v2 = written(apply(put("k", "v2"))).version();

            OpResult result = apply(put("k", "v3", null, Op.NO_TTL, Condition.ifMatch(v1)));

            assertThat(result).isEqualTo(new OpResult.PreconditionFailed(v2));
            assertThat(value("k")).isEqualTo("v2");
        }

        @Test
        void ifMatchOnAMissingKeyFailsWithNoCurrentVersionAndWritesNothing() {
            OpResult result = apply(put("k", "v", null, Op.NO_TTL, Condition.ifMatch(new Version(Version.pack(T, 0), NODE))));

            assertThat(result).isEqualTo(new OpResult.PreconditionFailed(null));
            assertThat(engine.get(storageKey("k"))).isNull();
        }

        @Test
        void ifMatchOnADeletedKeyFails() {
            Version v1 = written(apply(put("k", "v1"))).version();
            apply(new Op.Delete(b("k"), Condition.NONE));

            assertThat(apply(put("k", "v2", null, Op.NO_TTL, Condition.ifMatch(v1)))).isEqualTo(new OpResult.PreconditionFailed(null));
            assertThat(apply(new Op.Delete(b("k"), Condition.ifMatch(v1)))).isEqualTo(new OpResult.PreconditionFailed(null));
        }

        @Test
        void conditionalDeleteNeedsTheCurrentVersion() {
            Version v1 = written(apply(put("k", "v1"))).version();

            assertThat(apply(new Op.Delete(b("k"), Condition.ifMatch(new Version(1, NODE))))).isEqualTo(new OpResult.PreconditionFailed(v1));
            assertThat(value("k")).isEqualTo("v1");
            assertThat(apply(new Op.Delete(b("k"), Condition.ifMatch(v1)))).isInstanceOf(OpResult.Deleted.class);
            assertThat(replica.read(NS, b("k"))).isInstanceOf(OpResult.NotFound.class);
        }

        @Test
        void ifNoneMatchAnyCreatesOnlyWhenNothingIsLive() {
            Version created = written(apply(put("k", "first", null, Op.NO_TTL, Condition.ifAbsent()))).version();

            assertThat(apply(put("k", "second", null, Op.NO_TTL, Condition.ifAbsent()))).isEqualTo(new OpResult.PreconditionFailed(created));
            assertThat(value("k")).isEqualTo("first");

            apply(new Op.Delete(b("k"), Condition.NONE));
            assertThat(apply(put("k", "again", null, Op.NO_TTL, Condition.ifAbsent()))).isInstanceOf(OpResult.Written.class);
            assertThat(value("k")).isEqualTo("again");
        }

        @Test
        void ifMatchAnyRequiresALiveKey() {
            Condition ifLive = new Condition(Set.of(), true, false);
            assertThat(apply(put("k", "v", null, Op.NO_TTL, ifLive))).isEqualTo(new OpResult.PreconditionFailed(null));
            assertThat(engine.get(storageKey("k"))).isNull();

            apply(put("k", "v1"));
            assertThat(apply(put("k", "v2", null, Op.NO_TTL, ifLive))).isInstanceOf(OpResult.Written.class);

            apply(new Op.Delete(b("k"), Condition.NONE));
            assertThat(apply(put("k", "v3", null, Op.NO_TTL, ifLive))).isEqualTo(new OpResult.PreconditionFailed(null));
            assertThat(apply(new Op.Delete(b("k"), ifLive))).isEqualTo(new OpResult.PreconditionFailed(null));
        }

        @Test
        void conditionsSeeEarlierRequestsOfTheSameGroup() {
            List<WriteOutcome> outcomes = replica.apply(List.of(
                    WriteRequest.of(NS, put("k", "first", null, Op.NO_TTL, Condition.ifAbsent())),
                    WriteRequest.of(NS, put("k", "second", null, Op.NO_TTL, Condition.ifAbsent())),
                    WriteRequest.of(NS, put("gone", "x")),
                    WriteRequest.of(NS, new Op.Delete(b("gone"), Condition.NONE)),
                    WriteRequest.of(NS, put("gone", "y", null, Op.NO_TTL, new Condition(Set.of(), true, false)))));

            Version first = ((OpResult.Written) executed(outcomes.get(0)).results().get(0)).version();
            assertThat(executed(outcomes.get(1)).results()).containsExactly(new OpResult.PreconditionFailed(first));
            assertThat(executed(outcomes.get(4)).results()).containsExactly(new OpResult.PreconditionFailed(null));
            assertThat(value("k")).isEqualTo("first");
            assertThat(replica.read(NS, b("gone"))).isInstanceOf(OpResult.NotFound.class);
        }

        @Test
        void conditionsSeeEarlierOperationsOfTheSameRequest() {
            List<OpResult> results = executed(replica.apply(List.of(request(
                    put("k", "v"),
                    new Op.Delete(b("k"), new Condition(Set.of(), true, false)),
                    put("k", "w", null, Op.NO_TTL, Condition.ifAbsent()))))).results();

            assertThat(results.get(1)).isInstanceOf(OpResult.Deleted.class);
            assertThat(results.get(2)).isInstanceOf(OpResult.Written.class);
            assertThat(value("k")).isEqualTo("w");
        }
    }

    // --- TTL and sweeping

    @Nested
    class Expiry {
        @Test
        void aRecordIsVisibleBeforeItsExpiryAndGoneFromThatMillisecondOn() {
            OpResult.Written w = written(apply(put("k", "v", null, 1_000, Condition.NONE)));
            assertThat(w.expiresAtMillis()).isEqualTo(T + 1_000);

            physical.set(T + 999);
            assertThat(replica.read(NS, b("k"))).isInstanceOf(OpResult.Found.class);
            physical.set(T + 1_000);
            assertThat(replica.read(NS, b("k"))).isInstanceOf(OpResult.NotFound.class);
            physical.set(T + 1_001);
            assertThat(replica.read(NS, b("k"))).isInstanceOf(OpResult.NotFound.class);
        }

        @Test
        void anExpiredRecordFailsIfMatchAndAllowsCreateOnly() {
            Version v = written(apply(put("k", "v", null, 1_000, Condition.NONE))).version();
            physical.set(T + 1_000);

            assertThat(apply(put("k", "w", null, Op.NO_TTL, Condition.ifMatch(v)))).isEqualTo(new OpResult.PreconditionFailed(null));
            assertThat(apply(put("k", "x", null, Op.NO_TTL, Condition.ifAbsent()))).isInstanceOf(OpResult.Written.class);
        }

        @Test
        void theNamespaceDefaultTtlAppliesWhenThePutNamesNone() {
            Namespace withTtl = new Namespace(3, "sessions", new Partitioner(256), 60_000);
            OpResult.Written w = written(replica.apply(List.of(WriteRequest.of(withTtl,
                    new Op.Put(b("s"), b("v"), null, Op.DEFAULT_TTL, Condition.NONE)))).get(0));

            assertThat(w.expiresAtMillis()).isEqualTo(T + 60_000);
            physical.set(T + 59_999);
            assertThat(replica.read(withTtl, b("s"))).isInstanceOf(OpResult.Found.class);
            physical.set(T + 60_000);
            assertThat(replica.read(withTtl, b("s"))).isInstanceOf(OpResult.NotFound.class);
        }

        @Test
        void noTtlOverridesTheNamespaceDefaultAndAnExplicitTtlReplacesIt() {
            Namespace withTtl = new Namespace(3, "sessions", new Partitioner(256), 60_000);
            OpResult.Written forever = written(replica.apply(List.of(WriteRequest.of(withTtl,
                    new Op.Put(b("forever"), b("v"), null, Op.NO_TTL, Condition.NONE)))).get(0));
            OpResult.Written shorter = written(replica.apply(List.of(WriteRequest.of(withTtl,
                    new Op.Put(b("short"), b("v"), null, 5, Condition.NONE)))).get(0));

            assertThat(forever.expiresAtMillis()).isEqualTo(Record.NO_EXPIRY);
            assertThat(shorter.expiresAtMillis()).isEqualTo(shorter.version().physicalMillis() + 5);
            physical.set(T + 365L * 24 * 3600 * 1000);
            assertThat(replica.read(withTtl, b("forever"))).isInstanceOf(OpResult.Found.class);
            assertThat(replica.read(withTtl, b("short"))).isInstanceOf(OpResult.NotFound.class);
        }

        @Test
        void sweepPurgesAnExpiredRecordOnlyAfterThePurgeGrace() {
            apply(put("k", "v", null, 1_000, Condition.NONE));

            physical.set(T + 1_000 + GRACE - 1);
            LocalReplica.SweepResult early = replica.sweep(100, 100);
            assertThat(early.entries()).isZero();
            assertThat(engine.get(storageKey("k"))).isNotNull();

            physical.set(T + 1_000 + GRACE);
            LocalReplica.SweepResult due = replica.sweep(100, 100);
            assertThat(due.expiredRecords()).isEqualTo(1);
            assertThat(due.more()).isFalse();
            assertThat(engine.get(storageKey("k"))).isNull();
            assertThat(engine.expiryKeys()).isEmpty();
            assertThat(replica.stats().expiredRecordsPurged()).isEqualTo(1);
        }

        @Test
        void sweepPurgesATombstoneOnlyAfterThePurgeGrace() {
            apply(put("k", "v"));
            physical.set(T + 500);
            apply(new Op.Delete(b("k"), Condition.NONE));

            physical.set(T + 500 + GRACE - 1);
            assertThat(replica.sweep(100, 100).tombstones()).isZero();
            assertThat(engine.get(storageKey("k"))).isNotNull();

            physical.set(T + 500 + GRACE);
            LocalReplica.SweepResult result = replica.sweep(100, 100);
            assertThat(result.tombstones()).isEqualTo(1);
            assertThat(engine.get(storageKey("k"))).isNull();
            assertThat(engine.expiryKeys()).isEmpty();
            assertThat(replica.stats().tombstonesPurged()).isEqualTo(1);
        }

        @Test
        void recordsWithoutExpiryAreNeverIndexedOrSwept() {
            apply(put("k", "v"));
            assertThat(engine.expiryKeys()).isEmpty();
            physical.set(T + 10 * GRACE);
            assertThat(replica.sweep(100, 100).entries()).isZero();
            assertThat(value("k")).isEqualTo("v");
        }

        @Test
        void overwritingAnExpiringKeyWithAPermanentValueLeavesAStaleEntryTheSweepMustNotFollow() {
            apply(put("k", "old", null, 1_000, Condition.NONE));
            physical.set(T + 10);
            apply(put("k", "new"));

            physical.set(T + 1_000 + GRACE + 1);
            LocalReplica.SweepResult result = replica.sweep(100, 100);

            assertThat(result.staleEntries()).isEqualTo(1);
            assertThat(result.expiredRecords()).isZero();
            assertThat(value("k")).isEqualTo("new");
            assertThat(engine.expiryKeys()).isEmpty();
        }

        @Test
        void overwritingWithALongerTtlPurgesOnlyAtTheNewExpiry() {
            apply(put("k", "old", null, 1_000, Condition.NONE));
            physical.set(T + 10);
            OpResult.Written w = written(apply(put("k", "new", null, 50_000, Condition.NONE)));

            physical.set(T + 1_000 + GRACE);
            assertThat(replica.sweep(100, 100).staleEntries()).isEqualTo(1);
            assertThat(value("k")).isEqualTo("new");

            physical.set(w.expiresAtMillis() + GRACE);
            assertThat(replica.sweep(100, 100).expiredRecords()).isEqualTo(1);
            assertThat(engine.get(storageKey("k"))).isNull();
        }

        @Test
        void deletingAnExpiringKeyPurgesTheTombstoneNotTwice() {
            apply(put("k", "v", null, 1_000, Condition.NONE));
            physical.set(T + 100);
            apply(new Op.Delete(b("k"), Condition.NONE));

            physical.set(T + 1_000 + GRACE);
            LocalReplica.SweepResult result = replica.sweep(100, 100);
            assertThat(result.tombstones()).isEqualTo(1);
            assertThat(result.staleEntries()).isEqualTo(1);
            assertThat(engine.get(storageKey("k"))).isNull();
        }

        @Test
        void sweepIsBoundedByItsLimitAndReportsMore() {
            for (int i = 0; i < 5; i++) {
                apply(put("k" + i, "v", null, 1_000, Condition.NONE));
            }
            physical.set(T + 1_000 + GRACE);

            LocalReplica.SweepResult first = replica.sweep(2, 100);
            assertThat(first.entries()).isEqualTo(2);
            assertThat(first.expiredRecords()).isEqualTo(2);
            assertThat(first.more()).isTrue();
            assertThat(replica.stats().sweepBacklog()).isEqualTo(3);
            assertThat(engine.dataKeys()).hasSize(3);

            assertThat(replica.sweep(2, 100).more()).isTrue();
            LocalReplica.SweepResult last = replica.sweep(2, 100);
            assertThat(last.entries()).isEqualTo(1);
            assertThat(last.more()).isFalse();
            assertThat(engine.dataKeys()).isEmpty();
            assertThat(replica.stats().expiredRecordsPurged()).isEqualTo(5);
        }

        @Test
        void sweepLeavesEntriesThatAreNotDueYet() {
            apply(put("soon", "v", null, 1_000, Condition.NONE));
            apply(put("later", "v", null, 100_000, Condition.NONE));

            physical.set(T + 1_000 + GRACE);
            assertThat(replica.sweep(100, 100).expiredRecords()).isEqualTo(1);
            assertThat(engine.expiryKeys()).hasSize(1);
            physical.set(T + 1_000);
            assertThat(replica.read(NS, b("later"))).isInstanceOf(OpResult.Found.class);
        }

        @Test
        void aCorruptRecordBehindADueEntryIsKeptForRepairAndCounted() {
            apply(put("k", "v", null, 1_000, Condition.NONE));
            engine.write(new WriteBatch().put(storageKey("k"), new byte[] {1, 2, 3}), Durability.SYNC);

            physical.set(T + 1_000 + GRACE);
            replica.sweep(100, 100);

            assertThat(engine.get(storageKey("k"))).isEqualTo(new byte[] {1, 2, 3});
            assertThat(engine.expiryKeys()).isEmpty();
            assertThat(replica.stats().corruptRecords()).isEqualTo(1);
        }
    }

    // --- idempotency

    @Nested
    class Idempotency {
        private final IdempotencyTag tag = new IdempotencyTag("req-1", b("fingerprint-A"), 60_000);

        @Test
        void aRetryReplaysTheFirstOutcomeAndWritesNothing() {
            WriteOutcome.Executed first = executed(replica.apply(List.of(idempotent(tag, put("k", "v1")))).get(0));
            Version original = ((OpResult.Written) first.results().get(0)).version();
            assertThat(first.replayed()).isFalse();
            List<String> before = engine.dump();
            engine.writes.clear();

            physical.set(T + 5_000);
            WriteOutcome.Executed retry = executed(replica.apply(List.of(idempotent(tag, put("k", "v1")))).get(0));

            assertThat(retry.replayed()).isTrue();
            assertThat(retry.results()).isEqualTo(first.results());
            assertThat(engine.writes).isEmpty();
            assertThat(engine.dump()).isEqualTo(before);
            assertThat(found(replica.read(NS, b("k"))).record().version()).isEqualTo(original);
            assertThat(replica.stats().idempotentReplays()).isEqualTo(1);
        }

        @Test
        void replayReturnsEveryKindOfResult() {
            apply(put("present", "p"));
            IdempotencyTag mixed = new IdempotencyTag("mixed", b("F"), 60_000);
            WriteRequest request = new WriteRequest(NS, List.of(
                    put("k", "v", "text/plain", 1_000, Condition.NONE),
                    new Op.Delete(b("d"), Condition.NONE),
                    put("x", "v", null, Op.NO_TTL, Condition.ifMatch(new Version(1, 1))),
                    new Op.Get(b("present")),
                    new Op.Get(b("absent")),
                    new Op.Put(new byte[0], b("v"), null, Op.NO_TTL, Condition.NONE)), mixed);

            List<OpResult> first = executed(replica.apply(List.of(request)).get(0)).results();
            WriteOutcome.Executed replay = executed(replica.apply(List.of(request)).get(0));

            assertThat(replay.replayed()).isTrue();
            assertThat(replay.results()).isEqualTo(first);
            assertThat(first).extracting(r -> r.getClass().getSimpleName())
                    .containsExactly("Written", "Deleted", "PreconditionFailed", "Found", "NotFound", "Failed");
        }

        @Test
        void theSameKeyWithAnotherRequestIsRefusedAsReused() {
            replica.apply(List.of(idempotent(tag, put("k", "v1"))));
            List<String> before = engine.dump();

            IdempotencyTag otherRequest = new IdempotencyTag("req-1", b("fingerprint-B"), 60_000);
            WriteOutcome outcome = replica.apply(List.of(idempotent(otherRequest, put("k", "v2")))).get(0);

            assertThat(outcome).isInstanceOf(WriteOutcome.Failed.class);
            assertThat(((WriteOutcome.Failed) outcome).code()).isEqualTo(ErrorCode.IDEMPOTENCY_KEY_REUSED);
            assertThat(engine.dump()).isEqualTo(before);
            assertThat(value("k")).isEqualTo("v1");
        }

        @Test
        void theSameKeyTwiceInOneGroupIsInFlightOrReused() {
            IdempotencyTag otherRequest = new IdempotencyTag("req-1", b("fingerprint-B"), 60_000);
            List<WriteOutcome> outcomes = replica.apply(List.of(
                    idempotent(tag, put("k", "v1")),
                    idempotent(tag, put("k", "v1")),
                    idempotent(otherRequest, put("k", "v2"))));

            assertThat(outcomes.get(0)).isInstanceOf(WriteOutcome.Executed.class);
            assertThat(((WriteOutcome.Failed) outcomes.get(1)).code()).isEqualTo(ErrorCode.IDEMPOTENCY_IN_FLIGHT);
            assertThat(((WriteOutcome.Failed) outcomes.get(2)).code()).isEqualTo(ErrorCode.IDEMPOTENCY_KEY_REUSED);
            assertThat(value("k")).isEqualTo("v1");
            assertThat(replica.stats().idempotencyRecords()).isEqualTo(1);
        }

        @Test
        void keysAreScopedByNamespace() {
            Namespace other = new Namespace(2, "other", new Partitioner(16), 0);
            replica.apply(List.of(idempotent(tag, put("k", "v1"))));
            WriteOutcome outcome = replica.apply(List.of(new WriteRequest(other, List.of(put("k", "v2")),
                    new IdempotencyTag("req-1", b("fingerprint-B"), 60_000)))).get(0);

            assertThat(executed(outcome).replayed()).isFalse();
        }

        @Test
        void anExpiredOutcomeLetsTheKeyBeUsedAgain() {
            Version first = ((OpResult.Written) executed(replica.apply(List.of(idempotent(tag, put("k", "v1")))).get(0)).results().get(0)).version();

            physical.set(T + 59_999);
            assertThat(executed(replica.apply(List.of(idempotent(tag, put("k", "v1")))).get(0)).replayed()).isTrue();

            physical.set(T + 60_000);
            IdempotencyTag otherRequest = new IdempotencyTag("req-1", b("fingerprint-B"), 60_000);
            WriteOutcome.Executed reused = executed(replica.apply(List.of(idempotent(otherRequest, put("k", "v2")))).get(0));

            assertThat(reused.replayed()).isFalse();
            assertThat(((OpResult.Written) reused.results().get(0)).version()).isGreaterThan(first);
            assertThat(value("k")).isEqualTo("v2");
            assertThat(replica.stats().idempotencyRecords()).isEqualTo(1);

            physical.set(T + 60_001);
            assertThat(executed(replica.apply(List.of(idempotent(otherRequest, put("k", "v2")))).get(0)).replayed()).isTrue();
        }

        @Test
        void sweepPurgesExpiredOutcomesAndCountsThem() {
            replica.apply(List.of(idempotent(tag, put("k", "v1"))));
            assertThat(replica.stats().idempotencyRecords()).isEqualTo(1);

            physical.set(T + 60_000);
            LocalReplica.SweepResult result = replica.sweep(100, 100);

            assertThat(result.idempotencyRecords()).isEqualTo(1);
            assertThat(engine.get(Keyspace.idempotency(NS.id(), "req-1"))).isNull();
            assertThat(replica.stats().idempotencyRecords()).isZero();
            assertThat(value("k")).isEqualTo("v1");
        }

        @Test
        void anOutcomeWrittenWithSyncSurvivesACrash() {
            Version original = ((OpResult.Written) executed(replica.apply(List.of(idempotent(tag, put("k", "v1")))).get(0)).results().get(0)).version();
            engine.memory.crash();
            replica = replica(Durability.SYNC);

            assertThat(replica.stats().idempotencyRecords()).isEqualTo(1);
            WriteOutcome.Executed retry = executed(replica.apply(List.of(idempotent(tag, put("k", "v1")))).get(0));
            assertThat(retry.replayed()).isTrue();
            assertThat(found(replica.read(NS, b("k"))).record().version()).isEqualTo(original);
        }

        @Test
        void anOutcomeWrittenWithAsyncIsLostInACrashTogetherWithItsWrite() {
            replica = replica(Durability.ASYNC);
            replica.apply(List.of(idempotent(tag, put("k", "v1"))));
            engine.memory.crash();
            replica = replica(Durability.ASYNC);

            assertThat(replica.read(NS, b("k"))).isInstanceOf(OpResult.NotFound.class);
            assertThat(replica.stats().idempotencyRecords()).isZero();
            WriteOutcome.Executed retry = executed(replica.apply(List.of(idempotent(tag, put("k", "v1")))).get(0));
            assertThat(retry.replayed()).isFalse();
            assertThat(value("k")).isEqualTo("v1");
        }

        @Test
        void aCorruptStoredOutcomeIsRefusedAndCounted() {
            replica.apply(List.of(idempotent(tag, put("k", "v1"))));
            byte[] key = Keyspace.idempotency(NS.id(), "req-1");
            byte[] raw = engine.get(key);
            raw[raw.length / 2] ^= 1;
            engine.write(new WriteBatch().put(key, raw), Durability.SYNC);

            WriteOutcome outcome = replica.apply(List.of(idempotent(tag, put("k", "v1")))).get(0);
            assertThat(((WriteOutcome.Failed) outcome).code()).isEqualTo(ErrorCode.CORRUPT_RECORD);
            assertThat(replica.stats().corruptRecords()).isEqualTo(1);
        }
    }

    // --- restart, ownership, corruption

    @Nested
    class Recovery {
        @Test
        void versionsKeepIncreasingAfterARestartWithTheClockSetBackwards() {
            physical.set(T + 3_600_000);
            Version before = written(apply(put("k", "v1"))).version();

            physical.set(T);
            replica = replica(Durability.SYNC);
            Version after = written(apply(put("k", "v2"))).version();

            assertThat(after).isGreaterThan(before);
            assertThat(value("k")).isEqualTo("v2");
        }

        @Test
        void versionsKeepIncreasingAfterACrashOfSyncedWrites() {
            physical.set(T + 3_600_000);
            Version before = written(apply(put("k", "v1"))).version();
            engine.memory.crash();

            physical.set(T);
            replica = replica(Durability.SYNC);
            assertThat(written(apply(put("k", "v2"))).version()).isGreaterThan(before);
        }

        @Test
        void aReplicaRefusesTheDataOfAnotherNode() {
            apply(put("k", "v"));
            assertThatThrownBy(() -> new LocalReplica(engine, new HybridClock(physical, NODE + 1), Durability.SYNC, GRACE, Limits.DEFAULTS))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(String.valueOf(NODE));
        }

        @Test
        void aFreshReplicaClaimsTheDataDurably() {
            MemoryEngine fresh = new MemoryEngine();
            new LocalReplica(fresh, new HybridClock(physical, 9), Durability.ASYNC, GRACE, Limits.DEFAULTS);
            fresh.crash();
            assertThatThrownBy(() -> new LocalReplica(fresh, new HybridClock(physical, 10), Durability.ASYNC, GRACE, Limits.DEFAULTS))
                    .isInstanceOf(IllegalStateException.class);
        }

        @Test
        void aCorruptRecordIsReportedAndCountedNeverReturned() {
            apply(put("k", "v"));
            engine.write(new WriteBatch().put(storageKey("k"), b("garbage that is not a record")), Durability.SYNC);

            OpResult result = replica.read(NS, b("k"));

            assertThat(result).isInstanceOf(OpResult.Failed.class);
            assertThat(((OpResult.Failed) result).code()).isEqualTo(ErrorCode.CORRUPT_RECORD);
            assertThat(replica.stats().corruptRecords()).isEqualTo(1);
            replica.read(NS, b("k"));
            assertThat(replica.stats().corruptRecords()).isEqualTo(2);
        }

        @Test
        void aValidRecordMovedUnderAnotherKeyIsCorrupt() {
            apply(put("a", "v"));
            engine.write(new WriteBatch().put(storageKey("b"), engine.get(storageKey("a"))), Durability.SYNC);

            assertThat(((OpResult.Failed) replica.read(NS, b("b"))).code()).isEqualTo(ErrorCode.CORRUPT_RECORD);
        }

        @Test
        void aConditionalWriteOverACorruptRecordFailsAndLeavesItForRepair() {
            apply(put("k", "v"));
            engine.write(new WriteBatch().put(storageKey("k"), new byte[] {9, 9, 9}), Durability.SYNC);

            OpResult result = apply(put("k", "w", null, Op.NO_TTL, Condition.ifAbsent()));

            assertThat(((OpResult.Failed) result).code()).isEqualTo(ErrorCode.CORRUPT_RECORD);
            assertThat(engine.get(storageKey("k"))).isEqualTo(new byte[] {9, 9, 9});
            assertThat(replica.stats().corruptRecords()).isEqualTo(1);
        }
    }

    // --- what a batch's reads return

    /**
     * A batch's gets return at most {@code limits.maxBatchReadBytes} of values, counted in
     * operation order: the get that would pass it answers {@code response_too_large} instead, a
     * smaller one after it still fits, and the batch's write applies. The first value is always
     * returned, even over the limit, so no lone read is refused.
     */
    @Test
    void aBatchsGetsReturnAtMostTheReadLimitInOperationOrder() {
        replica = new LocalReplica(engine, new HybridClock(physical, NODE), Durability.SYNC, GRACE, new Limits(1024, 1 << 20, 1000, 16 << 20, 250));
        apply(put("big", "x".repeat(300)));
        apply(put("a", "x".repeat(100)));
        apply(put("b", "x".repeat(100)));
        apply(put("tiny", "x".repeat(10)));
        List<OpResult> lone = executed(replica.apply(List.of(request(new Op.Get(b("big")))))).results();
        assertThat(lone.get(0)).as("a lone read over the limit").isInstanceOf(OpResult.Found.class);
        List<OpResult> results = executed(replica.apply(List.of(request(new Op.Get(b("a")), new Op.Get(b("b")), new Op.Get(b("a")),
                put("c", "v"), new Op.Get(b("tiny")))))).results();
        assertThat(results.get(0)).isInstanceOf(OpResult.Found.class);
        assertThat(results.get(1)).isInstanceOf(OpResult.Found.class);
        assertThat(results.get(2)).isInstanceOfSatisfying(OpResult.Failed.class, f -> {
            assertThat(f.code()).isEqualTo(ErrorCode.RESPONSE_TOO_LARGE);
            assertThat(f.message()).contains("200").contains("limits.maxBatchReadBytes");
        });
        assertThat(results.get(3)).isInstanceOf(OpResult.Written.class);
        assertThat(results.get(4)).as("210 bytes still fit").isInstanceOf(OpResult.Found.class);
        assertThat(value("c")).isEqualTo("v");
    }

    // --- dropping a partition that moved away

    /**
     * A drop that stops after its first batch (the partition came back to this node) leaves
     * records without Paxos states, never a state without its record: the states go in the first
     * batch. Before, they went last, and a stopped drop left a state naming a commit whose record
     * it had deleted; a prepare took the commit as proof the replica's (older) record was current,
     * and a compare-and-swap succeeded on a value already replaced (found by the membership simulation).
     */
    @Test
    void aDropThatStopsAfterItsFirstBatchLeavesNoPaxosStateBehindItsRecords() {
        int partition = NS.partitionOf(b("key0"));
        List<byte[]> keys = new ArrayList<>();
        for (int i = 0; keys.size() < 3; i++) {
            byte[] key = b("key" + i);
            if (NS.partitionOf(key) == partition) {
                keys.add(key);
            }
        }
        WriteBatch states = new WriteBatch();
        for (byte[] key : keys) {
            apply(new Op.Put(key, b("v"), null, Op.NO_TTL, Condition.NONE));
            Version ballot = new Version(Version.pack(T, 0), 2);
            states.put(Keyspace.paxos(NS.id(), partition, key), io.cairn.paxos.PaxosState.EMPTY.promise(ballot).encode(key));
        }
        engine.write(states, Durability.SYNC);

        assertThat(replica.dropPartition(NS, partition, 1)).as("records remain").isTrue();
        assertThat(engine.scan(Keyspace.paxosStart(NS.id(), partition), Keyspace.paxosEnd(NS.id(), partition), 10)).isEmpty();
        assertThat(engine.scan(Keyspace.partitionStart(NS.id(), partition), Keyspace.partitionEnd(NS.id(), partition), 10)).hasSize(2);
    }

    // --- helpers

    private OpResult apply(Op op) {
        return executed(replica.apply(List.of(WriteRequest.of(NS, op))).get(0)).results().get(0);
    }

    private static WriteRequest request(Op... ops) {
        return new WriteRequest(NS, List.of(ops), null);
    }

    private static WriteRequest idempotent(IdempotencyTag tag, Op... ops) {
        return new WriteRequest(NS, List.of(ops), tag);
    }

    private static Op.Put put(String key, String value) {
        return put(key, value, null, Op.NO_TTL, Condition.NONE);
    }

    private static Op.Put put(String key, String value, String contentType, long ttl, Condition condition) {
        return new Op.Put(b(key), b(value), contentType, ttl, condition);
    }

    private String value(String key) {
        return new String(found(replica.read(NS, b(key))).record().value(), StandardCharsets.UTF_8);
    }

    private static byte[] storageKey(String key) {
        return Keyspace.data(NS.id(), NS.partitionOf(b(key)), b(key));
    }

    private static WriteOutcome.Executed executed(WriteOutcome outcome) {
        assertThat(outcome).isInstanceOf(WriteOutcome.Executed.class);
        return (WriteOutcome.Executed) outcome;
    }

    private static WriteOutcome.Executed executed(List<WriteOutcome> outcomes) {
        assertThat(outcomes).hasSize(1);
        return executed(outcomes.get(0));
    }

    private static OpResult.Written written(OpResult result) {
        assertThat(result).isInstanceOf(OpResult.Written.class);
        return (OpResult.Written) result;
    }

    private static OpResult.Written written(WriteOutcome outcome) {
        return written(executed(outcome).results().get(0));
    }

    private static OpResult.Found found(OpResult result) {
        assertThat(result).isInstanceOf(OpResult.Found.class);
        return (OpResult.Found) result;
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The memory engine, recording the durability of every write and able to list keyspaces. */
    static final class RecordingEngine implements StorageEngine {
        final MemoryEngine memory;
        final List<Durability> writes = new ArrayList<>();

        RecordingEngine(MemoryEngine memory) {
            this.memory = memory;
        }

        @Override
        public byte[] get(byte[] key) {
            return memory.get(key);
        }

        @Override
        public void write(WriteBatch batch, Durability durability) {
            writes.add(durability);
            memory.write(batch, durability);
        }

        @Override
        public List<Entry> scan(byte[] fromInclusive, byte[] toExclusive, int limit, long maxBytes) {
            return memory.scan(fromInclusive, toExclusive, limit, maxBytes);
        }

        @Override
        public void close() {
            memory.close();
        }

        List<String> dump() {
            List<String> out = new ArrayList<>();
            for (Entry e : memory.scan(new byte[0], null, Integer.MAX_VALUE)) {
                out.add(HexFormat.of().formatHex(e.key()) + "=" + HexFormat.of().formatHex(e.value()));
            }
            return out;
        }

        List<Entry> dataKeys() {
            return memory.scan(new byte[] {Keyspace.DATA}, new byte[] {Keyspace.DATA + 1}, Integer.MAX_VALUE);
        }

        List<Entry> expiryKeys() {
            return memory.scan(new byte[] {Keyspace.EXPIRY}, new byte[] {Keyspace.EXPIRY + 1}, Integer.MAX_VALUE);
        }
    }
}
