package io.cairn.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code cairn settings show|set}: the settings every member of an elastic cluster shares, as its
 * metadata log records them ({@code GET/PUT /admin/cluster/settings}). A change is recorded at
 * once and each member takes it at its next start.
 */
@Command(name = "settings", mixinStandardHelpOptions = true,
        description = "The settings every member shares (limits, hint window, clock offset bound, purge grace, metadata voters), from the cluster's metadata log.",
        subcommands = {SettingsCommand.Show.class, SettingsCommand.Set.class})
final class SettingsCommand implements Runnable {
    private static final String PATH = "/admin/cluster/settings";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a subcommand: show or set");
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "The cluster's record, the values the node asked runs with, and whether it needs a restart to take the record's.")
    static final class Show implements Callable<Integer> {
        @Mixin ClientCommands.Target target;
        @Mixin MembershipCommand.Output output;

        @Override
        public Integer call() {
            int[] code = {0};
            JsonNode view = MembershipCommand.get(target, PATH, code);
            if (view == null) {
                return code[0];
            }
            if (output.json) {
                System.out.println(view);
                return 0;
            }
            System.out.printf("epoch %d%n%-28s %-16s %s%n", view.path("epoch").asLong(), "SETTING", "CLUSTER", "THIS NODE");
            view.path("node").properties().forEach(e -> System.out.printf("%-28s %-16s %s%n", e.getKey(),
                    view.path("cluster").path(e.getKey()).asText("-"), e.getValue().asText()));
            System.out.println(view.path("restartNeeded").asBoolean()
                    ? "restart needed: this node takes the cluster's values at its next start"
                    : view.path("cluster").isEmpty() ? "the cluster has not recorded its settings yet" : "this node runs with the cluster's values");
            return 0;
        }
    }

    @Command(name = "set", mixinStandardHelpOptions = true,
            description = "Record new values (NAME=VALUE, as in a configuration file: limits.maxValueBytes=4MiB); each member takes them at its next start.")
    static final class Set implements Callable<Integer> {
        @Mixin ClientCommands.Target target;
        @Mixin MembershipCommand.Output output;
        @Parameters(arity = "1..*", paramLabel = "NAME=VALUE", description = "The settings to change.") List<String> changes;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            ObjectNode body = MembershipCommand.JSON.createObjectNode();
            for (String change : changes) {
                int eq = change.indexOf('=');
                if (eq <= 0 || eq == change.length() - 1) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "'" + change + "' is not NAME=VALUE");
                }
                String name = change.substring(0, eq);
                if (body.has(name)) {
                    throw new CommandLine.ParameterException(spec.commandLine(), name + " is given twice; give each setting once");
                }
                body.put(name, change.substring(eq + 1));
            }
            ClientCommands.Target.Reply reply = target.fetch(HttpRequest.newBuilder(target.uri(PATH)).header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString(body.toString())));
            if (reply.code() != 0) {
                return reply.code();
            }
            if (output.json) {
                System.out.println(reply.body());
                return 0;
            }
            try {
                JsonNode r = MembershipCommand.JSON.readTree(reply.body());
                System.out.println("recorded at epoch " + r.path("epoch").asLong() + "; each member takes the new values at its next start"
                        + " (restart them one at a time; cairn settings show --url <member> says which still need it)");
            } catch (IOException e) {
                System.out.println(reply.body());
            }
            return 0;
        }
    }
}
