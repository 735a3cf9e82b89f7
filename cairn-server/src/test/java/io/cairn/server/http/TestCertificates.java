package io.cairn.server.http;

import io.cairn.server.security.CertificateAuthority;
import io.cairn.server.security.Pem;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * One cluster CA per test JVM, and node certificates from it: a cluster node needs them to start
 * (mutual TLS between nodes is always on), and tests that are not about TLS get them here.
 */
public final class TestCertificates {
    private static final char[] PASSWORD = "test".toCharArray();
    private static Path ca;

    private TestCertificates() {}

    /** The test CA's directory, created on first use. */
    public static synchronized Path ca() {
        if (ca == null) {
            try {
                Path dir = Files.createTempDirectory("cairn-test-ca");
                CertificateAuthority.init(dir, "test", CertificateAuthority.DEFAULT_CA_VALIDITY);
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    for (String name : new String[] {CertificateAuthority.CA_CERT, CertificateAuthority.CA_KEY}) {
                        dir.resolve(name).toFile().delete();
                    }
                    dir.toFile().delete();
                }, "test-ca-cleanup"));
                ca = dir;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return ca;
    }

    /**
     * A TLS 1.3 context presenting the certificate in {@code dir} (node.crt, node.key) and trusting
     * any peer: what a hostile or impostor process holding that certificate would run.
     */
    public static SSLContext context(Path dir) throws GeneralSecurityException, IOException {
        X509Certificate cert = Pem.readCertificates(dir.resolve(CertificateAuthority.NODE_CERT)).get(0);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("node", Pem.readKey(dir.resolve(CertificateAuthority.NODE_KEY)), PASSWORD, new X509Certificate[] {cert});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, PASSWORD);
        TrustManager trustAll = new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {}

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {}

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        SSLContext ctx = SSLContext.getInstance("TLSv1.3");
        ctx.init(kmf.getKeyManagers(), new TrustManager[] {trustAll}, null);
        return ctx;
    }

    /** Issues node {@code id}'s certificate into {@code dir}, unless one is there (a restart keeps its own). */
    public static void provide(Path dir, int id) {
        if (Files.exists(dir.resolve(CertificateAuthority.NODE_CERT))) {
            return;
        }
        try {
            CertificateAuthority.issueNode(ca(), id, List.of("127.0.0.1", "localhost"), dir, CertificateAuthority.DEFAULT_NODE_VALIDITY);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
