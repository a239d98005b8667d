package dev.pgqueue.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobType;
import dev.pgqueue.cli.CliProcess.Result;
import dev.pgqueue.jdbi.JdbiJobQueue;
import dev.pgqueue.jdbi.JdbiJobStore;
import dev.pgqueue.jdbi.SchemaMigrator;
import dev.pgqueue.spi.JobStore.ClaimParams;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code pgqueue health} on real databases in each state it reports, with its exit codes: UP 0,
 * DEGRADED 3, DOWN 4. Each test uses a schema of its own. The UP cases allow an hour-old transaction,
 * so that another test run's transaction on the shared server cannot turn them DEGRADED.
 */
@PostgresTest
class CliHealthIT {

    record Mail(int n) {}

    static final JobType<Mail> MAIL = JobType.of("send-mail", Mail.class);
    static final ObjectMapper JSON = new ObjectMapper();

    private final TestDatabase db;
    private final Jdbi jdbi;
    private final String schema;

    CliHealthIT(TestDatabase db) {
        this.db = db;
        this.jdbi = Jdbi.create(db.dataSource());
        this.schema = db.schema() + "_h";
    }

    @AfterEach
    void dropSchema() {
        db.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    }

    private Result health(String... args) {
        String[] all = new String[args.length + 5];
        all[0] = "--url";
        all[1] = db.server().jdbcUrl();
        all[2] = "--schema";
        all[3] = schema;
        all[4] = "health";
        System.arraycopy(args, 0, all, 5, args.length);
        return CliProcess.run(all);
    }

    private JdbiJobStore migrated() {
        return JdbiJobStore.builder(jdbi).schema(schema).build();
    }

    @Test
    void aMigratedSchemaWithNothingStuck_isUp_exitZero() throws Exception {
        JdbiJobQueue.create(migrated()).enqueue(MAIL, new Mail(1));

        Result table = health("--max-transaction-age", "1h");
        assertThat(table.exit()).as(table.toString()).isEqualTo(PgQueueCli.EXIT_OK);
        assertThat(table.out()).startsWith("status: UP").contains("database  reachable",
                "schema    " + schema + " at migration version " + SchemaMigrator.latestVersion());
        assertThat(table.out()).doesNotContain("reasons:");

        Result json = health("--max-transaction-age", "1h", "--json");
        JsonNode node = JSON.readTree(json.out());
        assertThat(json.exit()).isZero();
        assertThat(node.get("status").asText()).isEqualTo("UP");
        assertThat(node.get("reasons")).isEmpty();
        assertThat(node.get("databaseReachable").asBoolean()).isTrue();
        assertThat(node.get("schema").get("version").asInt()).isEqualTo(SchemaMigrator.latestVersion());
        assertThat(node.get("table").has("deadRows")).isTrue();
    }

    /**
     * Dead rows alone are not judged from one reading: a busy queue holds 40 dead rows per live one
     * between vacuums, all removable (the worker's check compares readings over time instead). The
     * table line and the JSON report the counts. This test decides when vacuum runs (autovacuum off
     * for its table).
     */
    @Test
    void manyDeadRows_withNoTransactionHoldingThemBack_areUp_andReported() throws Exception {
        JdbiJobStore store = migrated();
        String table = schema + ".job_queue";
        db.execute("ALTER TABLE " + table + " SET (autovacuum_enabled = false)");
        db.execute("INSERT INTO " + table + " (job_type, payload) SELECT 'send-mail', '{\"n\": 1}' FROM generate_series(1, 1000)");
        awaitStatistics(store, 0, 1000); // else the inserts may be counted after the vacuum that follows
        db.execute("VACUUM " + table);
        for (int i = 1; i <= 40; i++) {
            db.execute("UPDATE " + table + " SET priority = " + i);
        }
        db.execute("INSERT INTO " + table + " (job_type, payload) SELECT 'send-mail', '{\"n\": 2}' FROM generate_series(1, 10000)");
        db.execute("DELETE FROM " + table + " WHERE priority = 0");
        awaitStatistics(store, 50_000, 10_000);

        Result text = health("--max-transaction-age", "1h");
        assertThat(text.exit()).as(text.toString()).isEqualTo(PgQueueCli.EXIT_OK);
        assertThat(text.out()).contains("50,000 dead, 10,000 inserted since the last vacuum");

        Result json = health("--max-transaction-age", "1h", "--json");
        assertThat(json.exit()).as(json.toString()).isEqualTo(PgQueueCli.EXIT_OK);
        JsonNode node = JSON.readTree(json.out()).get("table");
        assertThat(node.get("deadRows").asLong()).isEqualTo(50_000);
        assertThat(node.get("insertedSinceVacuum").asLong()).isEqualTo(10_000);
    }

    /** Waits until the table's statistics (reported by backends within seconds) show the dead and inserted rows. */
    private static void awaitStatistics(JdbiJobStore store, long dead, long insertedSinceVacuum) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            var health = store.jobTableHealth().orElseThrow();
            if (health.deadRows() >= dead && health.insertedSinceVacuum() >= insertedSinceVacuum) {
                return;
            }
            assertThat(System.nanoTime()).as("statistics reached %s dead, %s inserted since vacuum: %s", dead,
                    insertedSinceVacuum, health).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    @Test
    void anUnreachableDatabase_isDown_exitFour_andThePasswordIsNeverPrinted() throws Exception {
        Result result = CliProcess.run("--url", "jdbc:postgresql://127.0.0.1:1/test?user=postgres&password=s3cret-pw",
                "health", "--json");

        assertThat(result.exit()).as(result.toString()).isEqualTo(PgQueueCli.EXIT_DOWN);
        JsonNode node = JSON.readTree(result.out());
        assertThat(node.get("status").asText()).isEqualTo("DOWN");
        assertThat(node.get("databaseReachable").asBoolean()).isFalse();
        assertThat(node.get("reasons").get(0).asText()).startsWith("cannot connect to jdbc:postgresql://127.0.0.1:1/test?user=postgres&password=***");
        assertThat(result.out() + result.err()).doesNotContain("s3cret-pw");
    }

    @Test
    void aSchemaWithoutPgqueueTables_isDown() {
        Result result = health();

        assertThat(result.exit()).as(result.toString()).isEqualTo(PgQueueCli.EXIT_DOWN);
        assertThat(result.out()).startsWith("status: DOWN").contains("schema " + schema + " is not ready for this pgqueue")
                .contains("run 'pgqueue migrate'");
    }

    @Test
    void aSchemaAnotherToolMigrated_isUp_andServesTheOtherCommands() {
        migrated();
        // As Flyway or Liquibase leave it: every object, nothing in pgqueue's own history table.
        db.execute("DELETE FROM " + schema + ".pgqueue_schema_history");

        Result result = health("--max-transaction-age", "1h");
        Result status = CliProcess.run("--url", db.server().jdbcUrl(), "--schema", schema, "status");

        assertThat(result.exit()).as(result.toString()).isZero();
        assertThat(result.out()).startsWith("status: UP").contains("applied by another tool");
        assertThat(status.exit()).as(status.toString()).isZero();
    }

    @Test
    void aSchemaOlderThanThisPgqueue_isDegraded_exitThree() {
        migrated();
        // A schema behind this pgqueue: its newest migration not recorded, and an object of V8 missing.
        db.execute("DELETE FROM " + schema + ".pgqueue_schema_history WHERE version = ?", SchemaMigrator.latestVersion());
        db.execute("ALTER TABLE " + schema + ".job_queue DROP COLUMN trace_context");

        Result result = health();

        assertThat(result.exit()).as(result.toString()).isEqualTo(PgQueueCli.EXIT_DEGRADED);
        assertThat(result.out()).startsWith("status: DEGRADED").contains("is at migration version "
                + (SchemaMigrator.latestVersion() - 1) + ", this pgqueue needs " + SchemaMigrator.latestVersion())
                .contains("missing column job_queue.trace_context");
    }

    @Test
    void aPendingJobOverdueInAnActiveQueue_isDegraded_butNotInAPausedOne() throws Exception {
        JdbiJobQueue queue = JdbiJobQueue.create(migrated());
        queue.enqueue(MAIL, new Mail(1), EnqueueOptions.defaults().queue("overdue-q").runAt(Instant.now().minus(Duration.ofMinutes(20))));

        Result degraded = health("--max-transaction-age", "1h", "--max-pending-age", "10m");
        assertThat(degraded.exit()).as(degraded.toString()).isEqualTo(PgQueueCli.EXIT_DEGRADED);
        assertThat(degraded.out()).contains("queue overdue-q: a pending job has been due for 20m",
                "(more than 10m00s): no worker serves it, or the workers cannot keep up");

        assertThat(health("--max-transaction-age", "1h", "--max-pending-age", "30m").exit()).as("within the limit").isZero();

        assertThat(CliProcess.run("--url", db.server().jdbcUrl(), "--schema", schema, "pause", "overdue-q").exit()).isZero();
        Result paused = health("--max-transaction-age", "1h", "--max-pending-age", "10m");
        assertThat(paused.exit()).as("a paused queue is meant to wait: " + paused).isZero();
    }

    @Test
    void jobsProcessingWithNoLiveWorker_areDegraded() throws Exception {
        JdbiJobStore store = migrated();
        JdbiJobQueue.create(store).enqueue(MAIL, new Mail(1));
        // A worker that claimed and died: the job stays processing, and no worker is left to rescue it.
        assertThat(store.jobClaim(new ClaimParams("default", Set.of("send-mail"), 1, "gone-worker", UUID.randomUUID(),
                Duration.ofSeconds(30), null))).hasSize(1);

        Result result = health("--max-transaction-age", "1h", "--json");

        assertThat(result.exit()).as(result.toString()).isEqualTo(PgQueueCli.EXIT_DEGRADED);
        JsonNode node = JSON.readTree(result.out());
        assertThat(node.get("processingJobs").asLong()).isEqualTo(1);
        assertThat(node.get("liveWorkers").asInt()).isZero();
        assertThat(node.get("reasons").get(0).asText()).startsWith("1 jobs are processing but no worker is alive");
    }

    @Test
    void aTransactionHoldingBackVacuum_isDegraded() throws Exception {
        migrated();
        try (var connection = db.dataSource().getConnection(); var st = connection.createStatement()) {
            connection.setAutoCommit(false);
            st.execute("SELECT pg_catalog.txid_current()"); // holds an xid, and with it the xmin horizon
            Thread.sleep(1_500);

            Result result = health("--max-transaction-age", "1s");

            assertThat(result.exit()).as(result.toString()).isEqualTo(PgQueueCli.EXIT_DEGRADED);
            assertThat(result.out()).contains("holds back vacuum of job_queue");
            connection.rollback();
        }
    }
}
