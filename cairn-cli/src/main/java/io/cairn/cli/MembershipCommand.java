package io.cairn.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cairn membership status|join|decommission|remove|replace} and {@code cairn what-if}: the
 * cluster's members as its metadata log holds them, and the changes an operator asks for. Every
 * change goes through the metadata log (any member takes it), is idempotent, and is refused with
 * the reason when unsafe; status is printed for people, {@code --json} prints what the node sent.
 */
@Command(name = "membership", mixinStandardHelpOptions = true,
        description = "The cluster's members (from its metadata log) and membership changes: join, decommission, remove, replace.",
        subcommands = {MembershipCommand.Status.class, MembershipCommand.Join.class, MembershipCommand.Decommission.class,
                MembershipCommand.Remove.class, MembershipCommand.Replace.class})
final class MembershipCommand implements Runnable {
    static final ObjectMapper JSON = new ObjectMapper();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a subcommand: status, join, decommission, remove or replace");
    }

    /** Output choice shared by the read commands. */
    static final class Output {
        @Option(names = "--json", description = "Print the node's JSON answer instead of the summary.") boolean json;
    }

    /** A new member's description, as {@code join} and {@code replace} take it. */
    static final class NewMember {
        @Option(names = "--id", required = true, paramLabel = "ID", description = "The new node's id (never used before in this cluster).") int id;
        @Option(names = "--zone", required = true, paramLabel = "ZONE", description = "Its zone.") String zone;
        @Option(names = "--http", required = true, paramLabel = "HOST:PORT", description = "Its HTTP address.") String http;
        @Option(names = "--internode", required = true, paramLabel = "HOST:PORT", description = "Its internode address.") String internode;
        @Option(names = "--metadata", paramLabel = "HOST:PORT",
                description = "Its metadata-log address (required when the cluster's members have one).") String metadata;

        List<String> query() {
            List<String> q = new ArrayList<>(List.of("id=" + id, "zone=" + enc(zone), "http=" + enc(http), "internode=" + enc(internode)));
            if (metadata != null) {
                q.add("metadata=" + enc(metadata));
            }
            return q;
        }
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** Reads a JSON answer, or null after reporting why on stderr (exit code in {@code code[0]}). */
    static JsonNode get(ClientCommands.Target target, String path, int[] code) {
        ClientCommands.Target.Reply reply = target.fetch(HttpRequest.newBuilder(target.uri(path)).GET());
        code[0] = reply.code();
        if (reply.code() != 0) {
            return null;
        }
        try {
            return JSON.readTree(reply.body());
        } catch (IOException e) {
            System.err.println("cairn: " + target.url + " answered something that is not JSON: "
                    + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : Main.oneLine(e)));
            code[0] = 1;
            return null;
        }
    }

    /** Posts a change; prints a one-line summary (or the JSON answer) on success. */
    static int change(ClientCommands.Target target, String path, boolean json) {
        ClientCommands.Target.Reply reply = target.fetch(HttpRequest.newBuilder(target.uri(path)).POST(HttpRequest.BodyPublishers.noBody()));
        if (reply.code() != 0) {
            return reply.code();
        }
        if (json) {
            System.out.println(reply.body());
            return 0;
        }
        try {
            JsonNode r = JSON.readTree(reply.body());
            System.out.println("applied " + r.path("applied").asText() + " at epoch " + r.path("epoch").asLong() + "; " + describeChange(r.path("change")));
            System.out.println("follow it with: cairn rebalance status --watch");
        } catch (IOException e) {
            System.out.println(reply.body());
        }
        return 0;
    }

    static String describeChange(JsonNode change) {
        if (change == null || change.isNull() || change.isMissingNode()) {
            return "no change running";
        }
        String what = change.path("kind").asText() + " of node " + change.path("node").asInt()
                + (change.has("replacement") ? " by node " + change.path("replacement").asInt() : "");
        String state = change.path("cancelled").asBoolean() ? "cancelling" : change.path("paused").asBoolean() ? "paused" : "running";
        return what + " (plan " + change.path("id").asLong() + ") " + state;
    }

    /** Whether {@code view} comes from a node the log lists as removed (its view may lag the cluster's); if so, prints its note. */
    static boolean noteIfRemoved(JsonNode view, PrintStream out) {
        if (!view.path("removedFromCluster").asBoolean()) {
            return false;
        }
        out.println("note: " + view.path("note").asText("this node was removed from the cluster; ask a member"));
        return true;
    }

    static void printMembers(JsonNode view, PrintStream out) {
        noteIfRemoved(view, out);
        out.printf("epoch %d · N=%d · %d partitions · %s%n", view.path("epoch").asLong(), view.path("replicationFactor").asInt(),
                view.path("partitions").asInt(), describeChange(view.path("change")));
        out.printf("%-4s %-12s %-9s %-10s %-22s %-22s %s%n", "ID", "ZONE", "STATE", "PARTITIONS", "HTTP", "INTERNODE", "METADATA");
        for (JsonNode m : view.path("members")) {
            out.printf("%-4d %-12s %-9s %-10s %-22s %-22s %s%n", m.path("id").asInt(), m.path("zone").asText(), m.path("state").asText(),
                    m.path("partitions").asText(), m.path("http").asText(), m.path("internode").asText(),
                    m.path("metadata").asText().isEmpty() ? "-" : m.path("metadata").asText());
        }
        JsonNode g = view.path("metadataGroup");
        if (g.isObject() && !g.isEmpty()) {
            out.printf("metadata log: voters %s · listeners %s · leader %s%s%n", g.path("voters"), g.path("listeners"),
                    g.path("leader").asInt() == 0 ? "none" : g.path("leader").asText(),
                    g.path("changing").asBoolean() ? " · reconfiguring" : "");
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "The members at the latest epoch this node applied: id, zone, state, partitions held, addresses; the change running; the metadata log's voters and leader.")
    static final class Status implements Callable<Integer> {
        @Mixin ClientCommands.Target target;
        @Mixin Output output;

        @Override
        public Integer call() {
            int[] code = {0};
            JsonNode view = get(target, "/admin/membership", code);
            if (view == null) {
                return code[0];
            }
            if (output.json) {
                System.out.println(view);
            } else {
                printMembers(view, System.out);
            }
            return 0;
        }
    }

    @Command(name = "join", mixinStandardHelpOptions = true,
            description = "Register a new node (usually done by the node itself: cairn start --join HOST:PORT); partitions move to it until the cluster is balanced.")
    static final class Join implements Callable<Integer> {
        @Mixin ClientCommands.Target target;
        @Mixin Output output;
        @ArgGroup(exclusive = false, multiplicity = "1") NewMember member;

        @Override
        public Integer call() {
            return change(target, "/admin/membership/join?" + String.join("&", member.query()), output.json);
        }
    }

    /** The override for plans that leave fewer zones than before. */
    static final class ZoneLoss {
        @Option(names = "--allow-zone-loss", description = "Accept a plan that leaves the replicas in fewer zones than before.") boolean allow;
    }

    /** The override for removing or replacing a node this node still hears. */
    static final class Force {
        @Option(names = "--force", description = "Remove or replace the node even though its heartbeats still arrive (its copies are dropped"
                + " without being streamed away; a live node leaves by decommission).") boolean force;

        /** The query parameter it adds, with its leading {@code &}, or "". */
        String query() {
            return force ? "&force=true" : "";
        }
    }

    /** A change naming one member: {@code POST /admin/membership/<action>?node=ID}. */
    abstract static class NodeChange implements Callable<Integer> {
        @Mixin ClientCommands.Target target;
        @Mixin Output output;
        @Mixin ZoneLoss zoneLoss;
        @Parameters(index = "0", paramLabel = "NODE", description = "The node's id.") int node;

        abstract String action();

        /** Further query parameters of this action, each with its leading {@code &}. */
        String extra() {
            return "";
        }

        @Override
        public Integer call() {
            return change(target, "/admin/membership/" + action() + "?node=" + node + (zoneLoss.allow ? "&allowZoneLoss=true" : "") + extra(),
                    output.json);
        }
    }

    @Command(name = "decommission", mixinStandardHelpOptions = true,
            description = "Retire a live node: its partitions stream to their new owners, then it leaves (its /ready turns 503).")
    static final class Decommission extends NodeChange {
        @Override
        String action() {
            return "decommission";
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Remove a dead node for good: its partitions are re-replicated from the surviving replicas, those with the fewest copies first.")
    static final class Remove extends NodeChange {
        @Mixin Force force;

        @Override
        String action() {
            return "remove";
        }

        @Override
        String extra() {
            return force.query();
        }
    }

    @Command(name = "replace", mixinStandardHelpOptions = true,
            description = "Replace a dead node by a new one (empty disk) that takes over exactly its partitions; then start the new node with --join.")
    static final class Replace implements Callable<Integer> {
        @Mixin ClientCommands.Target target;
        @Mixin Output output;
        @Mixin ZoneLoss zoneLoss;
        @Mixin Force force;
        @Parameters(index = "0", paramLabel = "NODE", description = "The dead node's id.") int node;
        @ArgGroup(exclusive = false, multiplicity = "1", heading = "The replacement:%n") NewMember member;

        @Override
        public Integer call() {
            return change(target, "/admin/membership/replace?node=" + node + "&" + String.join("&", member.query())
                    + (zoneLoss.allow ? "&allowZoneLoss=true" : "") + force.query(), output.json);
        }
    }

    @Command(name = "what-if", mixinStandardHelpOptions = true,
            description = "Which partitions would become unavailable (quorum reads, quorum writes), under-replicated or lost if a zone or nodes were lost.")
    static final class WhatIf implements Callable<Integer> {
        @Mixin ClientCommands.Target target;
        @Mixin Output output;
        @Option(names = "--lose", required = true, paramLabel = "zone:ZONE|node:ID[,ID...]", description = "What to lose, e.g. zone:eu-1 or node:2,3.")
        String lose;

        @Override
        public Integer call() {
            int[] code = {0};
            JsonNode view = get(target, "/admin/what-if?lose=" + enc(lose), code);
            if (view == null) {
                return code[0];
            }
            if (output.json) {
                System.out.println(view);
                return 0;
            }
            System.out.printf("losing %s (nodes %s) at epoch %d, quorum %d:%n", view.path("lose").asText(), view.path("nodes"),
                    view.path("epoch").asLong(), view.path("quorum").asInt());
            view.path("namespaces").fields().forEachRemaining(e -> {
                JsonNode ns = e.getValue();
                System.out.printf("  namespace %s (%s, defaults r=%s w=%s)%n", e.getKey(), ns.path("consistency").asText("quorum"),
                        ns.path("defaultReadQuorum").asText("?"), ns.path("defaultWriteQuorum").asText("?"));
                line("unavailable for quorum reads", ns.path("unavailableForQuorumReads"));
                line("unavailable for quorum writes", ns.path("unavailableForQuorumWrites"));
                line("unavailable at default reads", ns.path("unavailableForDefaultReads"));
                line("unavailable at default writes", ns.path("unavailableForDefaultWrites"));
                line("under-replicated", ns.path("underReplicated"));
                line("with no replica left", ns.path("withNoReplicaLeft"));
            });
            JsonNode metadata = view.path("metadata");
            if (metadata.path("known").asBoolean()) {
                System.out.printf("  metadata log: %s of voters %s lost; membership, namespace and settings changes %s%n",
                        metadata.path("votersLost"), metadata.path("voters"), metadata.path("changes").asText());
            } else if (!metadata.isMissingNode()) {
                System.out.printf("  metadata log: %s%n", metadata.path("reason").asText("unknown"));
            }
            return 0;
        }

        private static void line(String what, JsonNode partitions) {
            System.out.printf("    %-30s %d%s%n", what, partitions.size(), partitions.isEmpty() ? "" : " " + abbreviated(partitions));
        }

        private static String abbreviated(JsonNode partitions) {
            List<String> ids = new ArrayList<>();
            for (JsonNode p : partitions) {
                if (ids.size() == 16) {
                    ids.add("…");
                    break;
                }
                ids.add(p.asText());
            }
            return "(partitions " + String.join(", ", ids) + ")";
        }
    }
}
