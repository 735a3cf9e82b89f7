/**
 * A linearizability checker: does a concurrent history of operations, each with an invocation
 * and a return time, have an order consistent with real time in which a sequential
 * {@link io.cairn.testkit.linearizability.Model} gives every observed answer?
 *
 * <pre>{@code
 * History.Builder<RegisterModel.Op<String>, RegisterModel.Result<String>> h = History.builder();
 * h.invoke(1, RegisterModel.write("a"));          // events in the order they happened
 * h.invoke(2, RegisterModel.read());
 * h.ok(1, RegisterModel.Result.ok());
 * h.ok(2, RegisterModel.Result.returned("a"));
 * h.invoke(3, RegisterModel.cas("a", "b")).info(3); // timed out: may take effect later, or never
 * CheckResult<?, ?> r = LinearizabilityChecker.check(new RegisterModel<String>(), h.build());
 * r.verdict();       // LINEARIZABLE, NOT_LINEARIZABLE or UNKNOWN (budget exhausted)
 * r.explanation();   // for a violation: the longest partial order found and what could not follow
 * }</pre>
 *
 * <p>For many keys use {@link io.cairn.testkit.linearizability.KeyedModel} with
 * {@link io.cairn.testkit.linearizability.Keyed} inputs: each key is checked on its own. Budgets
 * ({@link io.cairn.testkit.linearizability.Budget}) are step and memo-entry counts, so results
 * are deterministic. {@link io.cairn.testkit.linearizability.JepsenRegisterLog} reads Jepsen
 * register logs, on which the checker is validated.
 */
package io.cairn.testkit.linearizability;
