package io.cairn.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.server.config.ConfigException;
import io.cairn.server.config.ConfigLoader;
import io.cairn.server.security.CertificateAuthority;
import io.cairn.server.security.Pem;
import java.io.IOException;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HTTPS on the client port: served with the configured certificate, rotated without a restart, required off loopback. */
class HttpsTest {
    @TempDir
    Path tmp;

    @Test
    void clientsTalkHttpsAndARotatedCertificateServesNewConnectionsWithoutARestart() throws Exception {
        Path ca = tmp.resolve("ca");
        CertificateAuthority.init(ca, "test", CertificateAuthority.DEFAULT_CA_VALIDITY);
        Path certs = tmp.resolve("https");
        X509Certificate first = CertificateAuthority.issueNode(ca, 1, List.of("127.0.0.1"), certs, CertificateAuthority.DEFAULT_NODE_VALIDITY);
        try (TestNode node = TestNode.start(tmp.resolve("data"), "http.tls.cert", certs.resolve("node.crt").toString(),
                "http.tls.key", certs.resolve("node.key").toString())) {
            String base = "https://127.0.0.1:" + node.port();
            HttpResponse<String> put = client(ca).send(HttpRequest.newBuilder(URI.create(base + "/kv/greeting")).header("Authorization", TestTokens.AUTHORIZATION)
                    .PUT(HttpRequest.BodyPublishers.ofString("hello")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(put.statusCode()).isEqualTo(200);
            HttpResponse<String> get = client(ca).send(HttpRequest.newBuilder(URI.create(base + "/kv/greeting")).header("Authorization", TestTokens.AUTHORIZATION).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(get.body()).isEqualTo("hello");
            assertThat(servedSerial(get)).isEqualTo(first.getSerialNumber());

            assertThatThrownBy(() -> HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/kv/greeting"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()))
                    .as("plain HTTP on the HTTPS port gets no answer").isInstanceOf(IOException.class);

            X509Certificate second = CertificateAuthority.issueNode(ca, 1, List.of("127.0.0.1"), certs, CertificateAuthority.DEFAULT_NODE_VALIDITY);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            BigInteger served;
            do {
                Thread.sleep(200);
                served = servedSerial(client(ca).send(HttpRequest.newBuilder(URI.create(base + "/kv/greeting")).header("Authorization", TestTokens.AUTHORIZATION).build(),
                        HttpResponse.BodyHandlers.ofString()));
                assertThat(System.nanoTime()).as("the new certificate served within 10 s").isLessThan(deadline);
            } while (!served.equals(second.getSerialNumber()));
        }
    }

    @Test
    void anAddressOtherMachinesReachNeedsHttpsUnlessPlaintextIsAllowedOutright() {
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("http.host", "0.0.0.0")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("http.tls.cert").hasMessageContaining("allowPlaintext");
        assertThat(ConfigLoader.load(null, Map.of("http.host", "0.0.0.0", "http.tls.allowPlaintext", "true")).http().tls()).isFalse();
        assertThat(ConfigLoader.load(null, Map.of("http.host", "127.0.0.1")).http().tls()).isFalse();
        assertThat(ConfigLoader.load(null, Map.of("http.host", "localhost")).http().tls()).isFalse();
        assertThat(ConfigLoader.load(null, Map.of("http.host", "0.0.0.0", "http.tls.cert", "a.crt", "http.tls.key", "a.key")).http().tls()).isTrue();
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("http.tls.cert", "a.crt")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("give both");
    }

    private static BigInteger servedSerial(HttpResponse<?> response) throws Exception {
        return ((X509Certificate) response.sslSession().orElseThrow().getPeerCertificates()[0]).getSerialNumber();
    }

    /** A fresh client (so a fresh connection) trusting only the test CA. */
    private static HttpClient client(Path ca) throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        trust.setCertificateEntry("ca", Pem.readCertificates(ca.resolve(CertificateAuthority.CA_CERT)).get(0));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(ctx).connectTimeout(Duration.ofSeconds(5)).build();
    }
}
