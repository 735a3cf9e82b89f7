package io.cairn.server;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The server reaches the cluster core only through its API: the node it drives, the settings it
 * builds, the ports it implements and the values it reports. The core's protocol state
 * (coordinator, tallies, hint store, failure detector) is package-private, so the compiler
 * already refuses most reaching in; this rule also keeps public helpers of the core (say, the
 * version ceiling) from becoming something the server leans on without a decision.
 */
class CoreApiTest {
    private static final JavaClasses SERVER = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.cairn.server");

    /** What the server may use of {@code io.cairn.cluster}. */
    static final Set<String> CLUSTER_API = Set.of("ClusterNode", "ClusterSettings", "CoordinatorSettings", "CoordinatorStats",
            "ExchangeSettings", "ExchangeStatus", "ExchangeStatus$Partition", "ExchangeStatus$Totals", "HintBacklog", "MoveSettings", "MoveStats", "NodeEpochs", "PaxosSettings", "PaxosStats", "Proposer", "ReplicaCopy", "Scheduler", "Scheduler$Cancellable", "Shard", "ShardRouter", "Transport");

    static final ArchRule SERVER_USES_THE_CLUSTER_API = noClasses().that().resideInAPackage("io.cairn.server..")
            .should().dependOnClassesThat(new DescribedPredicate<JavaClass>("are cluster core internals") {
                @Override
                public boolean test(JavaClass c) {
                    return c.getPackageName().equals("io.cairn.cluster") && !CLUSTER_API.contains(c.getName().substring("io.cairn.cluster.".length()));
                }
            })
            .because("the cluster core's protocol state is its own; the server drives ClusterNode and implements its ports");

    @Test
    void theImportSeesTheServer() {
        assertThat(SERVER.contain(CairnNode.class.getName())).isTrue();
    }

    @Test
    void theServerUsesOnlyTheClusterApi() {
        SERVER_USES_THE_CLUSTER_API.check(SERVER);
    }

    @Test
    void theRuleCatchesAServerClassReachingIn() {
        JavaClasses violator = new ClassFileImporter().importClasses(ReachesIn.class);
        assertThatThrownBy(() -> SERVER_USES_THE_CLUSTER_API.check(violator)).isInstanceOf(AssertionError.class);
    }

    /** A server class using a public core class outside the API. */
    static final class ReachesIn {
        long lease = io.cairn.cluster.VersionCeiling.LEASE_MILLIS + lease();

        static long lease() {
            return new io.cairn.cluster.VersionCeiling(null, null, null).ceiling();
        }
    }
}
