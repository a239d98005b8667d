package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobStatus;
import dev.pgqueue.JobType;
import dev.pgqueue.Worker;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * V2 as the contract promises it: plain SQL that can run twice, and an upgrade under a running
 * previous version (its statements, kept verbatim in test resources, still work afterwards).
 */
@PostgresTest
class MigrationV2Test {

    record Note(String text) {}

    static final JobType<Note> NOTE = JobType.of("note", Note.class);

    private final TestDatabase db;
    private final ScratchSchemas schemas;

    MigrationV2Test(TestDatabase db) {
        this.db = db;
        this.schemas = new ScratchSchemas(db);
    }

    @AfterEach
    void dropSchemas() {
        schemas.dropAll();
    }

    /** Every object V1 and V2 define, described, so that two states of a schema can be compared. */
    private List<String> catalog(String schema) throws SQLException {
        String sql = """
                SELECT 'column ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' not null ' || a.attnotnull
                       || ' default ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '-')
                  FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                 WHERE a.attrelid = (quote_ident(?) || '.job_queue')::regclass AND a.attnum > 0 AND NOT a.attisdropped
                UNION ALL
                SELECT 'constraint ' || conname || ' ' || pg_get_constraintdef(oid)
                  FROM pg_constraint WHERE conrelid = (quote_ident(?) || '.job_queue')::regclass
                UNION ALL
                SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = ? AND tablename = 'job_queue'
                UNION ALL
                SELECT 'function ' || p.oid::regprocedure::text || ' ' || coalesce(array_to_string(p.proconfig, ','), '')
                       || ' ' || md5(p.prosrc)
                  FROM pg_proc p WHERE p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = ?)
                UNION ALL
                SELECT 'trigger ' || tgname FROM pg_trigger
                 WHERE tgrelid = (quote_ident(?) || '.job_queue')::regclass AND NOT tgisinternal
                 ORDER BY 1
                """;
        List<String> objects = new ArrayList<>();
        try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 1; i <= 5; i++) {
                ps.setString(i, schema);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    objects.add(rs.getString(1));
                }
            }
        }
        return objects;
    }

    @Test
    void v2_runByHandTwice_leavesTheSchemaExactlyAsTheFirstRunDid() throws SQLException {
        String schema = schemas.create("byhand");
        schemas.runMigrationFile(schema, "V1__create_job_queue.sql");
        schemas.runMigrationFile(schema, "V2__unique_jobs_results_progress.sql");
        List<String> once = catalog(schema);

        schemas.runMigrationFile(schema, "V2__unique_jobs_results_progress.sql");

        assertThat(catalog(schema)).containsExactlyElementsOf(once);
        assertThat(once).anyMatch(o -> o.startsWith("index job_queue_dedupe_idx CREATE UNIQUE INDEX"))
                .anyMatch(o -> o.startsWith("constraint job_queue_unique_states_check"))
                .anyMatch(o -> o.startsWith("function " + schema + ".job_queue_enqueue_unique(")
                        && o.contains("search_path=" + schema + ", pg_temp"))
                .noneMatch(o -> o.startsWith("function " + schema + ".job_queue_enqueue(text,jsonb,text,integer,"
                        + "timestamp with time zone,integer,uuid) "));
    }

    @Test
    void upgradingAV1SchemaWithJobs_whileThePreviousVersionRuns_keepsItsJobsAndStatementsWorking() throws Exception {
        String schema = schemas.create("upgrade");
        schemas.runMigrationFile(schema, "V1__create_job_queue.sql");
        Jdbi jdbi = Jdbi.create(db.dataSource());
        String previousComplete = SqlFiles.read("/previous-version/complete.sql").replace("{schema}", '"' + schema + '"');
        String previousGet = SqlFiles.read("/previous-version/get.sql").replace("{schema}", '"' + schema + '"');
        String claim = SqlFiles.read("/previous-version/claim.sql").replace("{schema}", '"' + schema + '"');
        UUID pending = enqueueByV1Function(schema, "{\"text\": \"pending\"}");
        UUID running = enqueueByV1Function(schema, "{\"text\": \"running\"}");
        UUID token = UUID.randomUUID();
        try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(claim)) {
            // The previous version's worker claims the oldest job (claim.sql is unchanged by V2).
            ps.setObject(1, null);
            ps.setString(2, "default");
            ps.setArray(3, c.createArrayOf("text", new String[] {"note"}));
            ps.setInt(4, 1);
            ps.setString(5, "previous-worker");
            ps.setObject(6, token);
            ps.setLong(7, 60_000_000L);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getObject(1, UUID.class)).isEqualTo(pending);
            }
        }

        JdbiJobStore store = JdbiJobStore.builder(jdbi).schema(schema).build();   // applies V2 and what follows

        assertThat(SchemaMigrator.of(jdbi, schema).currentVersion()).isEqualTo(SchemaMigrator.latestVersion());
        try (Connection c = db.dataSource().getConnection()) {
            try (PreparedStatement ps = c.prepareStatement(previousComplete)) {
                ps.setObject(1, null);
                ps.setArray(2, c.createArrayOf("uuid", new UUID[] {pending}));
                ps.setArray(3, c.createArrayOf("uuid", new UUID[] {token}));
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).as("the previous version's complete.sql still completes its job").isTrue();
                }
            }
            try (PreparedStatement ps = c.prepareStatement(previousGet)) {
                ps.setObject(1, pending);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(4)).isEqualTo("completed");
                }
            }
        }
        UUID byOldCall = enqueueByV1Function(schema, "{\"text\": \"after the upgrade, V1 style\"}");

        JdbiJobQueue queue = JdbiJobQueue.create(store);
        UUID unique = queue.enqueue(NOTE, new Note("unique"), EnqueueOptions.defaults().dedupeKey("n"));
        assertThat(queue.enqueue(NOTE, new Note("unique again"), EnqueueOptions.defaults().dedupeKey("n"))).isEqualTo(unique);
        try (Worker worker = Worker.builder(store).pollInterval(Duration.ofMillis(100))
                .handler(NOTE, (job, context) -> JobOutcome.done(job.payload().text().length())).build()) {
            worker.start();
            await().atMost(Duration.ofSeconds(10)).until(() ->
                    List.of(running, byOldCall, unique).stream()
                            .allMatch(id -> queue.find(id).orElseThrow().status() == JobStatus.COMPLETED));
        }
        assertThat(queue.result(running, Integer.class)).contains("running".length());
        assertThat(queue.find(pending).orElseThrow().resultJson()).as("completed by the previous version").isNull();
    }

    private UUID enqueueByV1Function(String schema, String payload) throws SQLException {
        try (Connection c = db.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "SELECT \"" + schema + "\".job_queue_enqueue('note', CAST(? AS jsonb), 'default', 0, NULL, 3, NULL)")) {
            ps.setString(1, payload);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getObject(1, UUID.class);
            }
        }
    }
}
