package io.cairn.server.metadata;

import io.cairn.server.security.CertificateAuthority;
import io.cairn.server.security.NodeTls;
import io.cairn.server.security.SecurityConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import java.util.Objects;
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

    /** Ratis parameters carrying this configuration for every gRPC channel and server of the log. */
    Parameters parameters() {
        Parameters p = new Parameters();
        GrpcConfigKeys.TLS.setConf(p, new GrpcTlsConfig(key, certificate, trusted, true));
        return p;
    }
}
