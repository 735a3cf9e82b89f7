package io.cairn.server.security;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * PEM files: X.509 certificates and unencrypted PKCS#8 EC private keys, the formats openssl,
 * Netty and every TLS stack read. Keys are written with mode 600, through a temporary file renamed
 * into place, so a key is never readable by others, not even for an instant.
 */
public final class Pem {
    private static final String CERT = "CERTIFICATE";
    private static final String KEY = "PRIVATE KEY";

    private Pem() {}

    public static List<X509Certificate> readCertificates(Path file) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            List<X509Certificate> out = new ArrayList<>();
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            for (Object c : factory.generateCertificates(new ByteArrayInputStream(bytes))) {
                out.add((X509Certificate) c);
            }
            if (out.isEmpty()) {
                throw new SecurityConfigException(file + " holds no PEM certificate");
            }
            return out;
        } catch (NoSuchFileException e) {
            throw new SecurityConfigException("certificate " + file + " does not exist", e);
        } catch (IOException e) {
            throw new SecurityConfigException("cannot read certificate " + file + ": " + e, e);
        } catch (CertificateException e) {
            throw new SecurityConfigException(file + " is not a valid PEM certificate: " + e.getMessage(), e);
        }
    }

    public static PrivateKey readKey(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            throw new SecurityConfigException("private key " + file + " does not exist", e);
        } catch (IOException e) {
            throw new SecurityConfigException("cannot read private key " + file + ": " + e, e);
        }
        String begin = "-----BEGIN " + KEY + "-----";
        String end = "-----END " + KEY + "-----";
        int from = text.indexOf(begin);
        int to = text.indexOf(end);
        if (from < 0 || to < from) {
            throw new SecurityConfigException(file + " is not an unencrypted PKCS#8 PEM private key (" + begin + ")");
        }
        try {
            byte[] der = Base64.getMimeDecoder().decode(text.substring(from + begin.length(), to));
            return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            throw new SecurityConfigException(file + " is not a valid EC private key: " + e.getMessage(), e);
        }
    }

    static String encode(X509Certificate cert) {
        try {
            return block(CERT, cert.getEncoded());
        } catch (CertificateException e) {
            throw new IllegalStateException("a certificate we built cannot be encoded", e);
        }
    }

    static String encode(PrivateKey key) {
        return block(KEY, key.getEncoded());
    }

    private static String block(String type, byte[] der) {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
    }

    /** Writes a public file (a certificate), replacing any. */
    static void writePublic(Path file, String pem) throws IOException {
        write(file, pem, "rw-r--r--");
    }

    /** Writes a secret file (a key), mode 600 from its creation, replacing any. */
    static void writeSecret(Path file, String pem) throws IOException {
        write(file, pem, "rw-------");
    }

    private static void write(Path file, String pem, String mode) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.writeString(tmp, pem, StandardCharsets.US_ASCII);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString(mode));
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
