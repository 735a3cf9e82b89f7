package io.cairn.server.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.server.security.CertificateAuthority;
import io.cairn.server.security.SecurityConfigException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The metadata log's TLS material is checked as the internode transport's is, before the log starts on it. */
class MetadataTlsTest {
    @TempDir
    Path dir;

    @Test
    void loadsThisNodesCertificateFromTheClusterCa() throws Exception {
        Path tls = issue(3, "ca");
        MetadataTls loaded = MetadataTls.load(tls, 3, Clock.systemUTC());
        assertThat(loaded.trusted()).hasSize(1);
        assertThat(loaded.certificate().getSubjectX500Principal().getName()).isNotBlank();
    }

    @Test
    void refusesAnotherMembersCertificate() throws Exception {
        Path tls = issue(2, "ca");
        assertThatThrownBy(() -> MetadataTls.load(tls, 3, Clock.systemUTC())).isInstanceOf(SecurityConfigException.class)
                .hasMessageContaining("node 2's certificate").hasMessageContaining("this is node 3");
    }

    @Test
    void refusesACertificateNotIssuedByTheCaBesideIt() throws Exception {
        Path tls = issue(3, "ca");
        CertificateAuthority.init(dir.resolve("other-ca"), "other", CertificateAuthority.DEFAULT_CA_VALIDITY);
        java.nio.file.Files.copy(dir.resolve("other-ca").resolve(CertificateAuthority.CA_CERT), tls.resolve(CertificateAuthority.CA_CERT),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> MetadataTls.load(tls, 3, Clock.systemUTC())).isInstanceOf(SecurityConfigException.class)
                .hasMessageContaining("was not issued by the CA");
    }

    @Test
    void refusesAnExpiredCertificate() throws Exception {
        Path tls = issue(3, "ca");
        Clock later = Clock.offset(Clock.system(ZoneOffset.UTC), CertificateAuthority.DEFAULT_NODE_VALIDITY.plus(Duration.ofDays(1)));
        assertThatThrownBy(() -> MetadataTls.load(tls, 3, later)).isInstanceOf(SecurityConfigException.class).hasMessageContaining("expired");
    }

    private Path issue(int node, String ca) throws java.io.IOException {
        Path caDir = dir.resolve(ca);
        if (!java.nio.file.Files.exists(caDir.resolve(CertificateAuthority.CA_CERT))) {
            CertificateAuthority.init(caDir, "test", CertificateAuthority.DEFAULT_CA_VALIDITY);
        }
        Path out = dir.resolve("tls-" + node);
        CertificateAuthority.issueNode(caDir, node, List.of("127.0.0.1"), out, CertificateAuthority.DEFAULT_NODE_VALIDITY);
        return out;
    }
}
