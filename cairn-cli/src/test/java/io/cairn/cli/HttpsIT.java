package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.server.security.CertificateAuthority;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
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
            assertThat(run("put", "--url", node.url(), "--cacert", cacert, "greeting", "hello").code).isZero();
            Run get = run("get", "--url", node.url(), "--cacert", cacert, "greeting");
            assertThat(get.code).isZero();
            assertThat(get.out).isEqualTo("hello");

            Run unproven = run("get", "--url", node.url(), "greeting");
            assertThat(unproven.code).as("the system trust store does not know the cluster CA").isEqualTo(3);
            assertThat(unproven.err).contains("--cacert");
        }
    }

    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int code = Main.commandLine().execute(args);
            return new Run(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }
}
