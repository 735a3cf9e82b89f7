package io.cairn;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaAccess;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The deterministic zone stays deterministic: cairn-core reaches threads, IO, the wall clock and
 * the infrastructure libraries only through its ports.
 *
 * <p>Each rule is also checked against a small violating fixture, so a rule that has silently
 * stopped matching anything (a typo in a class name) fails here instead of passing forever.
 */
class ArchitectureTest {
    private static final JavaClasses CORE = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.cairn");

    static final ArchRule NO_THREADS = noClasses().that().resideInAPackage("io.cairn..")
            .should().dependOnClassesThat().haveNameMatching("java\\.lang\\.Thread(\\$.*)?")
            .because("the core runs on the caller's thread; concurrency lives in cairn-server");

    static final ArchRule NO_EXECUTORS_OR_TIMERS = noClasses().that().resideInAPackage("io.cairn..")
            .should().dependOnClassesThat(executorsAndTimers())
            .because("scheduling goes through the scheduler port");

    static final ArchRule NO_FILES_OR_NETWORK = noClasses().that().resideInAPackage("io.cairn..")
            .should().dependOnClassesThat().haveNameMatching("java\\.io\\.File.*")
            .orShould().dependOnClassesThat().resideInAnyPackage("java.nio.file..", "java.net..", "java.nio.channels..")
            .because("storage and transport are ports");

    static final ArchRule NO_WALL_CLOCK = noClasses().that().resideInAPackage("io.cairn..")
            .should().callMethod(System.class, "currentTimeMillis")
            .orShould().callMethod(System.class, "nanoTime")
            .orShould().callMethodWhere(nowOnJavaTime())
            .orShould().dependOnClassesThat().haveFullyQualifiedName("java.time.Clock")
            .orShould().dependOnClassesThat().haveFullyQualifiedName("java.time.InstantSource")
            .because("time comes from io.cairn.clock.Clock, so a simulation controls it");

    static final ArchRule NO_INFRASTRUCTURE = noClasses().that().resideInAPackage("io.cairn..")
            .should().dependOnClassesThat().resideInAnyPackage("io.netty..", "org.rocksdb..", "org.apache.ratis..")
            .because("Netty, RocksDB and Ratis are adapters in cairn-server");

    private static final Map<String, ArchRule> RULES = Map.of(
            "threads", NO_THREADS,
            "executors", NO_EXECUTORS_OR_TIMERS,
            "io", NO_FILES_OR_NETWORK,
            "clock", NO_WALL_CLOCK,
            "infrastructure", NO_INFRASTRUCTURE);

    @Test
    void theImportSeesTheCoreAndOnlyTheCore() {
        assertThat(CORE.contain("io.cairn.replica.LocalReplica")).isTrue();
        assertThat(CORE.contain("io.cairn.clock.HybridClock")).isTrue();
        assertThat(CORE.contain(ArchitectureTest.class.getName())).isFalse();
    }

    @Test
    void coreStartsNoThreads() {
        NO_THREADS.check(CORE);
    }

    @Test
    void coreUsesNoExecutorsOrTimers() {
        NO_EXECUTORS_OR_TIMERS.check(CORE);
    }

    @Test
    void coreDoesNoFileOrNetworkIo() {
        NO_FILES_OR_NETWORK.check(CORE);
    }

    @Test
    void coreNeverReadsTheWallClock() {
        NO_WALL_CLOCK.check(CORE);
    }

    @Test
    void coreImportsNoInfrastructureLibrary() {
        NO_INFRASTRUCTURE.check(CORE);
    }

    @Test
    void everyRuleCatchesItsViolation() {
        Map<String, List<Class<?>>> violators = Map.of(
                "threads", List.of(Fixtures.SpawnsThread.class, Fixtures.SleepsOnThread.class),
                "executors", List.of(Fixtures.UsesExecutor.class, Fixtures.UsesScheduledExecutor.class, Fixtures.UsesTimer.class),
                "io", List.of(Fixtures.ReadsFile.class, Fixtures.UsesPath.class, Fixtures.UsesSocket.class, Fixtures.UsesChannel.class),
                "clock", List.of(Fixtures.CallsCurrentTimeMillis.class, Fixtures.CallsNanoTime.class, Fixtures.CallsInstantNow.class,
                        Fixtures.CallsLocalDateTimeNow.class, Fixtures.HoldsJavaClock.class));
        for (Map.Entry<String, List<Class<?>>> e : violators.entrySet()) {
            ArchRule rule = RULES.get(e.getKey());
            for (Class<?> violator : e.getValue()) {
                JavaClasses one = new ClassFileImporter().importClasses(violator);
                assertThatThrownBy(() -> rule.check(one))
                        .as("%s should catch %s", e.getKey(), violator.getSimpleName())
                        .isInstanceOf(AssertionError.class);
            }
        }
    }

    @Test
    void theInfrastructureRuleCatchesACoreClassNamingRocksDb(@TempDir Path dir) throws IOException {
        // cairn-core has no RocksDB on its classpath, so compile a stand-in and a violator here,
        // rather than put an org.rocksdb class into the test-jar that cairn-server tests load.
        Path src = Files.createDirectories(dir.resolve("src"));
        Path out = Files.createDirectories(dir.resolve("classes"));
        Path stub = Files.writeString(src.resolve("RocksDB.java"), "package org.rocksdb; public class RocksDB {}");
        Path violator = Files.writeString(src.resolve("Violator.java"),
                "package io.cairn.fixture; class Violator { org.rocksdb.RocksDB db; }");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int status = javac.run(null, null, null, "-d", out.toString(), stub.toString(), violator.toString());
        assertThat(status).isZero();

        JavaClasses compiled = new ClassFileImporter().importPath(out);
        assertThat(compiled.contain("io.cairn.fixture.Violator")).isTrue();
        assertThatThrownBy(() -> NO_INFRASTRUCTURE.check(compiled)).isInstanceOf(AssertionError.class);
    }

    @Test
    void noRuleFlagsCodeThatOnlyUsesThePorts() {
        JavaClasses clean = new ClassFileImporter().importClasses(Fixtures.Clean.class);
        for (ArchRule rule : RULES.values()) {
            rule.check(clean);
        }
    }

    private static DescribedPredicate<JavaClass> executorsAndTimers() {
        return DescribedPredicate.describe("are executors, thread pools or timers", c ->
                (c.getPackageName().equals("java.util.concurrent")
                        && (c.getSimpleName().contains("Executor") || c.getSimpleName().equals("ForkJoinPool")))
                        || c.getFullName().equals("java.util.Timer")
                        || c.getFullName().equals("java.util.TimerTask"));
    }

    private static DescribedPredicate<JavaAccess<?>> nowOnJavaTime() {
        return DescribedPredicate.describe("call now() on a java.time class", access ->
                access.getName().equals("now") && access.getTargetOwner().getPackageName().equals("java.time"));
    }

    /** Classes that break one rule each (and one that breaks none). Never used outside this test. */
    @SuppressWarnings("unused")
    static final class Fixtures {
        static final class SpawnsThread {
            void run() {
                new Thread(() -> { }).start();
            }
        }

        static final class SleepsOnThread {
            void pause() throws InterruptedException {
                Thread.sleep(1);
            }
        }

        static final class UsesExecutor {
            java.util.concurrent.ExecutorService pool() {
                return java.util.concurrent.Executors.newSingleThreadExecutor();
            }
        }

        static final class UsesScheduledExecutor {
            java.util.concurrent.ScheduledExecutorService field;
        }

        static final class UsesTimer {
            java.util.Timer timer = new java.util.Timer();
        }

        static final class ReadsFile {
            boolean exists() {
                return new java.io.File("x").exists();
            }
        }

        static final class UsesPath {
            java.nio.file.Path path() {
                return java.nio.file.Path.of("x");
            }
        }

        static final class UsesSocket {
            java.net.InetSocketAddress address;
        }

        static final class UsesChannel {
            java.nio.channels.FileChannel channel;
        }

        static final class CallsCurrentTimeMillis {
            long now() {
                return System.currentTimeMillis();
            }
        }

        static final class CallsNanoTime {
            long now() {
                return System.nanoTime();
            }
        }

        static final class CallsInstantNow {
            Object now() {
                return java.time.Instant.now();
            }
        }

        static final class CallsLocalDateTimeNow {
            Object now() {
                return java.time.LocalDateTime.now();
            }
        }

        static final class HoldsJavaClock {
            java.time.Clock clock;
        }

        static final class Clean {
            long now(io.cairn.clock.Clock clock) {
                return java.time.Instant.ofEpochMilli(clock.nowMillis()).toEpochMilli();
            }
        }
    }
}
