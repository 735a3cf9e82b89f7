package io.cairn;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaMethodCall;
import com.tngtech.archunit.core.domain.TryCatchBlock;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import com.tngtech.archunit.lang.conditions.ArchConditions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The deterministic zone stays deterministic: cairn-core reaches threads, IO, the wall clock,
 * randomness and the infrastructure libraries only through its ports, and lets an invariant
 * violation through every catch.
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
            .should(WallClockReads.readTheWallClock())
            .orShould().callMethod(System.class, "nanoTime")
            .because("time comes from io.cairn.clock.Clock, so a simulation controls it");

    static final ArchRule NO_UNSEEDED_RANDOMNESS = noClasses().that().resideInAPackage("io.cairn..")
            .should(unseededRandomness())
            .because("randomness comes from a seeded source the caller passes in, so one seed replays a whole run");

    static final ArchRule NO_COMMON_POOL = noClasses().that().resideInAPackage("io.cairn..")
            .should().callMethodWhere(asyncOnTheCommonPool())
            .orShould().callMethodWhere(parallelStream())
            .because("a *Async stage without an executor, or a parallel stream, runs on ForkJoinPool.commonPool(): "
                    + "a thread the driver neither chose nor orders");

    static final ArchRule NO_BROAD_CATCH = classes().that().resideInAPackage("io.cairn..")
            .should(catchOnlyWhatTheyExpect())
            .because("an invariant violation must stop the thread loudly; catch the operating errors you expect "
                    + "(StorageException, CorruptRecordException, BufferUnderflowException, IllegalArgumentException)");

    static final ArchRule NO_INFRASTRUCTURE = noClasses().that().resideInAPackage("io.cairn..")
            .should().dependOnClassesThat().resideInAnyPackage("io.netty..", "org.rocksdb..", "org.apache.ratis..")
            .because("Netty, RocksDB and Ratis are adapters in cairn-server");

    /**
     * Layers inside the core, lowest first: what a layer may use is below it. The cluster
     * protocols sit on top; messages and the local replica are theirs; requests are the common
     * vocabulary; clock, records, storage port, placement and errors are the foundations.
     */
    static final ArchRule LAYERS = com.tngtech.archunit.library.Architectures.layeredArchitecture()
            .consideringOnlyDependenciesInLayers()
            .withOptionalLayers(true)
            .layer("Foundations").definedBy("io.cairn.error..", "io.cairn.invariant..", "io.cairn.clock..", "io.cairn.record..",
                    "io.cairn.storage..", "io.cairn.placement..", "io.cairn.namespace..", "io.cairn.membership..")
            .layer("Requests").definedBy("io.cairn.request..")
            .layer("Replica").definedBy("io.cairn.replica..")
            .layer("Messages").definedBy("io.cairn.message..")
            .layer("Cluster").definedBy("io.cairn.cluster..")
            .whereLayer("Cluster").mayNotBeAccessedByAnyLayer()
            .whereLayer("Messages").mayOnlyBeAccessedByLayers("Cluster")
            .whereLayer("Replica").mayOnlyBeAccessedByLayers("Cluster")
            .whereLayer("Requests").mayOnlyBeAccessedByLayers("Replica", "Messages", "Cluster")
            .because("the core is layered: foundations, then requests, then the replica and the wire messages, then the cluster protocols");

    private static final Map<String, ArchRule> RULES = Map.of(
            "threads", NO_THREADS,
            "executors", NO_EXECUTORS_OR_TIMERS,
            "io", NO_FILES_OR_NETWORK,
            "clock", NO_WALL_CLOCK,
            "randomness", NO_UNSEEDED_RANDOMNESS,
            "commonPool", NO_COMMON_POOL,
            "broadCatch", NO_BROAD_CATCH,
            "infrastructure", NO_INFRASTRUCTURE,
            "layers", LAYERS);

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
    void coreUsesNoUnseededRandomness() {
        NO_UNSEEDED_RANDOMNESS.check(CORE);
    }

    @Test
    void coreRunsNothingOnTheCommonPool() {
        NO_COMMON_POOL.check(CORE);
    }

    @Test
    void coreCatchesNoExceptionAnInvariantViolationWouldFallInto() {
        NO_BROAD_CATCH.check(CORE);
    }

    @Test
    void coreImportsNoInfrastructureLibrary() {
        NO_INFRASTRUCTURE.check(CORE);
    }

    @Test
    void coreKeepsItsLayers() {
        LAYERS.check(CORE);
    }

    @Test
    void theLayerRuleCatchesAFoundationReachingUp() {
        JavaClasses violator = new ClassFileImporter().importClasses(io.cairn.record.LayerViolationFixture.class, io.cairn.cluster.ClusterSettings.class);
        assertThatThrownBy(() -> LAYERS.check(violator)).isInstanceOf(AssertionError.class);
    }

    @Test
    void everyRuleCatchesItsViolation() {
        Map<String, List<Class<?>>> violators = Map.of(
                "threads", List.of(Fixtures.SpawnsThread.class, Fixtures.SleepsOnThread.class),
                "executors", List.of(Fixtures.UsesExecutor.class, Fixtures.UsesScheduledExecutor.class, Fixtures.UsesTimer.class),
                "io", List.of(Fixtures.ReadsFile.class, Fixtures.UsesPath.class, Fixtures.UsesSocket.class, Fixtures.UsesChannel.class),
                "clock", List.of(Fixtures.CallsCurrentTimeMillis.class, Fixtures.CallsNanoTime.class, Fixtures.CallsInstantNow.class,
                        Fixtures.CallsLocalDateTimeNow.class, Fixtures.HoldsJavaClock.class, Fixtures.CallsSystemUtc.class,
                        Fixtures.CallsNewDate.class, Fixtures.CallsCalendarGetInstance.class, Fixtures.CallsNewGregorianCalendar.class),
                "randomness", List.of(Fixtures.NewUnseededRandom.class, Fixtures.NewUnseededSplittableRandom.class,
                        Fixtures.UsesThreadLocalRandom.class, Fixtures.UsesSecureRandom.class, Fixtures.CallsMathRandom.class,
                        Fixtures.CallsRandomUuid.class, Fixtures.ShufflesWithoutARandom.class, Fixtures.CallsDefaultRandomGenerator.class),
                "commonPool", List.of(Fixtures.SupplyAsyncOnCommonPool.class, Fixtures.RunAsyncOnCommonPool.class,
                        Fixtures.ThenApplyAsyncOnCommonPool.class, Fixtures.StageAsyncOnCommonPool.class,
                        Fixtures.UsesParallelStream.class, Fixtures.MakesAStreamParallel.class),
                "broadCatch", List.of(Fixtures.CatchesRuntimeException.class, Fixtures.CatchesException.class,
                        Fixtures.CatchesThrowable.class, Fixtures.CatchesIllegalStateException.class, Fixtures.CatchesError.class,
                        Fixtures.CatchesInvariantViolation.class, Fixtures.CatchesBroadlyInAMultiCatch.class,
                        Fixtures.CatchesBroadlyInALambda.class, Fixtures.CatchesThrowableBesideATryWithResources.class));
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

    /** The new rules are narrow: what they allow is what the core may do. */
    @Test
    void theRulesLetThroughWhatTheyAllow() {
        NO_UNSEEDED_RANDOMNESS.check(new ClassFileImporter().importClasses(Fixtures.SeededRandomness.class));
        NO_COMMON_POOL.check(new ClassFileImporter().importClasses(Fixtures.AsyncOnAGivenExecutor.class));
        NO_BROAD_CATCH.check(new ClassFileImporter().importClasses(Fixtures.CatchesWhatItExpects.class));
    }

    private static ArchCondition<JavaClass> unseededRandomness() {
        return ArchConditions.callConstructor(java.util.Random.class)
                .or(ArchConditions.callConstructor(java.util.SplittableRandom.class))
                .or(ArchConditions.dependOnClassesThat(DescribedPredicate.describe("are ThreadLocalRandom or SecureRandom",
                        c -> c.getFullName().equals("java.util.concurrent.ThreadLocalRandom")
                                || c.isAssignableTo("java.security.SecureRandom"))))
                .or(ArchConditions.callMethod(Math.class, "random"))
                .or(ArchConditions.callMethod(StrictMath.class, "random"))
                .or(ArchConditions.callMethod(java.util.UUID.class, "randomUUID"))
                .or(ArchConditions.callMethod(java.util.Collections.class, "shuffle", List.class))
                .or(ArchConditions.callMethodWhere(DescribedPredicate.describe("ask RandomGenerator for an unseeded generator", access ->
                        access.getTargetOwner().getFullName().equals("java.util.random.RandomGenerator")
                                && (access.getName().equals("getDefault") || access.getName().equals("of")))))
                .as("use unseeded randomness");
    }

    private static DescribedPredicate<JavaMethodCall> asyncOnTheCommonPool() {
        return DescribedPredicate.describe("call a CompletableFuture or CompletionStage *Async method without an executor", call ->
                call.getTargetOwner().isAssignableTo(java.util.concurrent.CompletionStage.class)
                        && call.getName().endsWith("Async")
                        && call.getTarget().getRawParameterTypes().stream().noneMatch(t -> t.isAssignableTo(java.util.concurrent.Executor.class)));
    }

    private static DescribedPredicate<JavaMethodCall> parallelStream() {
        return DescribedPredicate.describe("make a parallel stream", call ->
                (call.getName().equals("parallelStream") && call.getTargetOwner().isAssignableTo(java.util.Collection.class))
                        || (call.getName().equals("parallel") && call.getTargetOwner().isAssignableTo(java.util.stream.BaseStream.class)));
    }

    /** The exception types a catch would also take an {@link io.cairn.invariant.Invariant.InvariantViolation} in. */
    private static final Set<String> BROAD = Set.of(Throwable.class.getName(), Exception.class.getName(),
            RuntimeException.class.getName(), Error.class.getName(), IllegalStateException.class.getName(),
            io.cairn.invariant.Invariant.InvariantViolation.class.getName());

    /**
     * Catches of a type an invariant violation is, lambdas included. javac compiles a
     * try-with-resources into a {@code catch (Throwable)} that closes the resource, adds what
     * closing threw as suppressed, and rethrows; the import does not tell it from a hand-written
     * one, so a method may hold as many {@code catch (Throwable)} blocks as it calls
     * {@code Throwable.addSuppressed} (one call per resource). A hand-written catch of Throwable
     * beside a try-with-resources of several resources can slip through; every other broad catch
     * is reported.
     */
    private static ArchCondition<JavaClass> catchOnlyWhatTheyExpect() {
        return new ArchCondition<>("catch neither Throwable, Exception, RuntimeException, Error, IllegalStateException nor InvariantViolation") {
            @Override
            public void check(JavaClass c, ConditionEvents events) {
                for (JavaCodeUnit unit : c.getCodeUnits()) {
                    long resourceHandlers = unit.getMethodCallsFromSelf().stream()
                            .filter(call -> call.getName().equals("addSuppressed") && call.getTargetOwner().isAssignableTo(Throwable.class))
                            .count();
                    for (TryCatchBlock block : unit.getTryCatchBlocks()) {
                        if (resourceHandlers > 0 && block.getCaughtThrowables().size() == 1
                                && block.getCaughtThrowables().iterator().next().isEquivalentTo(Throwable.class)) {
                            resourceHandlers--;
                            continue;
                        }
                        for (JavaClass caught : block.getCaughtThrowables()) {
                            if (BROAD.contains(caught.getName())) {
                                events.add(SimpleConditionEvent.violated(block, unit.getFullName() + " catches "
                                        + caught.getSimpleName() + " " + block.getSourceCodeLocation()));
                            }
                        }
                    }
                }
            }
        };
    }

    private static DescribedPredicate<JavaClass> executorsAndTimers() {
        return DescribedPredicate.describe("are executors, thread pools or timers", c ->
                (c.getPackageName().equals("java.util.concurrent")
                        && (c.getSimpleName().contains("Executor") || c.getSimpleName().equals("ForkJoinPool")))
                        || c.getFullName().equals("java.util.Timer")
                        || c.getFullName().equals("java.util.TimerTask"));
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

        static final class CallsSystemUtc {
            Object clock() {
                return java.time.Clock.systemUTC();
            }
        }

        static final class CallsNewDate {
            Object now() {
                return new java.util.Date();
            }
        }

        static final class CallsCalendarGetInstance {
            Object now() {
                return java.util.Calendar.getInstance();
            }
        }

        static final class CallsNewGregorianCalendar {
            Object now() {
                return new java.util.GregorianCalendar();
            }
        }

        static final class NewUnseededRandom {
            int roll() {
                return new java.util.Random().nextInt(6);
            }
        }

        static final class NewUnseededSplittableRandom {
            int roll() {
                return new java.util.SplittableRandom().nextInt(6);
            }
        }

        static final class UsesThreadLocalRandom {
            int roll() {
                return java.util.concurrent.ThreadLocalRandom.current().nextInt(6);
            }
        }

        static final class UsesSecureRandom {
            int roll() {
                return new java.security.SecureRandom(new byte[] {1}).nextInt(6);
            }
        }

        static final class CallsMathRandom {
            double roll() {
                return Math.random();
            }
        }

        static final class CallsRandomUuid {
            Object id() {
                return java.util.UUID.randomUUID();
            }
        }

        static final class ShufflesWithoutARandom {
            void shuffle(List<Integer> list) {
                java.util.Collections.shuffle(list);
            }
        }

        static final class CallsDefaultRandomGenerator {
            long roll() {
                return java.util.random.RandomGenerator.getDefault().nextLong();
            }
        }

        static final class SeededRandomness {
            int roll(long seed, List<Integer> list) {
                java.util.Random random = new java.util.Random(seed);
                java.util.Collections.shuffle(list, random);
                return random.nextInt(6) + new java.util.SplittableRandom(seed).nextInt(6);
            }
        }

        static final class SupplyAsyncOnCommonPool {
            Object run() {
                return java.util.concurrent.CompletableFuture.supplyAsync(() -> 1);
            }
        }

        static final class RunAsyncOnCommonPool {
            Object run() {
                return java.util.concurrent.CompletableFuture.runAsync(() -> { });
            }
        }

        static final class ThenApplyAsyncOnCommonPool {
            Object run(java.util.concurrent.CompletableFuture<Integer> f) {
                return f.thenApplyAsync(x -> x + 1);
            }
        }

        static final class StageAsyncOnCommonPool {
            Object run(java.util.concurrent.CompletionStage<Integer> stage) {
                return stage.thenAcceptAsync(x -> { });
            }
        }

        static final class UsesParallelStream {
            long count(List<Integer> list) {
                return list.parallelStream().count();
            }
        }

        static final class MakesAStreamParallel {
            long count() {
                return java.util.stream.IntStream.range(0, 10).parallel().count();
            }
        }

        static final class AsyncOnAGivenExecutor {
            Object run(java.util.concurrent.CompletableFuture<Integer> f, java.util.concurrent.Executor executor) {
                return f.thenApplyAsync(x -> x + 1, executor).thenCombineAsync(f, Integer::sum, executor)
                        .thenApply(x -> x).whenComplete((x, e) -> { });
            }
        }

        static final class CatchesRuntimeException {
            void run(Runnable r) {
                try {
                    r.run();
                } catch (RuntimeException e) {
                    // Swallowed.
                }
            }
        }

        static final class CatchesException {
            void run(java.util.concurrent.Callable<?> c) {
                try {
                    c.call();
                } catch (Exception e) {
                    // Swallowed.
                }
            }
        }

        static final class CatchesThrowable {
            void run(Runnable r) {
                try {
                    r.run();
                } catch (Throwable t) {
                    // Swallowed.
                }
            }
        }

        static final class CatchesIllegalStateException {
            void run(Runnable r) {
                try {
                    r.run();
                } catch (IllegalStateException e) {
                    // An InvariantViolation is one.
                }
            }
        }

        static final class CatchesError {
            void run(Runnable r) {
                try {
                    r.run();
                } catch (Error e) {
                    // Swallowed.
                }
            }
        }

        static final class CatchesInvariantViolation {
            void run(Runnable r) {
                try {
                    r.run();
                } catch (io.cairn.invariant.Invariant.InvariantViolation e) {
                    // Carries on as if nothing happened.
                }
            }
        }

        static final class CatchesBroadlyInAMultiCatch {
            void run(Runnable r) {
                try {
                    r.run();
                } catch (IllegalArgumentException | IllegalStateException e) {
                    // The second alternative takes an InvariantViolation.
                }
            }
        }

        static final class CatchesBroadlyInALambda {
            Runnable wrap(Runnable r) {
                return () -> {
                    try {
                        r.run();
                    } catch (RuntimeException e) {
                        // Swallowed, one level down.
                    }
                };
            }
        }

        static final class CatchesThrowableBesideATryWithResources {
            void run(Runnable r, java.io.ByteArrayOutputStream sink) throws java.io.IOException {
                try (java.io.DataOutputStream out = new java.io.DataOutputStream(sink)) {
                    out.writeUTF("x");
                }
                try {
                    r.run();
                } catch (Throwable t) {
                    // Swallowed, next to a try-with-resources.
                }
            }
        }

        static final class CatchesWhatItExpects {
            int parse(String s, java.io.ByteArrayOutputStream sink) {
                try (java.io.DataOutputStream out = new java.io.DataOutputStream(sink)) {
                    out.writeUTF(s);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                } finally {
                    sink.reset();
                }
                try {
                    return Integer.parseInt(s);
                } catch (NumberFormatException e) {
                    return -1;
                }
            }
        }

        static final class Clean {
            long now(io.cairn.clock.Clock clock) {
                return java.time.Instant.ofEpochMilli(clock.nowMillis()).toEpochMilli();
            }
        }
    }
}
