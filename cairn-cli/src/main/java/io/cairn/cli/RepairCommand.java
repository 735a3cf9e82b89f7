package io.cairn.cli;

import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code cairn repair status|run}: the anti-entropy backlog, and exchanges on demand. */
@Command(name = "repair", mixinStandardHelpOptions = true,
        description = "Anti-entropy: how far this node's replicas are from converged, and exchanges on demand.",
        subcommands = {RepairCommand.Status.class, RepairCommand.Run.class})
final class RepairCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a subcommand: status or run");
    }

    /** Which partitions a subcommand is about. */
    static final class Scope {
        @Option(names = "--namespace", paramLabel = "NS", description = "Only this namespace (default, idempotency, auth).") String namespace;
        @Option(names = "--partition", paramLabel = "P", description = "Only this partition.") Integer partition;
    }

    private static String query(Scope scope, boolean all) {
        List<String> q = new ArrayList<>();
        if (scope.namespace != null) {
            q.add("namespace=" + URLEncoder.encode(scope.namespace, StandardCharsets.UTF_8));
        }
        if (scope.partition != null) {
            q.add("partition=" + scope.partition);
        }
        if (all) {
            q.add("all=true");
        }
        return q.isEmpty() ? "" : "?" + String.join("&", q);
    }

    private static int print(ClientCommands.Target target, HttpRequest.Builder request) {
        int code = target.send(request, System.out, true);
        if (code == 0) {
            System.out.println();
        }
        return code;
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "The repair backlog: partitions and keys known to differ, bytes to repair, time since the last exchange, an ETA, "
                    + "the scrub's corrupt records found and repaired, and the partitions not yet converged.")
    static final class Status implements Callable<Integer> {
        @Mixin ClientCommands.Target target;
        @Mixin Scope scope;
        @Option(names = "--all", description = "List every partition, converged ones too.") boolean all;

        @Override
        public Integer call() {
            return print(target, HttpRequest.newBuilder(target.uri("/admin/repair" + query(scope, all))).GET());
        }
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = "Exchange now with every other replica, for every partition this node holds (or those asked for); "
                    + "follow progress with 'repair status'.")
    static final class Run implements Callable<Integer> {
        @Mixin ClientCommands.Target target;
        @Mixin Scope scope;

        @Override
        public Integer call() {
            return print(target, HttpRequest.newBuilder(target.uri("/admin/repair" + query(scope, false)))
                    .POST(HttpRequest.BodyPublishers.noBody()));
        }
    }
}
