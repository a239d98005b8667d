package dev.pgqueue.cli;

import dev.pgqueue.PgQueueException;
import dev.pgqueue.ValidationException;
import java.io.PrintWriter;
import java.util.Arrays;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code pgqueue} command: operates a pgqueue database from a terminal or a script through the
 * admin API ({@link dev.pgqueue.admin.JobAdmin}) and the schema migrator, and serves its dashboard. Every read command prints an
 * aligned table for people, or JSON with {@code --json}; an error is one line on stderr and a non-zero
 * exit code ({@link #EXIT_ERROR}, {@link #EXIT_USAGE}); {@code health} also exits with
 * {@link #EXIT_DEGRADED} or {@link #EXIT_DOWN}. See {@code docs/cli.md}.
 */
@Command(name = "pgqueue",
        mixinStandardHelpOptions = true,
        versionProvider = PgQueueCli.Version.class,
        description = "Operate a pgqueue database: queues, jobs, workers, health and migrations.",
        footer = {"",
                "The JDBC URL comes from --url, else from the environment variable PGQUEUE_URL:",
                "keep a password there rather than on the command line, where ps shows it.",
                "Exit codes: 0 ok (health UP), 1 error, 2 bad usage or input,",
                "3 health DEGRADED, 4 health DOWN. See docs/cli.md."},
        subcommands = {
                StatusCommand.class,
                JobsCommand.class,
                JobCommand.class,
                BulkCommand.Retry.class,
                BulkCommand.Cancel.class,
                BulkCommand.Delete.class,
                QueueCommand.Pause.class,
                QueueCommand.Resume.class,
                WorkersCommand.class,
                HealthCommand.class,
                MigrateCommand.class,
                DashboardCommand.class,
                CommandLine.HelpCommand.class})
public final class PgQueueCli implements Runnable {

    /** Success; for {@code health}, the database is UP. */
    public static final int EXIT_OK = 0;
    /** The command failed: database unreachable, unknown job, schema not migrated, … */
    public static final int EXIT_ERROR = 1;
    /** Bad usage or input: an unknown option, a filter value that does not parse, a missing argument. */
    public static final int EXIT_USAGE = 2;
    /** {@code health}: working, with a problem an operator should look at. */
    public static final int EXIT_DEGRADED = 3;
    /** {@code health}: not working (database unreachable, schema missing). */
    public static final int EXIT_DOWN = 4;

    /** The environment variable read when {@code --url} is not given. */
    public static final String URL_ENV = "PGQUEUE_URL";

    @Option(names = "--url", scope = ScopeType.INHERIT, paramLabel = "<jdbc-url>",
            description = "PostgreSQL JDBC URL, e.g. jdbc:postgresql://host:5432/db?user=app "
                    + "(default: the environment variable " + URL_ENV + ")")
    String url;

    @Option(names = "--schema", scope = ScopeType.INHERIT, paramLabel = "<schema>",
            description = "Schema of pgqueue's tables (default: public)")
    String schema = "public";

    @Option(names = "--json", scope = ScopeType.INHERIT, description = "Print JSON for scripts instead of a table")
    boolean json;

    @Option(names = "--verbose", scope = ScopeType.INHERIT,
            description = "Log what pgqueue does and print stack traces of errors (to stderr)")
    boolean verbose;

    @Spec
    CommandSpec spec;

    private Database database;

    /**
     * Runs the command line and exits the JVM with its exit code.
     *
     * @param args the command line
     */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /**
     * Runs the command line, printing to stdout and stderr.
     *
     * @param args the command line
     * @return the exit code
     */
    static int run(String... args) {
        // slf4j-simple reads its level once, at its first logger: before anything logs.
        boolean verbose = Arrays.asList(args).contains("--verbose");
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "info" : "warn");
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        PgQueueCli cli = new PgQueueCli();
        try {
            return commandLine(cli).execute(args);
        } finally {
            cli.close();
        }
    }

    static CommandLine commandLine(PgQueueCli cli) {
        CommandLine commandLine = new CommandLine(cli);
        commandLine.setCaseInsensitiveEnumValuesAllowed(true);
        commandLine.setAllowSubcommandsAsOptionParameters(true); // --schema jobs, --queue status
        commandLine.setParameterExceptionHandler(new UsageErrors());
        commandLine.setExecutionExceptionHandler(new Errors());
        return commandLine;
    }

    /** Without a subcommand: the usage. */
    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing a command");
    }

    /**
     * The database the command works on, opened on first use from {@code --url} or
     * {@value #URL_ENV}.
     */
    Database database() {
        if (database == null) {
            database = Database.open(url != null ? url : System.getenv(URL_ENV), schema);
        }
        return database;
    }

    boolean json() {
        return json;
    }

    String schema() {
        return schema;
    }

    /** The URL given, or null (for {@code migrate --print}, which works without a database). */
    String urlOrNull() {
        return url != null ? url : System.getenv(URL_ENV);
    }

    private void close() {
        if (database != null) {
            database.close();
        }
    }

    /** A bad command line: one line naming what was wrong, then where to find help. */
    private static final class UsageErrors implements IParameterExceptionHandler {
        @Override
        public int handleParseException(ParameterException e, String[] args) {
            CommandLine command = e.getCommandLine();
            PrintWriter err = command.getErr();
            err.println("pgqueue: " + Database.redact(OneLine.of(e.getMessage())));
            err.println("Run '" + command.getCommandSpec().qualifiedName() + " --help' for usage.");
            err.flush();
            return EXIT_USAGE;
        }
    }

    /**
     * A failed command: one line on stderr (with the stack trace under {@code --verbose}); bad input
     * exits with {@link #EXIT_USAGE}, everything else with {@link #EXIT_ERROR}.
     */
    private static final class Errors implements IExecutionExceptionHandler {
        @Override
        public int handleExecutionException(Exception e, CommandLine command, ParseResult parsed) {
            PgQueueCli cli = (PgQueueCli) command.getCommandSpec().root().userObject();
            PrintWriter err = command.getErr();
            err.println("pgqueue: " + message(e));
            if (cli.verbose) {
                e.printStackTrace(err);
            }
            err.flush();
            if (e instanceof CliException cliException) {
                return cliException.exitCode();
            }
            return e instanceof ValidationException ? EXIT_USAGE : EXIT_ERROR;
        }

        private static String message(Exception e) {
            if (e instanceof CliException) {
                return OneLine.of(e.getMessage()); // made with the URL already redacted
            }
            if (e instanceof PgQueueException) {
                return Database.redact(OneLine.of(e.getMessage()));
            }
            return "unexpected " + e.getClass().getSimpleName() + ": " + Database.redact(OneLine.of(e.getMessage()))
                    + " (--verbose prints the stack trace)";
        }
    }

    /** The version in the jar's manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = PgQueueCli.class.getPackage().getImplementationVersion();
            return new String[] {"pgqueue " + (version != null ? version : "(development build)")
                    + ", schema migrations up to version " + dev.pgqueue.jdbi.SchemaMigrator.latestVersion()};
        }
    }
}
