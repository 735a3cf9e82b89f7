package io.cairn.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cairn.server.security.AdminCredential;
import io.cairn.server.security.SecurityConfigException;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code cairn auth ...}: who am I, and the node's tokens (create, list, show, revoke, rotate) and admin credential. */
@Command(name = "auth", mixinStandardHelpOptions = true,
        description = "Manage bearer tokens (stored hashed, with an expiry) and the node's admin credential.",
        subcommands = {AuthCommand.WhoAmI.class, AuthCommand.Create.class, AuthCommand.ListTokens.class, AuthCommand.Show.class,
                AuthCommand.Revoke.class, AuthCommand.Rotate.class, AuthCommand.AdminToken.class})
final class AuthCommand implements Runnable {
    private static final ObjectMapper JSON = new ObjectMapper();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a subcommand: whoami, create, list, show, revoke, rotate or admin-token");
    }

    private static int print(ClientCommands.Target target, HttpRequest.Builder request) {
        int code = target.send(request, System.out, true);
        if (code == 0) {
            System.out.println();
        }
        return code;
    }

    private static String segment(String id) {
        return ClientCommands.segment(id);
    }

    @Command(name = "whoami", mixinStandardHelpOptions = true, description = "Show the token in use: its id, name and roles.")
    static final class WhoAmI implements Callable<Integer> {
        @Mixin ClientCommands.Target target;

        @Override
        public Integer call() {
            return print(target, HttpRequest.newBuilder(target.uri("/admin/auth/whoami")).GET());
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a token; prints it once (only its hash is stored). Roles: read:NS, write:NS, admin:NS (NS a namespace or *), metrics.")
    static final class Create implements Callable<Integer> {
        @Mixin ClientCommands.Target target;
        @Option(names = "--name", required = true, paramLabel = "NAME", description = "Whose token it is (shown in listings and the audit log).") String name;
        @Option(names = "--role", required = true, paramLabel = "ROLE", description = "A role (repeatable), e.g. read:default, write:*, metrics.") List<String> roles;
        @Option(names = "--ttl", paramLabel = "DURATION", description = "Its life, e.g. 30d, 12h (default: the node's auth.defaultTokenTtl, 90d).") String ttl;

        @Override
        public Integer call() throws Exception {
            ObjectNode body = JSON.createObjectNode().put("name", name);
            roles.forEach(body.putArray("roles")::add);
            if (ttl != null) {
                body.put("ttl", ttl);
            }
            return print(target, HttpRequest.newBuilder(target.uri("/admin/auth/tokens")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))));
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List tokens (never their secrets), a page at a time.")
    static final class ListTokens implements Callable<Integer> {
        @Mixin ClientCommands.Target target;
        @Option(names = "--after", paramLabel = "ID", description = "Start after this token id (the previous page's 'next').") String after;
        @Option(names = "--limit", paramLabel = "N", defaultValue = "100", description = "At most this many (1..500, default 100).") int limit;

        @Override
        public Integer call() {
            String query = "?limit=" + limit + (after == null ? "" : "&after=" + segment(after));
            return print(target, HttpRequest.newBuilder(target.uri("/admin/auth/tokens" + query)).GET());
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one token.")
    static final class Show implements Callable<Integer> {
        @Mixin ClientCommands.Target target;
        @Parameters(paramLabel = "ID") String id;

        @Override
        public Integer call() {
            return print(target, HttpRequest.newBuilder(target.uri("/admin/auth/tokens/" + segment(id))).GET());
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = "Revoke a token: refused at once on this node, and on every node within its auth.tokenCacheTtl (5 s by default).")
    static final class Revoke implements Callable<Integer> {
        @Mixin ClientCommands.Target target;
        @Parameters(paramLabel = "ID") String id;

        @Override
        public Integer call() {
            return print(target, HttpRequest.newBuilder(target.uri("/admin/auth/tokens/" + segment(id))).DELETE());
        }
    }

    @Command(name = "rotate", mixinStandardHelpOptions = true,
            description = "Replace a token with a new one (same name, roles and life); the old one works for --grace more, then stops.")
    static final class Rotate implements Callable<Integer> {
        @Mixin ClientCommands.Target target;
        @Parameters(paramLabel = "ID") String id;
        @Option(names = "--grace", paramLabel = "DURATION", defaultValue = "0s", description = "How long the old token keeps working (default 0: revoked at once).") String grace;

        @Override
        public Integer call() {
            return print(target, HttpRequest.newBuilder(target.uri("/admin/auth/tokens/" + segment(id) + "/rotate?grace=" + segment(grace)))
                    .POST(HttpRequest.BodyPublishers.noBody()));
        }
    }

    @Command(name = "admin-token", mixinStandardHelpOptions = true,
            description = "Show where the node's admin credential is, or write a new one (--rotate): a running node follows the file within a second.")
    static final class AdminToken implements Callable<Integer> {
        @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "cairn-data", description = "The node's data directory (default ./cairn-data).") Path dataDir;
        @Option(names = "--file", paramLabel = "FILE", description = "The credential file, when the node sets auth.adminTokenFile.") Path file;
        @Option(names = "--rotate", description = "Replace the credential with a new random one.") boolean rotate;

        @Override
        public Integer call() {
            Path target = file != null ? file : Files.exists(dataDir.resolve("tls").resolve(AdminCredential.FILE))
                    ? dataDir.resolve("tls").resolve(AdminCredential.FILE) : dataDir.resolve("auth").resolve(AdminCredential.FILE);
            try {
                if (rotate) {
                    AdminCredential.create(target);
                    System.out.println("wrote a new admin credential to " + target.toAbsolutePath()
                            + "; the node uses it within a second (on a cluster sharing one, copy it to every node's file)");
                    return 0;
                }
                if (!Files.exists(target)) {
                    System.err.println("cairn: no admin credential at " + target.toAbsolutePath() + " (a node creates it at its first start)");
                    return 1;
                }
                System.out.println(target.toAbsolutePath() + " (token " + AdminCredential.readCredential(target).id() + ")");
                return 0;
            } catch (SecurityConfigException e) {
                System.err.println("cairn: " + e.getMessage());
                return 1;
            }
        }
    }
}
