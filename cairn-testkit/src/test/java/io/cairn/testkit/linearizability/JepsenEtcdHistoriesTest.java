package io.cairn.testkit.linearizability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.testkit.linearizability.JepsenRegisterLog.FailedCas;
import io.cairn.testkit.linearizability.RegisterModel.Op;
import io.cairn.testkit.linearizability.RegisterModel.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The checker against the 102 published Jepsen etcd register histories (the validation set of
 * Porcupine): every verdict must be the published one, and none undecided.
 *
 * <p>The histories are in this module's test resources ({@code jepsen-etcd-histories}, copied
 * from {@code shared/data}; see its README), or wherever {@code -Dcairn.jepsen.etcd} points.
 * Without them the test fails: a validation that can be skipped is no validation.
 *
 * <p>Cost is bounded by steps, which do not depend on the machine: the whole set needs about
 * 3.8 million (the largest history 1.4 million), and a history may use at most 10 million, so
 * a search that went exponential would come out UNKNOWN and fail here. The wall-clock timeout is
 * only a backstop (the set takes a few seconds).
 */
class JepsenEtcdHistoriesTest {
    private static final long STEPS_PER_HISTORY = 10_000_000;
    private static final long STEPS_IN_ALL = 20_000_000;
    private static final RegisterModel<Integer> REGISTER = new RegisterModel<>();

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void everyPublishedVerdictComesOutWithinTheStepBudget() throws IOException {
        Map<Integer, Boolean> expected = expected();
        assertThat(expected).hasSize(102);
        assertThat(expected.values()).filteredOn(v -> v).hasSize(23);

        List<String> wrong = new ArrayList<>();
        long steps = 0;
        for (Map.Entry<Integer, Boolean> e : expected.entrySet()) {
            CheckResult<Op<Integer>, Result<Integer>> r = check(e.getKey(), FailedCas.COMPARE_FAILED);
            steps += r.steps();
            Verdict want = e.getValue() ? Verdict.LINEARIZABLE : Verdict.NOT_LINEARIZABLE;
            if (r.verdict() != want) {
                wrong.add(name(e.getKey()) + ": " + r.verdict() + ", published " + want + ". " + r.explanation());
            }
        }
        assertThat(wrong).isEmpty();
        assertThat(steps).isLessThan(STEPS_IN_ALL);
    }

    /** Knossos's reading of a failed cas (it did not happen) agrees on every history here. */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void theDataSetDoesNotTellTheTwoReadingsOfAFailedCasApart() throws IOException {
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<Integer, Boolean> e : expected().entrySet()) {
            CheckResult<Op<Integer>, Result<Integer>> r = check(e.getKey(), FailedCas.DID_NOT_HAPPEN);
            if (r.verdict() != (e.getValue() ? Verdict.LINEARIZABLE : Verdict.NOT_LINEARIZABLE)) {
                wrong.add(name(e.getKey()) + ": " + r.verdict());
            }
        }
        assertThat(wrong).isEmpty();
    }

    @Test
    void aViolationIsExplainedWithLogLines() throws IOException {
        CheckResult<Op<Integer>, Result<Integer>> r = check(0, FailedCas.COMPARE_FAILED);

        assertThat(r.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
        CheckResult.Counterexample<Op<Integer>, Result<Integer>> cex = r.counterexample().orElseThrow();
        // Lines 85-86 of etcd_000.log: process 11 reads 2, and no order of what came before
        // leaves 2 in the register then (the write of 2 at lines 65-69 was followed by a
        // completed write of 1 at lines 74-75).
        assertThat(cex.blocked().returnTime()).isEqualTo(86);
        assertThat(cex.blocked().input()).isEqualTo(RegisterModel.read());
        assertThat(cex.blocked().output()).isEqualTo(Result.returned(2));
        assertThat(cex.linearized()).hasSize(43).last()
                .satisfies(op -> assertThat(op.input()).isEqualTo(RegisterModel.write(0)));
        assertThat(r.explanation()).contains("at most 43 of 85 operations", "read -> 2 [85, 86]");
    }

    @Test
    void parsesTabsAndSpacesAndEveryKindOfCompletion() {
        List<String> log = List.of(
                "INFO  jepsen.util - 0\t:invoke\t:write\t3",
                "INFO  jepsen.util - 1   :invoke :cas    [3 4]",
                "INFO  jepsen.util - 2   :invoke :read   nil",
                "INFO  jepsen.util - 3   :invoke :cas    [1 2]",
                "INFO  jepsen.util - 0\t:ok\t:write\t3",
                "INFO  jepsen.util - 1   :info   :cas    :timed-out",
                "INFO  jepsen.util - 2   :fail   :read   :timed-out",
                "INFO  jepsen.util - 3   :fail   :cas    [1 2]",
                "",
                "INFO  jepsen.util - 4   :invoke :read   nil",
                "INFO  jepsen.util - 4   :ok     :read   nil",
                "INFO  jepsen.util - 5   :invoke :write  7");

        History<Op<Integer>, Result<Integer>> h = JepsenRegisterLog.parse(log);

        assertThat(h.operations()).extracting(Operation::toString).containsExactly(
                "#0 client 0 write 3 -> ok [1, 5]",
                "#1 client 1 cas 3->4 -> unknown [2, ?]",
                "#2 client 3 cas 1->2 -> failed [4, 8]",
                "#3 client 4 read -> ok [10, 11]",
                "#4 client 5 write 7 -> unknown [12, ?]");
        assertThat(h.operations().get(3).output()).isEqualTo(Result.returned(null));
        assertThat(JepsenRegisterLog.parse(log, FailedCas.DID_NOT_HAPPEN).operations())
                .extracting(Operation::input)
                .doesNotContain(RegisterModel.cas(1, 2));
    }

    @Test
    void refusesWhatItDoesNotUnderstand() {
        assertThatThrownBy(() -> JepsenRegisterLog.parse(List.of("INFO  jepsen.util - 0 :ok :read 1")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("line 1");
        assertThatThrownBy(() -> JepsenRegisterLog.parse(List.of(
                "INFO  jepsen.util - 0 :invoke :read nil", "INFO  jepsen.util - 0 :ok :write 1")))
                .hasMessageContaining("line 2").hasMessageContaining("invoked :read");
        assertThatThrownBy(() -> JepsenRegisterLog.parse(List.of("INFO  jepsen.util - 0 :invoke :cas 1")))
                .hasMessageContaining("[expected new]");
        assertThatThrownBy(() -> JepsenRegisterLog.parse(List.of("something else")))
                .hasMessageContaining("not a jepsen.util event");
    }

    private static CheckResult<Op<Integer>, Result<Integer>> check(int n, FailedCas failedCas) throws IOException {
        History<Op<Integer>, Result<Integer>> h = JepsenRegisterLog.parse(
                Files.readAllLines(directory().resolve(name(n) + ".log")), failedCas);
        return LinearizabilityChecker.check(REGISTER, h, Budget.DEFAULT.withMaxSteps(STEPS_PER_HISTORY));
    }

    private static String name(int n) {
        return String.format("etcd_%03d", n);
    }

    private static Map<Integer, Boolean> expected() throws IOException {
        Map<Integer, Boolean> out = new LinkedHashMap<>();
        for (String line : Files.readAllLines(directory().resolve("expected.txt"))) {
            if (!line.isBlank()) {
                String[] f = line.trim().split("\\s+");
                out.put(Integer.parseInt(f[0]), Boolean.parseBoolean(f[1]));
            }
        }
        return out;
    }

    private static Path directory() {
        String configured = System.getProperty("cairn.jepsen.etcd");
        if (configured != null) {
            return Path.of(configured);
        }
        Path bundled = Path.of("src/test/resources/jepsen-etcd-histories");
        if (!Files.isRegularFile(bundled.resolve("expected.txt"))) {
            throw new AssertionError("the Jepsen etcd histories are missing from " + bundled.toAbsolutePath()
                    + " (or point -Dcairn.jepsen.etcd=<dir> at them)");
        }
        return bundled;
    }
}
