package io.cairn.server;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import io.cairn.server.metadata.MetadataLog;
import org.junit.jupiter.api.Test;

/**
 * Ratis stays an adapter: only the metadata log's package ({@code io.cairn.server.metadata})
 * touches it, and the rest of the server uses the log through {@link MetadataLog}, so a driver
 * (or a fake in a test) never depends on Ratis types. As in the other architecture tests, the
 * rule is also checked against a fixture that breaks it.
 */
class RatisArchitectureTest {
    private static final JavaClasses SERVER = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.cairn");

    static final ArchRule RATIS_ONLY_IN_THE_METADATA_LOG = noClasses().that().resideInAPackage("io.cairn..")
            .and().resideOutsideOfPackage("io.cairn.server.metadata")
            .should().dependOnClassesThat().resideInAPackage("org.apache.ratis..")
            .because("Ratis is the metadata log's adapter; everything else goes through MetadataLog");

    @Test
    void theImportSeesTheMetadataLog() {
        assertThat(SERVER.contain("io.cairn.server.metadata.RatisMetadataLog")).isTrue();
        assertThat(SERVER.contain(CairnNode.class.getName())).isTrue();
    }

    @Test
    void onlyTheMetadataLogUsesRatis() {
        RATIS_ONLY_IN_THE_METADATA_LOG.check(SERVER);
    }

    @Test
    void theRuleCatchesAnotherPackageUsingRatis() {
        JavaClasses violator = new ClassFileImporter().importClasses(ReachesIntoRatis.class);
        assertThatThrownBy(() -> RATIS_ONLY_IN_THE_METADATA_LOG.check(violator)).isInstanceOf(AssertionError.class);
    }

    /** A server class that names a Ratis type. Never used outside this test. */
    static final class ReachesIntoRatis {
        String group() {
            return org.apache.ratis.protocol.RaftGroupId.randomId().toString();
        }
    }
}
