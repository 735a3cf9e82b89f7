package io.cairn.testkit;

/** Thrown inside a step when an invariant breaks; ends the run at once with that violation. */
final class SimulationFailure extends RuntimeException {
    final Violation violation;

    SimulationFailure(Violation violation) {
        super(violation.toString(), null, false, false);
        this.violation = violation;
    }
}
