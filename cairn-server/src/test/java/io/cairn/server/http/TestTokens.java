package io.cairn.server.http;

import io.cairn.auth.Credential;
import io.cairn.server.security.AdminCredential;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;

/**
 * One admin credential per test JVM, placed in every test node's data directory as its
 * {@code auth/admin.token} (the file a node creates at first start), so test clients can
 * authenticate to any node, alone or in a cluster.
 */
final class TestTokens {
    static final Credential ADMIN = random();
    static final String AUTHORIZATION = "Bearer " + ADMIN.text();
    /** The header line, CRLF included, for hand-written requests. */
    static final String AUTH_LINE = "Authorization: " + AUTHORIZATION + "\r\n";

    private TestTokens() {}

    private static Credential random() {
        byte[] b = new byte[Credential.ID_BYTES + Credential.SECRET_BYTES];
        new SecureRandom().nextBytes(b);
        return Credential.fromRandom(b);
    }

    /** Writes the test admin credential into {@code dataDir} unless the node already has one. */
    static void provide(Path dataDir) {
        Path file = dataDir.resolve("auth").resolve(AdminCredential.FILE);
        if (Files.exists(file)) {
            return;
        }
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, ADMIN.text() + "\n");
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
