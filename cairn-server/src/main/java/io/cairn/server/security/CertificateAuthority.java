package io.cairn.server.security;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A cluster's own certificate authority, as files: {@code bin/cairn certs init} creates it,
 * {@code bin/cairn certs issue --node N} issues node certificates from it. Keys are EC P-256,
 * signatures ECDSA with SHA-256. A node certificate names its member
 * ({@link NodeIdentity}: {@code urn:cairn:node:<id>}) and the host names and addresses it is
 * reached at, and serves both ends of TLS (server and client authentication).
 *
 * <p>Files: the CA directory holds {@value #CA_CERT} and {@value #CA_KEY} (mode 600: whoever
 * reads it can mint members); a node directory holds {@value #NODE_CERT}, {@value #NODE_KEY}
 * (mode 600) and a copy of {@value #CA_CERT}, which is all a node needs.
 */
public final class CertificateAuthority {
    public static final String CA_CERT = "ca.crt";
    public static final String CA_KEY = "ca.key";
    public static final String NODE_CERT = "node.crt";
    public static final String NODE_KEY = "node.key";
    public static final Duration DEFAULT_CA_VALIDITY = Duration.ofDays(3650);
    public static final Duration DEFAULT_NODE_VALIDITY = Duration.ofDays(365);
    // Certificates start to be valid a little in the past: a peer whose clock is behind accepts them.
    private static final Duration BACKDATE = Duration.ofHours(1);
    private static final SecureRandom RANDOM = new SecureRandom();

    private CertificateAuthority() {}

    /**
     * Creates a CA in {@code dir}. Refuses to replace an existing CA key: every node certificate
     * issued from it would stop being trusted.
     */
    public static X509Certificate init(Path dir, String name, Duration validity) throws IOException {
        Path key = dir.resolve(CA_KEY);
        if (Files.exists(key)) {
            throw new SecurityConfigException(key + " exists already: a new CA would invalidate every certificate issued from it"
                    + " (remove it first if that is what you want)");
        }
        KeyPair pair = newKeyPair();
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "Cairn").addRDN(BCStyle.CN, "Cairn cluster CA " + name).build();
        Instant now = Instant.now();
        try {
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(), Date.from(now.minus(BACKDATE)),
                    Date.from(now.plus(validity)), subject, pair.getPublic());
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
            X509Certificate cert = sign(b, pair.getPrivate());
            Pem.writeSecret(key, Pem.encode(pair.getPrivate()));
            Pem.writePublic(dir.resolve(CA_CERT), Pem.encode(cert));
            return cert;
        } catch (CertIOException | GeneralSecurityException e) {
            throw new IllegalStateException("building the CA certificate failed", e);
        }
    }

    /**
     * Issues a certificate for member {@code nodeId} from the CA in {@code caDir} into
     * {@code outDir} (node.crt, node.key, ca.crt), replacing what is there: that is how a node's
     * certificate is rotated (running nodes reload it).
     *
     * @param hosts host names and IP addresses the node is reached at (for clients checking them)
     */
    public static X509Certificate issueNode(Path caDir, int nodeId, List<String> hosts, Path outDir, Duration validity) throws IOException {
        if (nodeId < 1 || nodeId > 65_535) {
            throw new SecurityConfigException("node id must be 1..65535, got " + nodeId);
        }
        X509Certificate ca = Pem.readCertificates(caDir.resolve(CA_CERT)).get(0);
        PrivateKey caKey = Pem.readKey(caDir.resolve(CA_KEY));
        KeyPair pair = newKeyPair();
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "Cairn").addRDN(BCStyle.CN, "Cairn node " + nodeId).build();
        Instant now = Instant.now();
        Instant notAfter = now.plus(validity);
        if (notAfter.isAfter(ca.getNotAfter().toInstant())) {
            notAfter = ca.getNotAfter().toInstant(); // A certificate cannot outlive its issuer usefully.
        }
        List<GeneralName> names = new ArrayList<>();
        names.add(new GeneralName(GeneralName.uniformResourceIdentifier, NodeIdentity.uriOf(nodeId)));
        for (String host : hosts) {
            names.add(isAddress(host) ? new GeneralName(GeneralName.iPAddress, host) : new GeneralName(GeneralName.dNSName, host));
        }
        try {
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca, serial(), Date.from(now.minus(BACKDATE)), Date.from(notAfter),
                    subject, pair.getPublic());
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            b.addExtension(Extension.extendedKeyUsage, false,
                    new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
            b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca));
            X509Certificate cert = sign(b, caKey);
            cert.verify(ca.getPublicKey());
            Pem.writeSecret(outDir.resolve(NODE_KEY), Pem.encode(pair.getPrivate()));
            Pem.writePublic(outDir.resolve(NODE_CERT), Pem.encode(cert));
            Pem.writePublic(outDir.resolve(CA_CERT), Pem.encode(ca));
            return cert;
        } catch (CertIOException | GeneralSecurityException e) {
            throw new IllegalStateException("issuing a certificate for node " + nodeId + " failed", e);
        }
    }

    /** A literal IPv4 or IPv6 address (never resolved: a name stays a DNS name). */
    private static boolean isAddress(String host) {
        return host.contains(":") || host.matches("\\d{1,3}(\\.\\d{1,3}){3}");
    }

    private static KeyPair newKeyPair() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("EC P-256 keys are part of every JDK", e);
        }
    }

    private static BigInteger serial() {
        return new BigInteger(127, RANDOM).add(BigInteger.ONE);
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key) throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }
}
