package dev.pgqueue.cli;

import dev.pgqueue.admin.JobAdmin;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * What every subcommand shares: the global options of the {@code pgqueue} command (database, schema,
 * {@code --json}), stdout, and the admin API over the database. A subcommand returns its exit code.
 */
abstract class CliCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    PgQueueCli cli() {
        return (PgQueueCli) spec.root().userObject();
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    boolean json() {
        return cli().json();
    }

    Database database() {
        return cli().database();
    }

    JobAdmin admin() {
        return database().admin();
    }
}
