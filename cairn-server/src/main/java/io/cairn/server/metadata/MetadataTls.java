package io.cairn.server.metadata;

import io.cairn.server.security.CertificateAuthority;
import io.cairn.server.security.NodeTls;
import io.cairn.server.security.SecurityConfigException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;

/**
 * Mutual TLS for the metadata log's gRPC traffic (servers, clients, admin calls): the node's own
 * certificate and key, and the cluster CA as the only trusted issuer, so only holders of a
 * certificate from the cluster CA reach the log. The same files as the internode transport's
 * ({@code node.crt}, {@code node.key}, {@code ca.crt} in {@code cluster.tls.dir}); read once at
 * start (a rotated certificate reaches the metadata log at the next restart).
 */
public record MetadataTls(PrivateKey key, X509Certificate certificate, List<X509Certificate> trusted) {
    public MetadataTls {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(certificate, "certificate");
        trusted = List.copyOf(trusted);
        if (trusted.isEmpty()) {
            throw new IllegalArgumentException("no trusted CA certificate");
        }
    }

    /**
     * Reads node {@code nodeId}'s material from its TLS directory, with the internode transport's
     * checks ({@link NodeTls#check}: the certificate names this member, was issued by the CA beside
     * it and has not expired); refuses what is missing or fails them, naming the file.
     */
    public static MetadataTls load(Path tlsDir, int nodeId, Clock clock) {
        for (String name : new String[] {CertificateAuthority.NODE_CERT, CertificateAuthority.NODE_KEY, CertificateAuthority.CA_CERT}) {
            if (!Files.isRegularFile(tlsDir.resolve(name))) {
                throw new SecurityConfigException("the metadata log talks only over mutual TLS, and " + tlsDir.toAbsolutePath() + " has no "
                        + name + "; see docs/security.md");
            }
        }
        NodeTls.Checked checked = NodeTls.check(tlsDir, nodeId, clock.instant());
        return new MetadataTls(checked.key(), checked.certificate(), checked.trusted());
    }

    /**
     * What a {@link #probe} found: the member took this node's certificate and it took the
     * member's, or why not ({@code detail}: for {@code REFUSED}, a predicate of "the members at
     * ..." so that members refusing alike read as one sentence; else a sentence naming the address).
     */
    public record Probe(Outcome outcome, String detail) {
        public enum Outcome {
            /** Both certificates were taken. */
            ACCEPTED,
            /** One side's certificate was not issued by the other's CA: waiting does not help. */
            REFUSED,
            /** Nothing answered (down, or not there yet). */
            UNREACHABLE,
            /** TLS failed in a way certificates do not explain. */
            FAILED
        }
    }

    /**
     * Tries a mutual-TLS connection with this material to a member's metadata address at {@code
     * host:port}. The log's own client only says that no leader answered; this tells a certificate
     * from another CA (either side's) apart from a member that is down, in words an operator can act on.
     */
    public Probe probe(String host, int port, Duration timeout) {
        int millis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        String where = host + ":" + port;
        SSLSocketFactory factory;
        try {
            factory = context().getSocketFactory();
        } catch (GeneralSecurityException | java.io.IOException e) {
            return new Probe(Probe.Outcome.FAILED, "this node's TLS material cannot be used: " + e.getMessage());
        }
        try (SSLSocket socket = (SSLSocket) factory.createSocket()) {
            socket.connect(new InetSocketAddress(host, port), millis);
            socket.setSoTimeout(millis);
            SSLParameters params = socket.getSSLParameters();
            params.setApplicationProtocols(new String[] {"h2"});
            socket.setSSLParameters(params);
            socket.startHandshake();
            // With TLS 1.3 a server that refuses the client's certificate says so after the
            // handshake: the first read gets its alert. One that took it sends its HTTP/2
            // settings, or nothing until the client's preface (the read times out).
            try {
                socket.getInputStream().read();
            } catch (SocketTimeoutException waiting) {
                // Taken: it waits for the client's preface.
            }
            return new Probe(Probe.Outcome.ACCEPTED, where);
        } catch (SSLException e) {
            return refusal(where, e);
        } catch (java.net.ConnectException | SocketTimeoutException e) {
            return new Probe(Probe.Outcome.UNREACHABLE, "nothing answers at " + where + " (" + e.getMessage() + ")");
        } catch (java.io.IOException e) {
            return new Probe(Probe.Outcome.FAILED, "TLS with the member at " + where + " failed: " + e);
        }
    }

    private static Probe refusal(String where, SSLException e) {
        String m = String.valueOf(e.getMessage());
        for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
            if (c instanceof java.security.cert.CertificateException) {
                return new Probe(Probe.Outcome.REFUSED, "show a certificate that this node's CA (" + CertificateAuthority.CA_CERT
                        + " in cluster.tls.dir) did not issue: they belong to another cluster, or this node's " + CertificateAuthority.CA_CERT
                        + " is another cluster's");
            }
        }
        for (String alert : new String[] {"bad_certificate", "unknown_ca", "certificate_unknown", "certificate_required", "access_denied"}) {
            if (m.contains(alert)) {
                return new Probe(Probe.Outcome.REFUSED, "refuse this node's certificate (" + m + "): " + CertificateAuthority.NODE_CERT
                        + " must be issued by the cluster's CA (bin/cairn certs issue --ca <the cluster's CA>)");
            }
        }
        return new Probe(Probe.Outcome.FAILED, "TLS with the member at " + where + " failed: " + m);
    }

    private SSLContext context() throws GeneralSecurityException, java.io.IOException {
        char[] none = new char[0];
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, none);
        keys.setKeyEntry("node", key, none, new java.security.cert.Certificate[] {certificate});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, none);
        KeyStore cas = KeyStore.getInstance("PKCS12");
        cas.load(null, none);
        for (int i = 0; i < trusted.size(); i++) {
            cas.setCertificateEntry("ca-" + i, trusted.get(i));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(cas);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return context;
    }

    /** Ratis parameters carrying this configuration for every gRPC channel and server of the log. */
    Parameters parameters() {
        Parameters p = new Parameters();
        GrpcConfigKeys.TLS.setConf(p, new GrpcTlsConfig(key, certificate, trusted, true));
        return p;
    }
}
