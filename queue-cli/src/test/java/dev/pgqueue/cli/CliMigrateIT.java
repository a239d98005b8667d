package dev.pgqueue.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgqueue.cli.CliProcess.Result;
import dev.pgqueue.jdbi.SchemaMigrator;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code pgqueue migrate} applies pgqueue's migrations; {@code migrate --print} prints their SQL and
 * applies nothing: against a database (only what is pending) or without one (every migration), and
 * the printed SQL, run by hand as a DBA would, leaves a schema the other commands accept.
 */
@PostgresTest
class CliMigrateIT {

    static final ObjectMapper JSON = new ObjectMapper();

    private final TestDatabase db;
    private final String schema;

    CliMigrateIT(TestDatabase db) {
        this.db = db;
        this.schema = db.schema() + "_mig";
    }

    @AfterEach
    void dropSchema() {
        db.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    }

    private Result run(String... args) {
        String[] all = new String[args.length + 4];
        all[0] = "--url";
        all[1] = db.server().jdbcUrl();
        all[2] = "--schema";
        all[3] = schema;
        System.arraycopy(args, 0, all, 4, args.length);
        return CliProcess.run(all);
    }

    private boolean schemaExists() {
        return db.queryForLong("SELECT count(*) FROM pg_namespace WHERE nspname = ?", schema) == 1;
    }

    @Test
    void print_withoutADatabase_printsEveryMigrationForTheSchema() {
        Result result = CliProcess.run("--schema", "jobs", "migrate", "--print");

        assertThat(result.exit()).as(result.toString()).isZero();
        assertThat(result.err()).isEmpty();
        assertThat(result.out()).startsWith("-- pgqueue migrations for schema jobs, up to version " + SchemaMigrator.latestVersion())
                .contains("BEGIN;", "CREATE SCHEMA IF NOT EXISTS \"jobs\";", "SET LOCAL search_path = \"jobs\", pg_temp;", "COMMIT;");
        IntStream.rangeClosed(1, SchemaMigrator.latestVersion()).forEach(v ->
                assertThat(result.out()).contains("-- ---- V" + v + "__", "VALUES (" + v + ", 'V" + v + "__"));
        assertThat(result.out()).isEqualTo(SchemaMigrator.script("jobs"));
    }

    @Test
    void print_againstAnEmptyDatabase_appliesNothing_andTheSqlRunByHandMigratesIt() throws Exception {
        Result printed = run("migrate", "--print");

        assertThat(printed.exit()).as(printed.toString()).isZero();
        assertThat(printed.out()).contains("-- ---- V1__create_job_queue.sql ----");
        assertThat(schemaExists()).as("--print applies nothing").isFalse();

        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            st.execute(printed.out()); // what a DBA does with psql -f
        }
        Result status = run("status");
        assertThat(status.exit()).as(status.toString()).isZero();
        assertThat(status.out().strip()).isEqualTo("no queues: schema " + schema + " holds no jobs and no paused queue");
        Result again = run("migrate", "--print");
        assertThat(again.out()).contains("Nothing to apply").doesNotContain("BEGIN;");
        assertThat(run("migrate").out().strip()).isEqualTo("schema " + schema + " is up to date (migration version "
                + SchemaMigrator.latestVersion() + ")");
    }

    @Test
    void migrate_appliesEveryVersionOnce_andSaysSo() throws Exception {
        Result first = run("migrate");

        List<Integer> all = IntStream.rangeClosed(1, SchemaMigrator.latestVersion()).boxed().toList();
        assertThat(first.exit()).as(first.toString()).isZero();
        assertThat(first.out().strip()).isEqualTo("applied migrations " + all + " to schema " + schema
                + " (now at version " + SchemaMigrator.latestVersion() + ")");
        assertThat(db.queryForLong("SELECT count(*) FROM " + schema + ".pgqueue_schema_history")).isEqualTo(all.size());

        JsonNode second = JSON.readTree(run("migrate", "--json").out());
        assertThat(second.get("applied")).isEmpty();
        assertThat(second.get("version").asInt()).isEqualTo(SchemaMigrator.latestVersion());
        assertThat(second.get("schema").asText()).isEqualTo(schema);
    }

    @Test
    void commandsOnASchemaWithoutPgqueue_sayToMigrate_andCreateNothing() {
        Result result = run("status");

        assertThat(result.exit()).isEqualTo(PgQueueCli.EXIT_ERROR);
        assertThat(result.out()).isEmpty();
        assertThat(result.err().strip()).startsWith("pgqueue: schema " + schema + " is not ready for this pgqueue")
                .contains("the schema does not exist")
                .endsWith("; run 'pgqueue migrate', or 'pgqueue migrate --print' for the SQL")
                .doesNotContain("\n");
        assertThat(schemaExists()).isFalse();
    }
}
