package dev.pgqueue.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgqueue.cli.CliProcess.Result;
import dev.pgqueue.jdbi.JdbiJobStore;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bad input and unreachable databases: one clear line on stderr, nothing on stdout, the documented
 * exit code (1 error, 2 usage), no stack trace unless {@code --verbose}, never a password. Also the
 * URL from {@code PGQUEUE_URL}, help and version, and the {@code pgqueue} launcher script.
 */
@PostgresTest
class CliErrorsIT {

    static final String UNREACHABLE = "jdbc:postgresql://127.0.0.1:1/test?user=postgres&password=s3cret-pw";

    private final TestDatabase db;

    CliErrorsIT(TestDatabase db) {
        this.db = db;
    }

    @BeforeAll
    static void migrate(TestDatabase db) {
        JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
    }

    private String[] withDb(String... args) {
        String[] all = new String[args.length + 4];
        all[0] = "--url";
        all[1] = db.server().jdbcUrl();
        all[2] = "--schema";
        all[3] = db.schema();
        System.arraycopy(args, 0, all, 4, args.length);
        return all;
    }

    private static void assertOneLineError(Result result, int exit, String message) {
        assertThat(result.exit()).as(result.toString()).isEqualTo(exit);
        assertThat(result.out()).as(result.toString()).isEmpty();
        assertThat(result.err().lines().findFirst().orElseThrow()).as(result.toString()).startsWith("pgqueue: ").contains(message);
        assertThat(result.err()).as(result.toString()).doesNotContain("\tat ", "Exception:");
    }

    @Test
    void noDatabaseGiven_isAUsageError_namingBothWays() {
        Result result = CliProcess.run("status");

        assertOneLineError(result, PgQueueCli.EXIT_USAGE,
                "no database given: pass --url jdbc:postgresql://host:5432/database?user=… or set PGQUEUE_URL");
        assertThat(result.err().lines()).hasSize(1);
    }

    @Test
    void theUrlComesFromPgqueueUrl_whenNoOptionGivesIt() {
        Result result = CliProcess.run(Map.of("PGQUEUE_URL", db.server().jdbcUrl()), "--schema", db.schema(), "status");

        assertThat(result.exit()).as(result.toString()).isZero();
        assertThat(result.out()).startsWith("no queues");
    }

    @Test
    void aUrlThatIsNotPostgresJdbc_isAUsageError_withItsPasswordMasked() {
        Result result = CliProcess.run("--url", "postgres://app:hunter2@db/queue?password=hunter2", "status");

        assertOneLineError(result, PgQueueCli.EXIT_USAGE, "expected --url to be a PostgreSQL JDBC URL (jdbc:postgresql://host:port/database?user=…), got: postgres://app:***@db/queue?password=***");
        assertThat(result.err()).doesNotContain("hunter2");
    }

    @Test
    void anUnreachableDatabase_isOneLine_exitOne_withoutThePassword_andVerboseAddsTheStackTrace() {
        Result result = CliProcess.run("--url", UNREACHABLE, "status");

        assertOneLineError(result, PgQueueCli.EXIT_ERROR,
                "pgqueue: cannot connect to jdbc:postgresql://127.0.0.1:1/test?user=postgres&password=***: ");
        assertThat(result.err().lines()).hasSize(1);
        assertThat(result.err()).doesNotContain("s3cret-pw");

        Result verbose = CliProcess.run("--url", UNREACHABLE, "status", "--verbose");
        assertThat(verbose.exit()).isEqualTo(PgQueueCli.EXIT_ERROR);
        assertThat(verbose.err()).contains("\tat ").doesNotContain("s3cret-pw");
    }

    @Test
    void aMalformedSchemaName_isAUsageError() {
        Result result = CliProcess.run("--url", db.server().jdbcUrl(), "--schema", "x\"; DROP SCHEMA public; --", "status");

        assertOneLineError(result, PgQueueCli.EXIT_USAGE, "schema");
    }

    @Test
    void badFilterValues_areUsageErrors_sayingWhatIsAllowed() {
        assertOneLineError(CliProcess.run(withDb("jobs", "list", "--status", "failed,bogus")), PgQueueCli.EXIT_USAGE,
                "expected one of waiting, pending, processing, completed, failed, cancelled, got: bogus");
        assertOneLineError(CliProcess.run(withDb("jobs", "list", "--created-after", "yesterday")), PgQueueCli.EXIT_USAGE,
                "expected a time: an instant (2026-01-31T12:00:00Z), a UTC date (2026-01-31) or an age back from now (90s, 15m, 2h, 7d), got: yesterday");
        assertOneLineError(CliProcess.run(withDb("jobs", "list", "--user", "42")), PgQueueCli.EXIT_USAGE,
                "expected a UUID");
        assertOneLineError(CliProcess.run(withDb("jobs", "list", "--limit", "0")), PgQueueCli.EXIT_USAGE,
                "expected --limit to be 1 to 1000, got: 0");
        assertOneLineError(CliProcess.run(withDb("jobs", "list", "--limit", "many")), PgQueueCli.EXIT_USAGE, "--limit");
        assertOneLineError(CliProcess.run(withDb("retry", "--created-after", "2026-02-01", "--created-before", "2026-01-01")),
                PgQueueCli.EXIT_USAGE, "expected --created-after to be before --created-before");
        assertOneLineError(CliProcess.run(withDb("retry", "--queue", "")), PgQueueCli.EXIT_USAGE,
                "expected --queue to name one or more, got an empty name");
        assertOneLineError(CliProcess.run(withDb("health", "--max-pending-age", "-5m")), PgQueueCli.EXIT_USAGE,
                "expected a positive duration");
        assertOneLineError(CliProcess.run(withDb("jobs", "list", "--cursor", "not-a-cursor")), PgQueueCli.EXIT_USAGE,
                "cursor");
    }

    @Test
    void unknownOptionsAndMissingCommands_areUsageErrors_pointingAtHelp() {
        Result unknown = CliProcess.run(withDb("status", "--nope"));
        assertOneLineError(unknown, PgQueueCli.EXIT_USAGE, "Unknown option: '--nope'");
        assertThat(unknown.err()).contains("Run 'pgqueue status --help' for usage.");

        assertOneLineError(CliProcess.run(), PgQueueCli.EXIT_USAGE, "missing a command");
        assertOneLineError(CliProcess.run(withDb("job", "show")), PgQueueCli.EXIT_USAGE, "Missing required parameter: 'ID'");
        assertOneLineError(CliProcess.run(withDb("pause")), PgQueueCli.EXIT_USAGE, "Missing required parameter: 'QUEUE'");
    }

    @Test
    void helpListsEveryCommand_andVersionNamesTheMigrations() {
        Result help = CliProcess.run("--help");
        assertThat(help.exit()).isZero();
        assertThat(help.out()).contains("status", "jobs", "job", "retry", "cancel", "delete", "pause", "resume", "workers",
                "health", "migrate", "PGQUEUE_URL", "Exit codes: 0 ok (health UP), 1 error, 2 bad usage or input,", "3 health DEGRADED, 4 health DOWN");

        Result version = CliProcess.run("--version");
        assertThat(version.exit()).isZero();
        assertThat(version.out()).startsWith("pgqueue 0.1.0").contains("schema migrations up to version");
    }

    @Test
    void theLauncherScript_findsTheBuiltJar_andPassesArgumentsAndExitCodes() {
        Result version = CliProcess.launcher(Map.of(), "--version");
        assertThat(version.exit()).as(version.toString()).isZero();
        assertThat(version.out()).startsWith("pgqueue ");

        Result status = CliProcess.launcher(Map.of("PGQUEUE_CLI_JAR", CliProcess.JAR.toString(), "PGQUEUE_URL", db.server().jdbcUrl()),
                "--schema", db.schema(), "job", "show", "0190d3c4-5a6b-7c8d-9e0f-123456789abc");
        assertThat(status.exit()).as(status.toString()).isEqualTo(PgQueueCli.EXIT_ERROR);
        assertThat(status.err().strip()).isEqualTo("pgqueue: no job with id 0190d3c4-5a6b-7c8d-9e0f-123456789abc in schema " + db.schema());

        Result missing = CliProcess.launcher(Map.of("PGQUEUE_CLI_JAR", "/nonexistent/pgqueue-cli.jar"), "--version");
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).startsWith("pgqueue: cannot find pgqueue-cli.jar");
    }
}
