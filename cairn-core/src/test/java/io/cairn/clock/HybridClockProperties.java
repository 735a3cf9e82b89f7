package io.cairn.clock;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.property.Gen;
import io.cairn.property.Trials;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The hybrid clock against a naive model while physical time wanders back and forth at random:
 * a timestamp is max(physical now, last + 1), and observing only ever raises "last".
 */
class HybridClockProperties {
    private static final long T = 1_700_000_000_000L;

    @Test
    void matchesTheModelAndNeverRepeats() {
        Trials.run(0x48_4C_43L, 300, 300, gen -> {
            ManualClock physical = new ManualClock(T);
            HybridClock clock = new HybridClock(physical, 3);
            long modelLast = 0;
            List<String> log = new ArrayList<>();
            for (int step = 0; step < gen.size(); step++) {
                switch (gen.between(0, 14)) {
                    case 0, 1 -> physical.advance(log(log, "move", gen.between(-120_000L, 120_000L)));
                    case 2, 3, 4 -> physical.advance(log(log, "nudge", gen.between(-2L, 2L)));
                    case 5, 6 -> {
                        long remote = log(log, "observe", Version.pack(physical.nowMillis() + gen.between(-60_000L, 60_000L),
                                gen.between(0, (int) Version.LOGICAL_MASK)));
                        clock.observe(remote);
                        modelLast = Math.max(modelLast, remote);
                    }
                    default -> {
                        long ts = clock.nextTimestamp();
                        log.add("next=" + ts);
                        long expected = Math.max(Version.pack(physical.nowMillis(), 0), modelLast + 1);
                        assertThat(ts).as("%s", log).isEqualTo(expected);
                        assertThat(ts >>> Version.LOGICAL_BITS).as("%s", log).isGreaterThanOrEqualTo(physical.nowMillis());
                        modelLast = ts;
                    }
                }
                assertThat(clock.lastTimestamp()).as("%s", log).isEqualTo(modelLast);
            }
        });
    }

    @Test
    void versionsFromOneClockAreStrictlyIncreasingWhateverThePhysicalClockDoes() {
        Trials.run(0xC10CL, 200, 500, gen -> {
            ManualClock physical = new ManualClock(gen.between(0L, T));
            HybridClock clock = new HybridClock(physical, gen.between(0, 1000));
            Version previous = null;
            for (int i = 0; i < gen.size(); i++) {
                if (gen.chance(0.3)) {
                    physical.set(Math.max(-10, physical.nowMillis() + gen.between(-5_000L, 5_000L)));
                }
                Version v = clock.next();
                if (previous != null) {
                    assertThat(v).isGreaterThan(previous);
                    assertThat(v.isNewerThan(previous)).isTrue();
                }
                assertThat(v.nodeId()).isEqualTo(clock.nodeId());
                previous = v;
            }
        });
    }

    /**
     * Whatever peers send and however the physical clock moves, the clock never goes back, never
     * goes negative, and never runs more than the bound ahead of the highest physical time it read.
     */
    @Test
    void peersCannotDragTheClockBeyondTheBoundWhateverTheySend() {
        Trials.run(0xB0_07DL, 300, 300, gen -> {
            ManualClock physical = new ManualClock(T);
            long bound = gen.pick(0L, 1L, 250L, 500L, 60_000L);
            HybridClock clock = new HybridClock(physical, 3, bound);
            long highestPhysical = T;
            long previous = clock.lastTimestamp();
            List<String> log = new ArrayList<>();
            for (int step = 0; step < gen.size(); step++) {
                switch (gen.between(0, 5)) {
                    case 0 -> physical.advance(log(log, "move", gen.between(-120_000L, 120_000L)));
                    case 1 -> clock.observePeer(log(log, "peer", gen.pick(Long.MAX_VALUE, Long.MIN_VALUE, -1L, 0L, gen.anyLong(),
                            Version.pack(physical.nowMillis() + gen.between(-2 * bound - 5, 2 * bound + 5), gen.between(0, 0xFFFF)))));
                    case 2 -> clock.checkPeer(log(log, "check", gen.anyLong()));
                    default -> {
                        long ts = clock.nextTimestamp();
                        log.add("next=" + ts);
                        assertThat(ts).as("%s", log).isPositive().isGreaterThan(previous);
                    }
                }
                highestPhysical = Math.max(highestPhysical, physical.nowMillis());
                long now = clock.lastTimestamp();
                assertThat(now).as("%s", log).isGreaterThanOrEqualTo(previous).isNotNegative();
                assertThat(now >>> Version.LOGICAL_BITS).as("%s", log).isLessThanOrEqualTo(highestPhysical + bound + 1);
                previous = now;
            }
        });
    }

    private static long log(List<String> log, String what, long value) {
        log.add(what + "=" + value);
        return value;
    }
}
