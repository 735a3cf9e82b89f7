package io.cairn.testkit.linearizability;

import java.util.List;

/**
 * Reads a Jepsen register history as logged by {@code jepsen.util}: one event a line,
 * {@code INFO jepsen.util - <process> <type> <f> <value>}, fields separated by tabs or spaces,
 * with type {@code :invoke}, {@code :ok}, {@code :fail} or {@code :info}, f {@code :read},
 * {@code :write} or {@code :cas}, and value {@code nil}, an integer, {@code [expected new]}, or
 * {@code :timed-out}. Lines are events in the order they happened; an event's time is its line
 * number (from 1), so a counterexample's times point at lines of the log.
 *
 * <h2>What the completions mean</h2>
 *
 * <ul>
 *   <li>{@code :ok}: the operation took effect between its invocation and this line, with this
 *       answer (a read's value; {@code nil} is the empty register).</li>
 *   <li>{@code :info} (always {@code :timed-out} here, for writes and cas): the outcome is
 *       unknown. The operation is indeterminate: it may take effect at any point after its
 *       invocation, even long after the timeout, or never. Jepsen gives the process a new number
 *       afterwards, so nothing else of that process is pending behind it.</li>
 *   <li>{@code :fail} of a read ({@code :timed-out}): left out. A read changes nothing, so a
 *       read that may or may not have happened, with an unknown answer, constrains nothing;
 *       leaving it out is exactly the same as keeping it as indeterminate, and cheaper.</li>
 *   <li>{@code :fail} of a cas: by default ({@link FailedCas#COMPARE_FAILED}) a completed cas
 *       whose compare failed, as Porcupine reads these logs. Jepsen's register clients of that
 *       time (etcd's among them) mark a cas {@code :fail} when the server answered that it did
 *       not swap, and a timeout {@code :info}; so the cas did happen, as a read that found
 *       something other than its expected value, between its invocation and this line. Knossos's general rule, "{@code :fail} means it did
 *       not happen" ({@link FailedCas#DID_NOT_HAPPEN}), drops that evidence: it is sound for any
 *       client but weaker. Both readings give the published verdict on all 102 histories (the
 *       data set does not tell them apart, which the tests check); the default is the one that
 *       matches what the client observed and that can catch more.</li>
 *   <li>a {@code :fail} of a write would be left out (it does not occur in these logs).</li>
 * </ul>
 *
 * <p>Operations still pending at the end of the log are indeterminate.
 */
public final class JepsenRegisterLog {
    private JepsenRegisterLog() {}

    /** How a {@code :fail}ed cas is read. */
    public enum FailedCas {
        /** It did not take effect: left out of the history (Knossos). */
        DID_NOT_HAPPEN,
        /** It took effect and its compare failed: a completed cas answered {@code failed()} (Porcupine). */
        COMPARE_FAILED
    }

    private static final String MARK = "jepsen.util - ";

    public static History<RegisterModel.Op<Integer>, RegisterModel.Result<Integer>> parse(List<String> lines) {
        return parse(lines, FailedCas.COMPARE_FAILED);
    }

    public static History<RegisterModel.Op<Integer>, RegisterModel.Result<Integer>> parse(List<String> lines,
            FailedCas failedCas) {
        History.Builder<RegisterModel.Op<Integer>, RegisterModel.Result<Integer>> h = History.builder();
        int number = 0;
        for (String line : lines) {
            number++;
            if (line.isBlank()) {
                continue;
            }
            h.at(number);
            int at = line.indexOf(MARK);
            String[] f = at < 0 ? new String[0] : line.substring(at + MARK.length()).trim().split("\\s+", 4);
            if (f.length != 4) {
                throw new IllegalArgumentException("line " + number + " is not a jepsen.util event: " + line);
            }
            try {
                int process = Integer.parseInt(f[0]);
                String type = f[1];
                String fn = f[2];
                String value = f[3].trim();
                switch (type) {
                    case ":invoke" -> h.invoke(process, input(fn, value));
                    case ":ok" -> {
                        expectPending(h, process, fn);
                        h.ok(process, switch (fn) {
                            case ":read" -> RegisterModel.Result.returned(integer(value));
                            case ":write", ":cas" -> RegisterModel.Result.ok();
                            default -> throw new IllegalArgumentException("unknown function " + fn);
                        });
                    }
                    case ":fail" -> {
                        expectPending(h, process, fn);
                        if (fn.equals(":cas") && failedCas == FailedCas.COMPARE_FAILED) {
                            h.ok(process, RegisterModel.Result.failed());
                        } else {
                            h.fail(process);
                        }
                    }
                    case ":info" -> {
                        expectPending(h, process, fn);
                        h.info(process);
                    }
                    default -> throw new IllegalArgumentException("unknown type " + type);
                }
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("line " + number + ": " + e.getMessage() + ": " + line, e);
            }
        }
        return h.build();
    }

    private static RegisterModel.Op<Integer> input(String fn, String value) {
        return switch (fn) {
            case ":read" -> RegisterModel.read();
            case ":write" -> RegisterModel.write(integer(value));
            case ":cas" -> {
                if (!value.startsWith("[") || !value.endsWith("]")) {
                    throw new IllegalArgumentException("a cas value is [expected new]");
                }
                String[] pair = value.substring(1, value.length() - 1).trim().split("\\s+");
                if (pair.length != 2) {
                    throw new IllegalArgumentException("a cas value is [expected new]");
                }
                yield RegisterModel.cas(integer(pair[0]), integer(pair[1]));
            }
            default -> throw new IllegalArgumentException("unknown function " + fn);
        };
    }

    private static Integer integer(String value) {
        return value.equals("nil") ? null : Integer.valueOf(value);
    }

    private static void expectPending(History.Builder<?, ?> h, int process, String fn) {
        Object pending = h.pendingInput(process);
        String expected = switch (pending) {
            case null -> throw new IllegalArgumentException("process " + process + " has nothing pending");
            case RegisterModel.Read<?> r -> ":read";
            case RegisterModel.Write<?> w -> ":write";
            case RegisterModel.Cas<?> c -> ":cas";
            default -> throw new IllegalStateException();
        };
        if (!expected.equals(fn)) {
            throw new IllegalArgumentException("process " + process + " completes " + fn + " but invoked " + expected);
        }
    }
}
