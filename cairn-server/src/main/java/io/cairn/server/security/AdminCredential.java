package io.cairn.server.security;

import io.cairn.auth.Credential;
import io.cairn.auth.Role;
import io.cairn.auth.Token;
import io.cairn.auth.TokenState;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's own admin credential: a token kept in a file (mode 600) rather than in the token
 * store, so that the node can be administered before any token exists, and recovered if every
 * stored admin token is revoked or the store is out of reach. Whoever can read the file is the
 * node's administrator; {@code bin/cairn} reads it from the data directory. It never expires;
 * rotate it by writing a new token into the file ({@code bin/cairn auth admin-token --rotate}):
 * the node follows the file within a second, like its certificates.
 */
public final class AdminCredential {
    public static final String FILE = "admin.token";
    public static final String NAME = "admin";
    private static final Logger log = LoggerFactory.getLogger(AdminCredential.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path file;
    private final ReloadingFiles<TokenState> state;

    private AdminCredential(Path file, ReloadingFiles<TokenState> state) {
        this.file = file;
        this.state = state;
    }

    /**
     * Reads the credential in {@code file}, creating one first when the file does not exist; a
     * file that holds no valid token stops the start with a message saying how to fix it.
     */
    public static AdminCredential open(Path file, Clock clock, AuditSink audit) {
        if (!Files.exists(file)) {
            create(file);
            log.atWarn().addKeyValue("file", file.toAbsolutePath().normalize()).log("created this node's admin credential; bin/cairn uses it from there,"
                    + " other clients send it as 'Authorization: Bearer <token>'. Keep the file secret.");
            System.err.println("cairn: created the admin credential in " + file.toAbsolutePath().normalize() + " (mode 600; bin/cairn uses it)");
            audit.record("auth.admin.created", "done", NAME, null, Map.of("file", file.toAbsolutePath().toString()));
        }
        ReloadingFiles<TokenState> state = new ReloadingFiles<>(List.of(file), clock, files -> read(files.get(0)),
                s -> {
                    log.atInfo().addKeyValue("file", file).addKeyValue("token", s.token().id()).log("admin credential reloaded");
                    audit.record("auth.admin.reloaded", "done", NAME, null, Map.of("token", s.token().id()));
                },
                e -> {
                    log.atError().addKeyValue("file", file).log("admin credential not reloaded, keeping the previous one: {}", e.getMessage());
                    audit.record("auth.admin.reloaded", "refused", NAME, null, Map.of("reason", e.getMessage()));
                });
        return new AdminCredential(file, state);
    }

    /** Writes a new random admin credential to {@code file} (mode 600), replacing any, and returns it. */
    public static Credential create(Path file) {
        Credential c = random();
        write(file, c);
        return c;
    }

    /** Copies the credential in {@code from} to {@code to} (mode 600), checking it first. */
    public static void copy(Path from, Path to) {
        write(to, readCredential(from));
    }

    /** A new credential from the system's strong random source: for the admin file and for stored tokens. */
    static Credential random() {
        byte[] random = new byte[Credential.ID_BYTES + Credential.SECRET_BYTES];
        RANDOM.nextBytes(random);
        return Credential.fromRandom(random);
    }

    /** Writes {@code c} to {@code file} mode 600, creating its directory mode 700 when there is none. */
    private static void write(Path file, Credential c) {
        try {
            Path dir = file.toAbsolutePath().getParent();
            if (!Files.exists(dir)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            Pem.writeSecret(file, c.text() + "\n");
        } catch (IOException e) {
            throw new SecurityConfigException("cannot write the admin credential " + file + ": " + e.getMessage());
        }
    }

    /** The token in {@code file}, or a {@link SecurityConfigException} saying what is wrong with it. */
    public static Credential readCredential(Path file) {
        String text;
        try {
            if (Files.size(file) > 1024) {
                throw new SecurityConfigException(file + " is not an admin credential (too large)");
            }
            text = Files.readString(file, StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            throw new SecurityConfigException("cannot read the admin credential " + file + ": " + e.getMessage());
        }
        Credential c = Credential.parse(text);
        if (c == null) {
            throw new SecurityConfigException(file + " does not hold a Cairn token (cairn_<16 hex>_<43 base64url>); delete it to have"
                    + " the node create a new one at its next start, or write one with bin/cairn auth admin-token --rotate");
        }
        return c;
    }

    private static TokenState read(Path file) {
        Credential c = readCredential(file);
        Token t = new Token(c.id(), NAME, c.secretHash(), List.of(Role.ADMIN_ALL, Role.METRICS), 0, Token.NEVER, "admin.token file");
        return new TokenState(t, null, null);
    }

    /** This credential's state when {@code id} is its id, else null. */
    TokenState stateOf(String id) {
        TokenState s = state.get();
        return s.token().id().equals(id) ? s : null;
    }

    public Path file() {
        return file;
    }

    public String id() {
        return state.get().token().id();
    }
}
