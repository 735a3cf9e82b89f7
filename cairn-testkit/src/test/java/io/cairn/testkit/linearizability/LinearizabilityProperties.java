package io.cairn.testkit.linearizability;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.testkit.linearizability.RegisterModel.Cas;
import io.cairn.testkit.linearizability.RegisterModel.Op;
import io.cairn.testkit.linearizability.RegisterModel.Read;
import io.cairn.testkit.linearizability.RegisterModel.Result;
import io.cairn.testkit.linearizability.RegisterModel.Write;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Seeded generated histories. Histories recorded from a real register, with concurrent clients,
 * random overlaps and unknown outcomes, are always linearizable; each kind of mutation that
 * makes one impossible is caught; and on tiny random histories the checker agrees with a brute
 * force enumeration of every order.
 */
class LinearizabilityProperties {
    private static final RegisterModel<Integer> REGISTER = new RegisterModel<>();
    private static final int SEEDS = 400;
    private static final int NEVER_WRITTEN = -1;

    @Test
    void historiesOfARealRegisterAreLinearizable() {
        for (int seed = 0; seed < SEEDS; seed++) {
            History<Op<Integer>, Result<Integer>> h = record(new Random(seed));
            CheckResult<Op<Integer>, Result<Integer>> r = LinearizabilityChecker.check(REGISTER, h);
            assertThat(r.verdict()).as("seed %d\n%s", seed, h).isEqualTo(Verdict.LINEARIZABLE);
        }
    }

    @Test
    void aReadOfAValueNeverWrittenIsCaught() {
        int caught = 0;
        for (int seed = 0; seed < SEEDS; seed++) {
            Random random = new Random(seed);
            History<Op<Integer>, Result<Integer>> h = record(random);
            List<Operation<Op<Integer>, Result<Integer>>> reads = completed(h, Read.class);
            if (reads.isEmpty()) {
                continue;
            }
            Operation<Op<Integer>, Result<Integer>> read = reads.get(random.nextInt(reads.size()));
            assertNotLinearizable(seed, h.with(withOutput(read, Result.returned(NEVER_WRITTEN))));
            caught++;
        }
        assertThat(caught).isGreaterThan(SEEDS * 9 / 10);
    }

    @Test
    void aStaleReadAfterALaterWriteCompletedIsCaught() {
        int caught = 0;
        for (int seed = 0; seed < SEEDS; seed++) {
            Random random = new Random(seed);
            History<Op<Integer>, Result<Integer>> h = record(random);
            // A read invoked after a write w completed, changed to return the value of a write
            // that completed before w was invoked (or the initial empty register). Every value
            // is written once, so nothing else can bring it back.
            List<Operation<Op<Integer>, Result<Integer>>[]> stale = new ArrayList<>();
            for (Operation<Op<Integer>, Result<Integer>> read : completed(h, Read.class)) {
                for (Operation<Op<Integer>, Result<Integer>> w : definiteWrites(h)) {
                    if (w.returnTime() < read.invokeTime()) {
                        for (Operation<Op<Integer>, Result<Integer>> old : definiteWrites(h)) {
                            if (old.returnTime() < w.invokeTime()) {
                                stale.add(pair(read, old));
                            }
                        }
                        stale.add(pair(read, null));
                    }
                }
            }
            if (stale.isEmpty()) {
                continue;
            }
            Operation<Op<Integer>, Result<Integer>>[] pick = stale.get(random.nextInt(stale.size()));
            Integer old = pick[1] == null ? null : written(pick[1]);
            assertNotLinearizable(seed, h.with(withOutput(pick[0], Result.returned(old))));
            caught++;
        }
        assertThat(caught).isGreaterThan(SEEDS / 2);
    }

    @Test
    void aCasSucceedingAgainstTheWrongValueIsCaught() {
        int caught = 0;
        for (int seed = 0; seed < SEEDS; seed++) {
            Random random = new Random(seed);
            History<Op<Integer>, Result<Integer>> h = record(random);
            List<Operation<Op<Integer>, Result<Integer>>> swaps = new ArrayList<>();
            for (Operation<Op<Integer>, Result<Integer>> op : completed(h, Cas.class)) {
                if (op.output().succeeded()) {
                    swaps.add(op);
                }
            }
            if (swaps.isEmpty()) {
                continue;
            }
            Operation<Op<Integer>, Result<Integer>> swap = swaps.get(random.nextInt(swaps.size()));
            Cas<Integer> cas = (Cas<Integer>) swap.input();
            // Expecting a value never held, or one overwritten before the cas was invoked.
            Integer expected = NEVER_WRITTEN;
            for (Operation<Op<Integer>, Result<Integer>> w : definiteWrites(h)) {
                if (w.returnTime() < swap.invokeTime()) {
                    for (Operation<Op<Integer>, Result<Integer>> old : definiteWrites(h)) {
                        if (old.returnTime() < w.invokeTime() && random.nextBoolean()) {
                            expected = written(old);
                        }
                    }
                }
            }
            Operation<Op<Integer>, Result<Integer>> wrong = new Operation<>(swap.id(), swap.client(),
                    RegisterModel.cas(expected, cas.update()), swap.output(), swap.invokeTime(), swap.returnTime());
            assertNotLinearizable(seed, h.with(wrong));
            caught++;
        }
        assertThat(caught).isGreaterThan(SEEDS / 2);
    }

    @Test
    void keyedHistoriesAreCheckedPerKeyAndAViolationNamesItsKey() {
        KeyedModel<Integer, Optional<Integer>, Op<Integer>, Result<Integer>> kv = KeyedModel.of(REGISTER);
        for (int seed = 0; seed < SEEDS / 4; seed++) {
            Random random = new Random(seed);
            int keys = 2 + random.nextInt(6);
            List<History<Op<Integer>, Result<Integer>>> perKey = new ArrayList<>();
            for (int k = 0; k < keys; k++) {
                perKey.add(record(random));
            }
            CheckResult<Keyed<Integer, Op<Integer>>, Result<Integer>> fine =
                    LinearizabilityChecker.check(kv, interleave(perKey, random));
            assertThat(fine.verdict()).as("seed %d", seed).isEqualTo(Verdict.LINEARIZABLE);
            assertThat(fine.partitions()).isEqualTo(keys);

            int broken = random.nextInt(keys);
            History<Op<Integer>, Result<Integer>> bad = perKey.get(broken);
            List<Operation<Op<Integer>, Result<Integer>>> reads = completed(bad, Read.class);
            if (reads.isEmpty()) {
                continue;
            }
            perKey.set(broken, bad.with(withOutput(reads.get(random.nextInt(reads.size())),
                    Result.returned(NEVER_WRITTEN))));
            CheckResult<Keyed<Integer, Op<Integer>>, Result<Integer>> r =
                    LinearizabilityChecker.check(kv, interleave(perKey, random));
            assertThat(r.verdict()).as("seed %d", seed).isEqualTo(Verdict.NOT_LINEARIZABLE);
            assertThat(r.counterexample().orElseThrow().partitionKey()).isEqualTo(broken);
        }
    }

    /** On tiny random histories (mostly impossible ones) the search agrees with brute force. */
    @Test
    void agreesWithEnumeratingEveryOrderOnTinyHistories() {
        int[] verdicts = new int[2];
        for (int seed = 0; seed < 3000; seed++) {
            Random random = new Random(seed);
            History.Builder<Op<Integer>, Result<Integer>> b = History.builder();
            int n = 1 + random.nextInt(7);
            for (int i = 0; i < n; i++) {
                Op<Integer> input = switch (random.nextInt(3)) {
                    case 0 -> RegisterModel.read();
                    case 1 -> RegisterModel.write(1 + random.nextInt(3));
                    default -> RegisterModel.cas(small(random), 1 + random.nextInt(3));
                };
                long invoke = random.nextInt(12);
                if (random.nextInt(5) == 0) {
                    b.addIndeterminate(i, input, invoke);
                } else {
                    Result<Integer> output = switch (input) {
                        case Read<Integer> r -> Result.returned(small(random));
                        case Write<Integer> w -> Result.ok();
                        case Cas<Integer> c -> random.nextBoolean() ? Result.ok() : Result.failed();
                    };
                    b.add(i, input, output, invoke, invoke + random.nextInt(6));
                }
            }
            History<Op<Integer>, Result<Integer>> h = b.build();
            boolean expected = bruteForce(h.operations(), new boolean[n], REGISTER.initialState());
            Verdict v = LinearizabilityChecker.check(REGISTER, h).verdict();
            assertThat(v).as("seed %d\n%s", seed, h)
                    .isEqualTo(expected ? Verdict.LINEARIZABLE : Verdict.NOT_LINEARIZABLE);
            verdicts[expected ? 1 : 0]++;
        }
        assertThat(verdicts[0]).as("not linearizable").isGreaterThan(500);
        assertThat(verdicts[1]).as("linearizable").isGreaterThan(500);
    }

    private static Integer small(Random random) {
        int v = random.nextInt(4);
        return v == 0 ? null : v;
    }

    /**
     * Whether the operations not yet placed can follow: some one of them, all of whose completed
     * real-time predecessors are placed, is allowed next and the rest can follow it; or only
     * indeterminate ones are left (they never took effect).
     */
    private static boolean bruteForce(List<Operation<Op<Integer>, Result<Integer>>> ops, boolean[] placed,
            Optional<Integer> state) {
        boolean onlyIndeterminate = true;
        for (int i = 0; i < ops.size(); i++) {
            if (!placed[i] && !ops.get(i).isIndeterminate()) {
                onlyIndeterminate = false;
            }
        }
        if (onlyIndeterminate) {
            return true;
        }
        for (int i = 0; i < ops.size(); i++) {
            Operation<Op<Integer>, Result<Integer>> op = ops.get(i);
            if (placed[i] || !minimal(ops, placed, op)) {
                continue;
            }
            Optional<Integer> next = op.isIndeterminate() ? REGISTER.stepUnknownOutput(state, op.input())
                    : REGISTER.step(state, op.input(), op.output());
            if (next != null) {
                placed[i] = true;
                boolean ok = bruteForce(ops, placed, next);
                placed[i] = false;
                if (ok) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean minimal(List<Operation<Op<Integer>, Result<Integer>>> ops, boolean[] placed,
            Operation<Op<Integer>, Result<Integer>> op) {
        for (int j = 0; j < ops.size(); j++) {
            if (!placed[j] && ops.get(j).returnTime() < op.invokeTime()) {
                return false;
            }
        }
        return true;
    }

    /**
     * Runs 2 to 6 clients against one real register, one event at a time in random order: a
     * client invokes, its operation takes effect at a later event, and it returns at a later one
     * still, so intervals overlap at random. About one write or cas in eight times out (before or
     * after taking effect); one that timed out before taking effect may take effect at any later
     * event, or never. Every value written (by a write or a cas) is new.
     */
    private static History<Op<Integer>, Result<Integer>> record(Random random) {
        int clients = 2 + random.nextInt(5);
        int operations = 10 + random.nextInt(70);
        History.Builder<Op<Integer>, Result<Integer>> h = History.builder();
        Integer[] register = {null};
        int[] nextValue = {1};
        List<Integer> everWritten = new ArrayList<>();
        Op<Integer>[] pending = newOps(clients);
        @SuppressWarnings("unchecked")
        Result<Integer>[] answer = new Result[clients];
        List<Op<Integer>> floating = new ArrayList<>();
        int issued = 0;
        int busy = 0;
        while (issued < operations || busy > 0) {
            if (!floating.isEmpty() && random.nextInt(10) == 0) {
                apply(floating.remove(random.nextInt(floating.size())), register);
                continue;
            }
            int c = random.nextInt(clients);
            if (pending[c] == null) {
                if (issued == operations) {
                    continue;
                }
                Op<Integer> op = switch (random.nextInt(10)) {
                    case 0, 1, 2, 3 -> RegisterModel.read();
                    case 4, 5, 6 -> RegisterModel.write(nextValue[0]++);
                    default -> RegisterModel.cas(random.nextBoolean() || everWritten.isEmpty() ? register[0]
                            : everWritten.get(random.nextInt(everWritten.size())), nextValue[0]++);
                };
                if (!(op instanceof Read<Integer>)) {
                    everWritten.add(nextValue[0] - 1);
                }
                h.invoke(c, op);
                pending[c] = op;
                answer[c] = null;
                issued++;
                busy++;
            } else if (answer[c] == null) {
                if (!(pending[c] instanceof Read<Integer>) && random.nextInt(16) == 0) {
                    h.info(c); // timed out before taking effect: may still, later
                    floating.add(pending[c]);
                    pending[c] = null;
                    busy--;
                } else {
                    answer[c] = apply(pending[c], register);
                }
            } else {
                if (random.nextInt(16) == 0) {
                    h.info(c); // took effect, but the answer was lost
                } else {
                    h.ok(c, answer[c]);
                }
                pending[c] = null;
                busy--;
            }
        }
        return h.build();
    }

    @SuppressWarnings("unchecked")
    private static Op<Integer>[] newOps(int n) {
        return new Op[n];
    }

    private static Result<Integer> apply(Op<Integer> op, Integer[] register) {
        return switch (op) {
            case Read<Integer> r -> Result.returned(register[0]);
            case Write<Integer> w -> {
                register[0] = w.value();
                yield Result.ok();
            }
            case Cas<Integer> c -> {
                if (java.util.Objects.equals(register[0], c.expected())) {
                    register[0] = c.update();
                    yield Result.ok();
                }
                yield Result.failed();
            }
        };
    }

    /** Operations of several independent histories as one history of keys 0, 1, ... */
    private static History<Keyed<Integer, Op<Integer>>, Result<Integer>> interleave(
            List<History<Op<Integer>, Result<Integer>>> perKey, Random random) {
        History.Builder<Keyed<Integer, Op<Integer>>, Result<Integer>> b = History.builder();
        for (int k = 0; k < perKey.size(); k++) {
            long offset = random.nextInt(40);
            for (Operation<Op<Integer>, Result<Integer>> op : perKey.get(k).operations()) {
                Keyed<Integer, Op<Integer>> in = Keyed.on(k, op.input());
                if (op.isIndeterminate()) {
                    b.addIndeterminate(op.client(), in, op.invokeTime() + offset);
                } else {
                    b.add(op.client(), in, op.output(), op.invokeTime() + offset, op.returnTime() + offset);
                }
            }
        }
        return b.build();
    }

    private static void assertNotLinearizable(int seed, History<Op<Integer>, Result<Integer>> h) {
        CheckResult<Op<Integer>, Result<Integer>> r = LinearizabilityChecker.check(REGISTER, h);
        assertThat(r.verdict()).as("seed %d\n%s", seed, h).isEqualTo(Verdict.NOT_LINEARIZABLE);
        assertThat(r.counterexample()).isPresent();
    }

    private static List<Operation<Op<Integer>, Result<Integer>>> completed(History<Op<Integer>, Result<Integer>> h,
            Class<?> kind) {
        List<Operation<Op<Integer>, Result<Integer>>> out = new ArrayList<>();
        for (Operation<Op<Integer>, Result<Integer>> op : h.operations()) {
            if (!op.isIndeterminate() && kind.isInstance(op.input())) {
                out.add(op);
            }
        }
        return out;
    }

    /** Completed writes and successful cas: each certainly stored its (new) value in its interval. */
    private static List<Operation<Op<Integer>, Result<Integer>>> definiteWrites(History<Op<Integer>, Result<Integer>> h) {
        List<Operation<Op<Integer>, Result<Integer>>> out = new ArrayList<>(completed(h, Write.class));
        for (Operation<Op<Integer>, Result<Integer>> op : completed(h, Cas.class)) {
            if (op.output().succeeded()) {
                out.add(op);
            }
        }
        return out;
    }

    private static Integer written(Operation<Op<Integer>, Result<Integer>> op) {
        return switch (op.input()) {
            case Write<Integer> w -> w.value();
            case Cas<Integer> c -> c.update();
            case Read<Integer> r -> throw new IllegalArgumentException("a read writes nothing");
        };
    }

    private static Operation<Op<Integer>, Result<Integer>> withOutput(Operation<Op<Integer>, Result<Integer>> op,
            Result<Integer> output) {
        return new Operation<>(op.id(), op.client(), op.input(), output, op.invokeTime(), op.returnTime());
    }

    @SuppressWarnings("unchecked")
    private static Operation<Op<Integer>, Result<Integer>>[] pair(Operation<Op<Integer>, Result<Integer>> a,
            Operation<Op<Integer>, Result<Integer>> b) {
        return new Operation[] {a, b};
    }
}
