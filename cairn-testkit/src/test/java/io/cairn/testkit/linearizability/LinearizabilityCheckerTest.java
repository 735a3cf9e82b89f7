package io.cairn.testkit.linearizability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.testkit.linearizability.RegisterModel.Op;
import io.cairn.testkit.linearizability.RegisterModel.Result;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The checker on small hand-written histories of a register, with explicit times. */
class LinearizabilityCheckerTest {
    private static final RegisterModel<Integer> REGISTER = new RegisterModel<>();
    private final History.Builder<Op<Integer>, Result<Integer>> h = History.builder();

    private static Op<Integer> read() {
        return RegisterModel.read();
    }

    private static Op<Integer> write(int v) {
        return RegisterModel.write(v);
    }

    private static Op<Integer> cas(Integer expected, Integer update) {
        return RegisterModel.cas(expected, update);
    }

    private static Result<Integer> ok() {
        return Result.ok();
    }

    private static Result<Integer> returned(Integer v) {
        return Result.returned(v);
    }

    private CheckResult<Op<Integer>, Result<Integer>> check() {
        return LinearizabilityChecker.check(REGISTER, h.build());
    }

    @Nested
    class Classics {
        @Test
        void aReadConcurrentWithAWriteMaySeeEitherValue() {
            h.add(0, write(1), ok(), 0, 10);
            h.add(1, read(), returned(1), 2, 5);
            assertThat(check().verdict()).isEqualTo(Verdict.LINEARIZABLE);

            History.Builder<Op<Integer>, Result<Integer>> before = History.builder();
            before.add(0, write(1), ok(), 0, 10);
            before.add(1, read(), returned(null), 2, 5);
            assertThat(LinearizabilityChecker.check(REGISTER, before.build()).verdict())
                    .isEqualTo(Verdict.LINEARIZABLE);
        }

        @Test
        void readingTheOldValueAfterAWriteCompletedIsNot() {
            h.add(0, write(1), ok(), 0, 1);
            h.add(0, write(2), ok(), 2, 3);
            h.add(1, read(), returned(1), 4, 5);

            CheckResult<Op<Integer>, Result<Integer>> r = check();

            assertThat(r.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
            CheckResult.Counterexample<Op<Integer>, Result<Integer>> cex = r.counterexample().orElseThrow();
            assertThat(cex.linearized()).extracting(Operation::id).containsExactly(0, 1);
            assertThat(cex.state()).isEqualTo(Optional.of(2));
            assertThat(cex.blocked().id()).isEqualTo(2);
            assertThat(cex.candidates()).singleElement().satisfies(c -> assertThat(c.refused()).isTrue());
            assertThat(r.explanation()).isEqualTo("""
                    not linearizable: at most 2 of 3 operations can be placed, in this order (all)
                      #0 client 0 write 1 -> ok [0, 1]
                      #1 client 0 write 2 -> ok [2, 3]
                    leaving state Optional[2]. Then #2 client 1 read -> 1 [4, 5] must take effect \
                    before it returns, but nothing pending can come next:
                      #2 client 1 read -> 1 [4, 5]  (refused in that state)""");
        }

        @Test
        void twoReadersSeeingConcurrentWritesInOppositeOrdersIsNot() {
            h.add(0, write(1), ok(), 0, 10);
            h.add(1, write(2), ok(), 0, 10);
            h.add(2, read(), returned(1), 1, 2);
            h.add(2, read(), returned(2), 3, 4);
            h.add(3, read(), returned(2), 1, 2);
            h.add(3, read(), returned(1), 3, 4);

            assertThat(check().verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
        }

        @Test
        void aWriteReturningWhenAReadIsInvokedOverlapsIt() {
            h.add(0, write(1), ok(), 0, 5);
            h.add(1, read(), returned(null), 5, 6);
            assertThat(check().verdict()).isEqualTo(Verdict.LINEARIZABLE);

            h.add(1, read(), returned(null), 7, 8);
            assertThat(check().verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
        }

        @Test
        void anEmptyHistoryIsLinearizable() {
            assertThat(check().verdict()).isEqualTo(Verdict.LINEARIZABLE);
        }
    }

    @Nested
    class Indeterminate {
        @Test
        void anUnknownWriteMayTakeEffectLaterAndExplainARead() {
            h.add(0, write(1), ok(), 0, 1);
            h.addIndeterminate(1, write(2), 2);
            h.add(2, read(), returned(2), 10, 11);
            assertThat(check().verdict()).isEqualTo(Verdict.LINEARIZABLE);
        }

        @Test
        void withoutItTheReadIsUnexplained() {
            h.add(0, write(1), ok(), 0, 1);
            h.add(2, read(), returned(2), 10, 11);
            assertThat(check().verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
        }

        @Test
        void anUnknownWriteMayNeverTakeEffect() {
            h.add(0, write(1), ok(), 0, 1);
            h.addIndeterminate(1, write(2), 2);
            h.add(2, read(), returned(1), 10, 11);
            h.add(2, read(), returned(1), 12, 13);
            assertThat(check().verdict()).isEqualTo(Verdict.LINEARIZABLE);
        }

        @Test
        void butNotBeforeItWasInvoked() {
            h.add(2, read(), returned(2), 0, 1);
            h.addIndeterminate(1, write(2), 2);
            assertThat(check().verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
        }

        @Test
        void andOnlyOnce() {
            h.add(0, write(1), ok(), 0, 1);
            h.addIndeterminate(1, write(2), 2);
            h.add(2, read(), returned(2), 3, 4);
            h.add(2, read(), returned(1), 5, 6);
            assertThat(check().verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
        }

        @Test
        void eventsLeftPendingOrInfoAreIndeterminateAndFailedOnesAreLeftOut() {
            h.invoke(0, write(1)).ok(0, ok());
            h.invoke(1, write(2)).info(1);
            h.invoke(1, write(3)).fail(1);
            h.invoke(2, cas(1, 4));
            History<Op<Integer>, Result<Integer>> history = h.build();

            assertThat(history.operations()).extracting(Operation::toString).containsExactly(
                    "#0 client 0 write 1 -> ok [0, 1]",
                    "#1 client 1 write 2 -> unknown [2, ?]",
                    "#2 client 2 cas 1->4 -> unknown [6, ?]");
        }
    }

    @Nested
    class CompareAndSet {
        @Test
        void succeedsOnlyAgainstTheValueHeld() {
            h.add(0, write(1), ok(), 0, 1);
            h.add(0, cas(1, 2), ok(), 2, 3);
            h.add(1, read(), returned(2), 4, 5);
            assertThat(check().verdict()).isEqualTo(Verdict.LINEARIZABLE);

            h.add(0, cas(1, 3), ok(), 6, 7);
            assertThat(check().verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
        }

        @Test
        void aFailedCompareIsEvidenceToo() {
            h.add(0, write(1), ok(), 0, 1);
            h.add(1, cas(1, 2), Result.failed(), 2, 3);
            assertThat(check().verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);

            History.Builder<Op<Integer>, Result<Integer>> concurrent = History.builder();
            concurrent.add(0, write(1), ok(), 0, 3);
            concurrent.add(1, cas(1, 2), Result.failed(), 2, 3);
            assertThat(LinearizabilityChecker.check(REGISTER, concurrent.build()).verdict())
                    .isEqualTo(Verdict.LINEARIZABLE);
        }

        @Test
        void anUnknownCasTakesEffectOnlyIfItsCompareHolds() {
            h.add(0, write(1), ok(), 0, 1);
            h.addIndeterminate(1, cas(5, 2), 2);
            h.add(2, read(), returned(2), 3, 4);
            assertThat(check().verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
        }
    }

    @Nested
    class Keys {
        private final KeyedModel<String, Optional<Integer>, Op<Integer>, Result<Integer>> kv =
                KeyedModel.of(REGISTER);
        private final History.Builder<Keyed<String, Op<Integer>>, Result<Integer>> k = History.builder();

        @Test
        void eachKeyIsCheckedOnItsOwnAndTheViolationNamesItsKey() {
            k.add(0, Keyed.on("a", write(1)), ok(), 0, 1);
            k.add(0, Keyed.on("b", write(1)), ok(), 2, 3);
            k.add(1, Keyed.on("a", read()), returned(1), 4, 5);
            k.add(1, Keyed.on("b", read()), returned(null), 6, 7);

            CheckResult<Keyed<String, Op<Integer>>, Result<Integer>> r = LinearizabilityChecker.check(kv, k.build());

            assertThat(r.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
            assertThat(r.partitions()).isEqualTo(2);
            assertThat(r.counterexample().orElseThrow().partitionKey()).isEqualTo("b");
            assertThat(r.counterexample().orElseThrow().state()).isEqualTo(Map.of("b", Optional.of(1)));
            assertThat(r.explanation()).startsWith("not linearizable in partition b: at most 1 of 2");
        }

        @Test
        void manyKeysCostTheSumOfTheirPartsNotTheProduct() {
            // 200 keys, each with three writers overlapping and readers seeing every order.
            for (int key = 0; key < 200; key++) {
                String name = "k" + key;
                long t = key * 10L;
                k.add(0, Keyed.on(name, write(1)), ok(), t, t + 5);
                k.add(1, Keyed.on(name, write(2)), ok(), t, t + 5);
                k.add(2, Keyed.on(name, write(3)), ok(), t, t + 5);
                k.add(3, Keyed.on(name, read()), returned(key % 3 + 1), t + 1, t + 4);
            }
            CheckResult<Keyed<String, Op<Integer>>, Result<Integer>> r = LinearizabilityChecker.check(kv, k.build());

            assertThat(r.verdict()).isEqualTo(Verdict.LINEARIZABLE);
            assertThat(r.partitions()).isEqualTo(200);
            assertThat(r.steps()).isLessThan(200 * 50);
        }

        @Test
        void theKeyedStateForgetsKeysBackAtTheInitialState() {
            Map<String, Optional<Integer>> s = kv.step(kv.initialState(), Keyed.on("a", write(1)), ok());
            assertThat(s).isEqualTo(Map.of("a", Optional.of(1)));
            s = kv.step(s, Keyed.on("b", write(2)), ok());
            assertThat(s).isEqualTo(Map.of("a", Optional.of(1), "b", Optional.of(2)));
            assertThat(kv.step(s, Keyed.on("a", RegisterModel.write(null)), ok())).isEqualTo(Map.of("b", Optional.of(2)));
            assertThat(kv.step(s, Keyed.on("a", read()), returned(2))).isNull();
        }
    }

    @Nested
    class Budgets {
        private History<Op<Integer>, Result<Integer>> hard() {
            // Eight concurrent writes of distinct values and a read that sees none of them:
            // every order of the writes has to be ruled out.
            for (int i = 0; i < 8; i++) {
                h.add(i, write(i + 1), ok(), 0, 10);
            }
            h.add(9, read(), returned(99), 11, 12);
            return h.build();
        }

        @Test
        void runningOutOfStepsIsUnknownNeverAGuess() {
            History<Op<Integer>, Result<Integer>> history = hard();
            CheckResult<Op<Integer>, Result<Integer>> full = LinearizabilityChecker.check(REGISTER, history);
            assertThat(full.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);

            CheckResult<Op<Integer>, Result<Integer>> cut = LinearizabilityChecker.check(REGISTER, history,
                    Budget.DEFAULT.withMaxSteps(full.steps() - 1));
            assertThat(cut.verdict()).isEqualTo(Verdict.UNKNOWN);
            assertThat(cut.counterexample()).isEmpty();
            assertThat(cut.steps()).isEqualTo(full.steps() - 1);
            assertThat(cut.explanation()).contains("step budget (" + (full.steps() - 1) + ") ran out");
        }

        @Test
        void aFullMemoCostsStepsButNotCorrectness() {
            History<Op<Integer>, Result<Integer>> history = hard();
            CheckResult<Op<Integer>, Result<Integer>> full = LinearizabilityChecker.check(REGISTER, history);
            CheckResult<Op<Integer>, Result<Integer>> small = LinearizabilityChecker.check(REGISTER, history,
                    Budget.DEFAULT.withMaxMemoEntries(16));

            assertThat(small.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
            assertThat(small.memoSaturated()).isTrue();
            assertThat(small.largestMemo()).isEqualTo(16);
            assertThat(small.steps()).isGreaterThan(full.steps());
            assertThat(full.memoSaturated()).isFalse();
        }

        @Test
        void theSameHistoryAlwaysGivesTheSameResult() {
            History<Op<Integer>, Result<Integer>> history = hard();
            assertThat(LinearizabilityChecker.check(REGISTER, history))
                    .isEqualTo(LinearizabilityChecker.check(REGISTER, history));
        }
    }

    /** Any model: here a lock, whose acquire cannot take effect while someone else holds it. */
    @Nested
    class OtherModels {
        private record Acquire(int client) {}

        private record Release(int client) {}

        /** The state is the holder, or -1. Every operation answers "done" (true). */
        private static final class Lock implements Model<Integer, Record, Boolean> {
            @Override
            public Integer initialState() {
                return -1;
            }

            @Override
            public Integer step(Integer holder, Record input, Boolean done) {
                return stepUnknownOutput(holder, input);
            }

            @Override
            public Integer stepUnknownOutput(Integer holder, Record input) {
                return switch (input) {
                    case Acquire a -> holder == -1 ? a.client() : null;
                    case Release r -> holder == r.client() ? -1 : null;
                    default -> throw new IllegalArgumentException();
                };
            }
        }

        private final History.Builder<Record, Boolean> l = History.builder();

        @Test
        void anUnknownOperationThatCouldNeverHaveTakenEffectIsLeftOut() {
            l.add(1, new Acquire(1), true, 0, 1);
            l.addIndeterminate(2, new Acquire(2), 2);
            l.add(1, new Release(1), true, 3, 4);
            l.add(3, new Acquire(3), true, 5, 6);

            assertThat(LinearizabilityChecker.check(new Lock(), l.build()).verdict()).isEqualTo(Verdict.LINEARIZABLE);
        }

        @Test
        void twoHoldersAtOnceAreNot() {
            l.add(1, new Acquire(1), true, 0, 1);
            l.add(2, new Acquire(2), true, 2, 3);
            l.add(1, new Release(1), true, 4, 5);

            CheckResult<Record, Boolean> r = LinearizabilityChecker.check(new Lock(), l.build());
            assertThat(r.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
            assertThat(r.counterexample().orElseThrow().blocked().client()).isEqualTo(2);
        }
    }

    @Nested
    class Histories {
        @Test
        void aClientHasOneOperationPendingAtATime() {
            h.invoke(0, read());
            assertThatThrownBy(() -> h.invoke(0, read())).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> h.ok(1, ok())).isInstanceOf(IllegalStateException.class);
        }

        @Test
        void timeNeverGoesBack() {
            h.at(5).invoke(0, read());
            assertThatThrownBy(() -> h.at(5)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> new Operation<Op<Integer>, Result<Integer>>(0, 0, read(), ok(), 5, 4))
                    .isInstanceOf(IllegalArgumentException.class);
        }

        @Test
        void operationsAreOrderedByInvocation() {
            h.add(0, write(1), ok(), 5, 6);
            h.add(1, write(2), ok(), 1, 9);
            assertThat(h.build().operations()).extracting(Operation::input).containsExactly(write(2), write(1));
        }
    }
}
