package io.cairn.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class FloodGateTest {
    private final AtomicLong now = new AtomicLong(10_000);

    @Test
    void letsThroughAtMostTheRateInAnySecondAndSaysHowManyItHeldBack() {
        FloodGate gate = new FloodGate(2, now::get);
        assertThat(gate.pass()).isZero();
        now.addAndGet(600);
        assertThat(gate.pass()).isZero();
        assertThat(gate.pass()).as("a third within the second").isEqualTo(-1);
        now.addAndGet(300);
        assertThat(gate.pass()).as("still within a second of the first").isEqualTo(-1);
        now.addAndGet(100);
        assertThat(gate.pass()).as("a second after the first: it passes, naming the two held back").isEqualTo(2);
        assertThat(gate.pass()).as("the second of 600 ms ago still counts").isEqualTo(-1);
    }

    @Test
    void aRateOfZeroLetsNothingThrough() {
        FloodGate gate = new FloodGate(0, now::get);
        assertThat(gate.pass()).isEqualTo(-1);
        now.addAndGet(5_000);
        assertThat(gate.pass()).isEqualTo(-1);
    }
}
