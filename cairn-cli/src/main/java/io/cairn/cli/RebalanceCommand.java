package io.cairn.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.net.URI;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code cairn rebalance status|pause|resume|cancel}: the running membership change's partition
 * moves. Status asks the node for the plan and every active member for what it streamed, and
 * prints a progress bar; {@code --watch} redraws it until the change is done.
 */
@Command(name = "rebalance", mixinStandardHelpOptions = true,
        description = "The partition moves of the running membership change: progress, rate, ETA; pause, resume or cancel them.",
        subcommands = {RebalanceCommand.Status.class, RebalanceCommand.Pause.class, RebalanceCommand.Resume.class, RebalanceCommand.Cancel.class})
final class RebalanceCommand implements Runnable {
    private static final int BAR = 30;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a subcommand: status, pause, resume or cancel");
    }

    /** What the cluster's members streamed so far, summed (members that did not answer are counted). */
    record Streamed(long bytes, long records, long errors, long streamsCompleted, int members, int unreachable) {}

    static Streamed streamed(ClientCommands.Target target, JsonNode membership) {
        long bytes = 0;
        long records = 0;
        long errors = 0;
        long completed = 0;
        int members = 0;
        int unreachable = 0;
        String scheme = URI.create(target.url).getScheme();
        for (JsonNode m : membership.path("members")) {
            if (m.path("state").asText().equals("removed")) {
                continue;
            }
            members++;
            ClientCommands.Target at = target.at(scheme + "://" + m.path("http").asText());
            // A member that is down is reported, not fatal: its share is simply missing from the sums.
            JsonNode view = MembershipCommand.get(at, "/admin/rebalance", new int[1]);
            if (view == null) {
                unreachable++;
                continue;
            }
            JsonNode here = view.path("thisNode");
            bytes += here.path("bytesStreamed").asLong();
            records += here.path("recordsStreamed").asLong();
            errors += here.path("streamErrors").asLong();
            completed += here.path("streamsCompleted").asLong();
        }
        return new Streamed(bytes, records, errors, completed, members, unreachable);
    }

    /** One status block: the plan, a bar of partitions moved, streams, bytes, rate and ETA. Returns its line count. */
    static int print(PrintStream out, JsonNode view, Streamed s, double bytesPerSecond) {
        int lines = MembershipCommand.noteIfRemoved(view, out) ? 1 : 0;
        out.printf("epoch %d · %s%n", view.path("epoch").asLong(), MembershipCommand.describeChange(view.path("change")));
        lines++;
        if (view.path("change").isNull()) {
            return lines;
        }
        int queued = view.path("partitionsQueued").asInt();
        int left = view.path("partitionsMoving").asInt() + queued;
        int total = Math.max(view.path("partitionsInPlan").asInt(), left);
        int done = total - left;
        int filled = total == 0 ? BAR : (int) ((long) BAR * done / total);
        String eta = view.path("etaSeconds").isNull() ? "ETA unknown yet" : "ETA " + duration(view.path("etaSeconds").asLong());
        out.printf("[%s%s] %d/%d partitions moved · %d streaming, %d switching reads%s · %s%n", "#".repeat(filled), ".".repeat(BAR - filled),
                done, total, view.path("partitionsStreaming").asInt(), view.path("partitionsFinishing").asInt(),
                queued > 0 ? ", " + queued + " waiting" : "", eta);
        lines++;
        long streamsDone = view.path("streamsDone").asLong();
        long streamsLeft = view.path("streamsRemaining").asLong();
        String remaining = "";
        if (s.streamsCompleted() > 0 && streamsLeft > 0) {
            // An estimate: streams still to run times the average size of the streams completed so far.
            remaining = " · ~" + bytes(s.bytes() / s.streamsCompleted() * streamsLeft) + " to go (estimated)";
        }
        out.printf("streams %d done, %d to go · streamed %s, %d records%s%s%s%n", streamsDone, streamsLeft, bytes(s.bytes()), s.records(),
                bytesPerSecond > 0 ? String.format(Locale.ROOT, " · %s/s", bytes((long) bytesPerSecond)) : "", remaining,
                s.errors() > 0 ? " · " + s.errors() + " chunk errors (retried)" : "");
        lines++;
        if (s.unreachable() > 0) {
            out.printf("(%d of %d members did not answer; their streams are not counted)%n", s.unreachable(), s.members());
            lines++;
        }
        if (view.path("change").path("paused").asBoolean()) {
            out.println("paused: resume with 'cairn rebalance resume'");
            lines++;
        }
        return lines;
    }

    static String bytes(long b) {
        if (b < 1024) {
            return b + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = b;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    static String duration(long seconds) {
        if (seconds < 60) {
            return seconds + " s";
        }
        if (seconds < 3600) {
            return seconds / 60 + " min " + seconds % 60 + " s";
        }
        return seconds / 3600 + " h " + seconds % 3600 / 60 + " min";
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "The running change's moves: a progress bar of partitions moved, streams done and to go, bytes and records streamed "
                    + "(summed over the members), rate and ETA. --watch redraws it until the change is done.")
    static final class Status implements Callable<Integer> {
        @Mixin ClientCommands.Target target;
        @Mixin MembershipCommand.Output output;
        @Option(names = "--watch", description = "Redraw every --interval until no change is running (Ctrl-C to stop watching; the change goes on).")
        boolean watch;
        @Option(names = "--interval", paramLabel = "SECONDS", defaultValue = "1", description = "Seconds between redraws with --watch (default 1).")
        int intervalSeconds;

        @Override
        public Integer call() throws InterruptedException {
            if (intervalSeconds < 1) {
                System.err.println("cairn: --interval must be at least 1 second");
                return 2;
            }
            boolean redraw = System.console() != null;
            int printed = 0;
            long lastBytes = -1;
            long lastNanos = 0;
            double rate = 0;
            while (true) {
                int[] code = {0};
                JsonNode view = MembershipCommand.get(target, "/admin/rebalance", code);
                if (view == null) {
                    return code[0];
                }
                if (output.json) {
                    System.out.println(view);
                } else {
                    JsonNode membership = MembershipCommand.get(target, "/admin/membership", code);
                    if (membership == null) {
                        return code[0];
                    }
                    Streamed s = streamed(target, membership);
                    long now = System.nanoTime();
                    if (lastBytes >= 0 && now > lastNanos) {
                        rate = (s.bytes() - lastBytes) * 1e9 / (now - lastNanos);
                    }
                    lastBytes = s.bytes();
                    lastNanos = now;
                    if (redraw && printed > 0) {
                        // Up over the previous block and clear it, so the bar redraws in place.
                        System.out.print("\033[" + printed + "A\033[J");
                    }
                    printed = print(System.out, view, s, rate);
                }
                // A removed node is no place to watch a change from: its view may lag, or stop, behind the cluster's.
                if (!watch || view.path("change").isNull() || view.path("removedFromCluster").asBoolean()) {
                    return 0;
                }
                Thread.sleep(intervalSeconds * 1000L);
            }
        }
    }

    /** A step of the running change: {@code POST /admin/rebalance/<action>}. */
    abstract static class PlanAction implements Callable<Integer> {
        @Mixin ClientCommands.Target target;
        @Mixin MembershipCommand.Output output;

        abstract String action();

        @Override
        public Integer call() {
            return MembershipCommand.change(target, "/admin/rebalance/" + action(), output.json);
        }
    }

    @Command(name = "pause", mixinStandardHelpOptions = true,
            description = "Pause the running change: no new partition stream starts (running ones finish); writes and reads go on as they are.")
    static final class Pause extends PlanAction {
        @Override
        String action() {
            return "pause";
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true, description = "Resume a paused change.")
    static final class Resume extends PlanAction {
        @Override
        String action() {
            return "resume";
        }
    }

    @Command(name = "cancel", mixinStandardHelpOptions = true,
            description = "Cancel the running change: partitions still reading from their owners go back to them; those already switched finish.")
    static final class Cancel extends PlanAction {
        @Override
        String action() {
            return "cancel";
        }
    }
}
