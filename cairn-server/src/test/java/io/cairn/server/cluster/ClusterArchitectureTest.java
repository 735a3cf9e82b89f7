package io.cairn.server.cluster;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import io.cairn.WallClockReads;
import io.cairn.clock.HybridClock;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The cluster protocol code in cairn-server ({@code io.cairn.server.cluster}) reads the time of
 * day only through the clock port, the node's {@link HybridClock}: the clock every version, clock
 * check and hint age is measured on, and the one tests can move.
 *
 * <p>{@code System.nanoTime} stays allowed: the driver's deadlines and per-peer latencies are
 * elapsed times on a monotonic clock, in the units the write path's and the services' deadlines
 * already use; they never become a version or a time of day. As in cairn-core's
 * {@code ArchitectureTest}, the rule is also checked against fixtures that break it, which live
 * in this package (so the rule applies to them) but in test code (so the real check skips them).
 */
class ClusterArchitectureTest {
    private static final JavaClasses CLUSTER = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.cairn.server.cluster");

    static final ArchRule TIME_OF_DAY_ONLY_FROM_THE_CLOCK_PORT = noClasses().that().resideInAPackage("io.cairn.server.cluster..")
            .should(WallClockReads.readTheWallClock())
            .because("the cluster code reads the time of day from the node's HybridClock, so versions, clock checks "
                    + "and hint ages agree on one clock and the max clock offset is enforced against it");

    @Test
    void theImportSeesTheClusterCodeAndOnlyIt() {
        assertThat(CLUSTER.contain(ClusterDriver.class.getName())).isTrue();
        assertThat(CLUSTER.contain(WritePathStore.class.getName())).isTrue();
        assertThat(CLUSTER.contain(ClusterArchitectureTest.class.getName())).isFalse();
        assertThat(CLUSTER.contain("io.cairn.server.CairnNode")).isFalse();
    }

    @Test
    void clusterCodeReadsTheTimeOfDayOnlyThroughTheClockPort() {
        TIME_OF_DAY_ONLY_FROM_THE_CLOCK_PORT.check(CLUSTER);
    }

    @Test
    void theRuleCatchesEveryWayOfReadingTheWallClock() {
        for (Class<?> violator : List.of(Fixtures.CallsCurrentTimeMillis.class, Fixtures.CallsInstantNow.class,
                Fixtures.CallsClockSystemUtc.class, Fixtures.PassesTheSystemClockOn.class, Fixtures.CallsNewDate.class)) {
            JavaClasses one = new ClassFileImporter().importClasses(violator);
            assertThatThrownBy(() -> TIME_OF_DAY_ONLY_FROM_THE_CLOCK_PORT.check(one))
                    .as("the rule should catch %s", violator.getSimpleName())
                    .isInstanceOf(AssertionError.class);
        }
    }

    @Test
    void theRuleAllowsTheClockPortAndMonotonicTime() {
        TIME_OF_DAY_ONLY_FROM_THE_CLOCK_PORT.check(new ClassFileImporter().importClasses(Fixtures.UsesTheClockPort.class));
    }

    /** Classes that read the time of day past the port (and one that does not). Never used outside this test. */
    @SuppressWarnings("unused")
    static final class Fixtures {
        static final class CallsCurrentTimeMillis {
            long now() {
                return System.currentTimeMillis();
            }
        }

        static final class CallsInstantNow {
            Object now() {
                return java.time.Instant.now();
            }
        }

        static final class CallsClockSystemUtc {
            long now() {
                return java.time.Clock.systemUTC().millis();
            }
        }

        static final class PassesTheSystemClockOn {
            HybridClock clock() {
                return new HybridClock(java.time.InstantSource.system()::millis, 1);
            }
        }

        static final class CallsNewDate {
            long now() {
                return new java.util.Date().getTime();
            }
        }

        static final class UsesTheClockPort {
            long deadlineNanos(HybridClock clock, long budgetNanos) {
                return clock.physicalMillis() > 0 ? System.nanoTime() + budgetNanos : 0;
            }
        }
    }
}
