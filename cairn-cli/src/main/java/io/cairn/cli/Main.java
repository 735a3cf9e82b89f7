package io.cairn.cli;

import io.cairn.bench.AbuseCommand;
import io.cairn.bench.BenchCommand;
import io.cairn.server.CairnNode;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The one launcher: {@code cairn start | demo | put | get | delete | batch | status | bench | abuse | certs}. */
@Command(name = "cairn", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Cairn, a distributed key-value database.",
        subcommands = {StartCommand.class, ClientCommands.Put.class, ClientCommands.Get.class, ClientCommands.Delete.class,
                ClientCommands.Batch.class, ClientCommands.Status.class, Main.VersionCommand.class, AuthCommand.class, RepairCommand.class, MembershipCommand.class, RebalanceCommand.class, MembershipCommand.WhatIf.class, SettingsCommand.class, BenchCommand.class, AbuseCommand.class, DemoCommand.class, CertsCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        int code = execute(args);
        if (code != StartCommand.KEEP_RUNNING) {
            System.exit(code);
        }
    }

    /**
     * Runs the command line. The commands a script calls in a loop ({@code get}, {@code put},
     * {@code delete}, {@code version}) are parsed by their own command alone: building the whole
     * tree reflects over every command's options and loads what they use (the server, the load
     * generator, JSON), which costs most of a short call's time.
     */
    static int execute(String... args) {
        if (args.length > 0) {
            Object only = switch (args[0]) {
                case "get" -> new ClientCommands.Get();
                case "put" -> new ClientCommands.Put();
                case "delete" -> new ClientCommands.Delete();
                case "version" -> new VersionCommand();
                default -> null;
            };
            if (only != null) {
                CommandLine one = handled(new CommandLine(only).setCommandName("cairn " + args[0]), "cairn " + args[0]);
                return one.execute(java.util.Arrays.copyOfRange(args, 1, args.length));
            }
        }
        return commandLine().execute(args);
    }

    /** Exit codes every command shares (docs/operations.md, "The command line"). */
    static final int OK = 0;
    /** The node answered with an error (its JSON error is on stderr). */
    static final int NODE_ERROR = 1;
    /** Bad usage: an unknown option, a malformed value, a file that cannot be read. */
    static final int USAGE = 2;
    /** The node could not be reached, or did not answer in time. */
    static final int UNREACHABLE = 3;
    /** A bug in the command line itself; {@code CAIRN_DEBUG=1} prints its stack trace. */
    static final int INTERNAL = 70;

    static CommandLine commandLine() {
        return handled(new CommandLine(new Main()), null);
    }

    /** {@code cl} reporting every failure in one line with its exit code; {@code name}: how to call the command (null: the tree). */
    private static CommandLine handled(CommandLine cl, String name) {
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler((e, commandLine, parsed) -> {
            boolean usage = e instanceof UsageException || e instanceof java.io.IOException || e instanceof IllegalArgumentException;
            commandLine.getErr().println(called(commandLine, cl, name) + ": " + oneLine(e)
                    + (usage ? "" : " (an internal error; CAIRN_DEBUG=1 prints its stack trace)"));
            if (System.getenv("CAIRN_DEBUG") != null) {
                e.printStackTrace(commandLine.getErr());
            }
            return usage ? USAGE : INTERNAL;
        });
        cl.setParameterExceptionHandler((e, args) -> {
            CommandLine c = e.getCommandLine();
            c.getErr().println(called(c, cl, name) + ": " + e.getMessage());
            c.getErr().println("Try '" + called(c, cl, name) + " --help' for the options.");
            return USAGE;
        });
        return cl;
    }

    /** How the user called {@code c}: {@code cairn membership decommission}, not {@code cairn decommission}. */
    private static String called(CommandLine c, CommandLine root, String name) {
        if (name != null) {
            return name;
        }
        StringBuilder path = new StringBuilder();
        for (CommandLine at = c; at != null && at != root; at = at.getParent()) {
            path.insert(0, " " + at.getCommandName());
        }
        return "cairn" + path;
    }

    /** An exception as one line a user can act on: file problems name the file, others their message. */
    static String oneLine(Throwable e) {
        String message = switch (e) {
            case java.nio.file.NoSuchFileException f -> "no such file: " + f.getFile();
            case java.nio.file.AccessDeniedException f -> "permission denied: " + f.getFile();
            case java.nio.file.FileSystemException f -> f.getFile() + ": " + f.getReason();
            default -> e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        };
        return message.replace('\n', ' ');
    }

    /** A problem with what the user asked: reported in one line with exit code {@link #USAGE}. */
    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a command: start, demo, put, get, delete, batch, status, version, auth, membership, rebalance, repair, what-if, bench, abuse or certs");
    }

    /** {@code cairn version}: the build's version, as {@code cairn --version} prints it. */
    @Command(name = "version", mixinStandardHelpOptions = true, description = "Print Cairn's version (with --json: as JSON).")
    static final class VersionCommand implements java.util.concurrent.Callable<Integer> {
        @CommandLine.Option(names = "--json", description = "Print {\"version\": ...} for scripts.")
        boolean json;

        @Override
        public Integer call() {
            System.out.println(json ? "{\"version\":\"" + CairnNode.VERSION + "\",\"java\":\"" + Runtime.version() + "\"}"
                    : "cairn " + CairnNode.VERSION + " (Java " + Runtime.version().feature() + ")");
            return OK;
        }
    }

    /** Prints the build's version. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"cairn " + CairnNode.VERSION};
        }
    }
}
