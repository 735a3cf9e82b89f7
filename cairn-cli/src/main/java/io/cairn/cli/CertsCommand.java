package io.cairn.cli;

import io.cairn.server.security.AdminCredential;
import io.cairn.server.security.CertificateAuthority;
import io.cairn.server.security.SecurityConfigException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code cairn certs init | issue}: the cluster's certificate authority and its node certificates. */
@Command(name = "certs", mixinStandardHelpOptions = true,
        description = "Create the cluster's certificate authority and issue node certificates (mutual TLS between nodes).",
        subcommands = {CertsCommand.Init.class, CertsCommand.Issue.class})
final class CertsCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a subcommand: init or issue");
    }

    /** What a subcommand does, returning what to print. */
    private interface Action {
        String run() throws IOException;
    }

    /**
     * Checks --days, runs the action, prints its result or the problem in one line as every
     * command does ({@code cairn certs issue: ...}): 0 done, 2 for anything refused (a bad
     * argument, a CA directory that is missing or damaged, a file that cannot be read or written).
     */
    private static int run(CommandLine.Model.CommandSpec spec, int days, Action action) {
        PrintWriter err = spec.commandLine().getErr();
        String called = "cairn certs " + spec.name();
        if (days < 1) {
            err.println(called + ": --days must be at least 1");
            return Main.USAGE;
        }
        try {
            spec.commandLine().getOut().println(action.run());
            return 0;
        } catch (SecurityConfigException | IOException | IllegalArgumentException e) {
            err.println(called + ": " + Main.oneLine(e));
            return Main.USAGE;
        }
    }

    @Command(name = "init", mixinStandardHelpOptions = true,
            description = "Create a cluster CA: ca.crt (give it to every node), ca.key (mode 600; keep it off the nodes if you can) "
                    + "and admin.token, the cluster's admin credential (mode 600).")
    static final class Init implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--dir", paramLabel = "DIR", defaultValue = "cairn-ca", description = "Where to create the CA (default ./cairn-ca).")
        Path dir;

        @Option(names = "--name", paramLabel = "NAME", defaultValue = "cairn", description = "A name for the cluster, shown in the CA's subject.")
        String name;

        @Option(names = "--days", paramLabel = "DAYS", defaultValue = "3650", description = "Validity in days (default 3650).")
        int days;

        @Override
        public Integer call() {
            return run(spec, days, () -> {
                X509Certificate ca = CertificateAuthority.init(dir, name, Duration.ofDays(days));
                Path admin = dir.resolve(AdminCredential.FILE);
                if (!Files.exists(admin)) {
                    AdminCredential.create(admin);
                }
                return "created cluster CA in " + dir.toAbsolutePath() + " (valid until " + ca.getNotAfter().toInstant() + ")\n"
                        + "and the cluster's admin credential in " + admin.toAbsolutePath() + " (mode 600; certs issue gives every node a copy)\n"
                        + "next, for every node: cairn certs issue --ca " + dir + " --node <id> --host <its internode host> --out <node data dir>/tls";
            });
        }
    }

    @Command(name = "issue", mixinStandardHelpOptions = true,
            description = "Issue (or rotate) a node's certificate: writes node.crt, node.key (mode 600), ca.crt and a copy of the CA "
                    + "directory's admin.token (mode 600) into --out. "
                    + "A running node picks up replaced files within a second, for new connections.")
    static final class Issue implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--ca", paramLabel = "DIR", defaultValue = "cairn-ca", description = "The CA directory (default ./cairn-ca).")
        Path ca;

        @Option(names = "--node", paramLabel = "ID", required = true, description = "The member id the certificate speaks for (1..65535).")
        int node;

        @Option(names = "--host", paramLabel = "HOST", description = "A host name or IP address the node is reached at (repeatable).")
        List<String> hosts = List.of();

        @Option(names = "--out", paramLabel = "DIR", required = true,
                description = "Where the node reads its certificates: its cluster.tls.dir (by default <data dir>/tls).")
        Path outDir;

        @Option(names = "--days", paramLabel = "DAYS", defaultValue = "365", description = "Validity in days (default 365).")
        int days;

        @Override
        public Integer call() {
            return run(spec, days, () -> {
                X509Certificate cert = CertificateAuthority.issueNode(ca, node, hosts, outDir, Duration.ofDays(days));
                String admin = "";
                Path token = ca.resolve(AdminCredential.FILE);
                if (Files.exists(token)) {
                    AdminCredential.copy(token, outDir.resolve(AdminCredential.FILE));
                    admin = ", with the cluster's admin credential";
                }
                return "issued the certificate of node " + node + " into " + outDir.toAbsolutePath() + " (valid until "
                        + cert.getNotAfter().toInstant() + ")" + admin;
            });
        }
    }
}
