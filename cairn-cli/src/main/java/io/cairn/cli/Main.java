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
                ClientCommands.Batch.class, ClientCommands.Status.class, AuthCommand.class, RepairCommand.class, MembershipCommand.class, RebalanceCommand.class, MembershipCommand.WhatIf.class, BenchCommand.class, AbuseCommand.class, DemoCommand.class, CertsCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        int code = commandLine().execute(args);
        if (code != StartCommand.KEEP_RUNNING) {
            System.exit(code);
        }
    }

    static CommandLine commandLine() {
        return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a command: start, demo, put, get, delete, batch, status, bench, abuse or certs");
    }

    /** Prints the build's version. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"cairn " + CairnNode.VERSION};
        }
    }
}
