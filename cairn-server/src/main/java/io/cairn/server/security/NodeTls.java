package io.cairn.server.security;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's TLS identity for internode traffic: its certificate and key and the cluster CA, read
 * from a directory ({@link CertificateAuthority#NODE_CERT}, {@link CertificateAuthority#NODE_KEY},
 * {@link CertificateAuthority#CA_CERT}), as Netty contexts ({@link TlsProvider}) for both ends of a connection. Both
 * ends present certificates and trust only the cluster CA (mutual TLS 1.3); which member a peer is
 * comes from its certificate ({@link NodeIdentity}), never from what it says.
 *
 * <p><b>Rotation.</b> The files are looked at again, at most once per {@link ReloadingFiles#RECHECK_MILLIS},
 * whenever a connection is set up: when they changed, the new material is loaded and checked (it
 * must still be this node's, chain to a CA, and hold a matching key) and used for every new
 * connection; established connections keep theirs. Material that fails the checks is refused,
 * counted and logged, and the old stays in use. Thread-safe.
 */
public final class NodeTls {
    private static final Logger log = LoggerFactory.getLogger(NodeTls.class);
    private static final String[] PROTOCOLS = {"TLSv1.3"};

    private final int nodeId;
    private final ReloadingFiles<Material> material;

    /** What was loaded. */
    private record Material(SslContext server, SslContext client, X509Certificate cert, X509Certificate ca) {}

    private NodeTls(Path dir, int nodeId, Clock clock, AuditSink audit) {
        this.nodeId = nodeId;
        this.material = new ReloadingFiles<>(
                List.of(dir.resolve(CertificateAuthority.NODE_CERT), dir.resolve(CertificateAuthority.NODE_KEY), dir.resolve(CertificateAuthority.CA_CERT)),
                clock, files -> read(dir, nodeId, clock.instant()),
                loaded -> {
                    log.atInfo().addKeyValue("node", nodeId).addKeyValue("dir", dir).addKeyValue("notAfter", loaded.cert.getNotAfter().toInstant())
                            .log("reloaded TLS certificates; new connections use them");
                    audit.record("tls.internode.reloaded", "done", null, null,
                            Map.of("dir", dir.toString(), "notAfter", loaded.cert.getNotAfter().toInstant().toString()));
                },
                refused -> {
                    // A half-written rotation or a wrong file: keep what works, try again on a later change.
                    log.atWarn().addKeyValue("node", nodeId).addKeyValue("dir", dir).addKeyValue("reason", refused.getMessage())
                            .log("refused changed TLS certificates; still using the previous ones");
                    audit.record("tls.internode.reloaded", "refused", null, null, Map.of("dir", dir.toString(), "reason", refused.getMessage()));
                });
    }

    /**
     * Loads and checks the node's material from {@code dir}; refuses (with a message naming the
     * file and the fix) material that is missing, malformed, expired, of another member or not
     * issued by the CA beside it.
     */
    public static NodeTls load(Path dir, int nodeId, Clock clock) {
        return load(dir, nodeId, clock, AuditSink.NONE);
    }

    /** As {@link #load(Path, int, Clock)}; reloads and refused reloads are recorded in {@code audit}. */
    public static NodeTls load(Path dir, int nodeId, Clock clock, AuditSink audit) {
        for (String name : new String[] {CertificateAuthority.NODE_CERT, CertificateAuthority.NODE_KEY, CertificateAuthority.CA_CERT}) {
            if (!Files.isRegularFile(dir.resolve(name))) {
                throw new SecurityConfigException("nodes of a cluster talk only over mutual TLS, and " + dir.toAbsolutePath() + " has no " + name
                        + ". Create the cluster's CA once (bin/cairn certs init --dir cairn-ca), then this node's certificate"
                        + " (bin/cairn certs issue --ca cairn-ca --node " + nodeId + " --host <its internode host> --out " + dir
                        + "), or point cluster.tls.dir at where they are; docs/security.md explains");
            }
        }
        return new NodeTls(dir, nodeId, clock, audit);
    }

    /**
     * A node's TLS material as read from its directory and checked: its key, its certificate
     * (naming this member, issued by one of the trusted CAs, not expired), the CAs it trusts and
     * the one that issued it. What the internode transport and the metadata log both run on.
     */
    public record Checked(PrivateKey key, X509Certificate certificate, List<X509Certificate> trusted, X509Certificate issuer) {
        public Checked {
            trusted = List.copyOf(trusted);
        }
    }

    /** Reads and checks the material in {@code dir} for node {@code nodeId} at {@code now}; refuses it naming the file and the fix. */
    public static Checked check(Path dir, int nodeId, Instant now) {
        Path certFile = dir.resolve(CertificateAuthority.NODE_CERT);
        Path keyFile = dir.resolve(CertificateAuthority.NODE_KEY);
        Path caFile = dir.resolve(CertificateAuthority.CA_CERT);
        List<X509Certificate> chain = Pem.readCertificates(certFile);
        X509Certificate cert = chain.get(0);
        List<X509Certificate> cas = Pem.readCertificates(caFile);
        PrivateKey key = Pem.readKey(keyFile);
        int named = NodeIdentity.of(cert);
        if (named != nodeId) {
            throw new SecurityConfigException(certFile + " is " + (named < 0 ? "no member's certificate" : "node " + named + "'s certificate")
                    + ", and this is node " + nodeId + ": issue one with `bin/cairn certs issue --node " + nodeId + "`");
        }
        X509Certificate issuer = null;
        for (X509Certificate ca : cas) {
            try {
                cert.verify(ca.getPublicKey());
                issuer = ca;
                break;
            } catch (GeneralSecurityException e) {
                // Not this one.
            }
        }
        if (issuer == null) {
            throw new SecurityConfigException(certFile + " was not issued by the CA in " + caFile);
        }
        if (now.isAfter(cert.getNotAfter().toInstant())) {
            throw new SecurityConfigException(certFile + " expired at " + cert.getNotAfter().toInstant() + ": issue a new one");
        }
        return new Checked(key, cert, cas, issuer);
    }

    private static Material read(Path dir, int nodeId, Instant now) {
        Checked checked = check(dir, nodeId, now);
        PrivateKey key = checked.key();
        X509Certificate cert = checked.certificate();
        List<X509Certificate> cas = checked.trusted();
        Path certFile = dir.resolve(CertificateAuthority.NODE_CERT);
        Path keyFile = dir.resolve(CertificateAuthority.NODE_KEY);
        try {
            SslContext server = SslContextBuilder.forServer(key, cert).sslProvider(TlsProvider.get()).protocols(PROTOCOLS)
                    .trustManager(cas.toArray(X509Certificate[]::new)).clientAuth(ClientAuth.REQUIRE).build();
            SslContext client = SslContextBuilder.forClient().sslProvider(TlsProvider.get()).protocols(PROTOCOLS)
                    .keyManager(key, cert).trustManager(cas.toArray(X509Certificate[]::new))
                    // Peers are identified by the member id in their certificate (checked after the
                    // handshake), not by the host name they were dialled at.
                    .endpointIdentificationAlgorithm(null).build();
            return new Material(server, client, cert, checked.issuer());
        } catch (SSLException | IllegalArgumentException e) {
            throw new SecurityConfigException("the key in " + keyFile + " does not fit the certificate in " + certFile + ": " + e.getMessage(), e);
        }
    }

    /** The context for connections this node accepts. */
    public SslContext server() {
        return material.get().server;
    }

    /** The context for connections this node dials. */
    public SslContext client() {
        return material.get().client;
    }

    public int nodeId() {
        return nodeId;
    }

    /** When this node's certificate in use expires. */
    public Instant notAfter() {
        return material.current().cert.getNotAfter().toInstant();
    }

    /** When the CA certificate in use expires. */
    public Instant caNotAfter() {
        return material.current().ca.getNotAfter().toInstant();
    }

    public long reloads() {
        return material.reloads();
    }

    public long reloadFailures() {
        return material.failures();
    }
}
