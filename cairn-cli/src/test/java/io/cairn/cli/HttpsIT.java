package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.server.security.CertificateAuthority;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A node serving HTTPS, started by the launcher, used through the command-line client with and without the CA it needs. */
class HttpsIT {
    @TempDir
    Path tmp;

    @Test
    void theClientTalksHttpsWhenToldWhichCaToTrustAndRefusesAnUnprovenServer() throws Exception {
        Path ca = tmp.resolve("ca");
        CertificateAuthority.init(ca, "it", CertificateAuthority.DEFAULT_CA_VALIDITY);
        Path certs = tmp.resolve("https");
        CertificateAuthority.issueNode(ca, 1, List.of("127.0.0.1"), certs, CertificateAuthority.DEFAULT_NODE_VALIDITY);
        try (NodeProcess node = NodeProcess.start(tmp.resolve("data"), "--set", "http.tls.cert=" + certs.resolve("node.crt"),
                "--set", "http.tls.key=" + certs.resolve("node.key"))) {
            assertThat(node.url()).startsWith("https://");
            String cacert = ca.resolve("ca.crt").toString();
            String data = tmp.resolve("data").toString();
            // --data-dir: the client finds the node's admin credential there, as bin/cairn does in ./cairn-data.
            assertThat(CliRun.of("put", "--url", node.url(), "--cacert", cacert, "--data-dir", data, "greeting", "hello").code()).isZero();
            CliRun get = CliRun.of("get", "--url", node.url(), "--cacert", cacert, "--data-dir", data, "greeting");
            assertThat(get.code()).isZero();
            assertThat(get.out()).isEqualTo("hello");

            CliRun unproven = CliRun.of("get", "--url", node.url(), "greeting");
            assertThat(unproven.code()).as("the system trust store does not know the cluster CA").isEqualTo(3);
            assertThat(unproven.err()).contains("--cacert");

            // A data directory named on the command line must hold the credential: no silent anonymous request.
            CliRun elsewhere = CliRun.of("get", "--url", node.url(), "--cacert", cacert, "--data-dir", tmp.resolve("elsewhere").toString(), "greeting");
            assertThat(elsewhere.code()).isEqualTo(2);
            assertThat(elsewhere.err()).contains("holds no admin credential");
            // None given and none in ./cairn-data: sent without one, and the refusal says how to give one.
            CliRun anonymous = CliRun.of("get", "--url", node.url(), "--cacert", cacert, "greeting");
            assertThat(anonymous.code()).isEqualTo(1);
            assertThat(anonymous.err()).contains("unauthenticated").contains("no token found");
        }
    }
}
