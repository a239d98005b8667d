package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobStatus;
import dev.pgqueue.JobType;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * V3 as the contract promises it: plain SQL that can run twice, and an upgrade under a running
 * previous version, whose statements (kept verbatim in test resources) keep working and whose
 * completions release dependents like this version's.
 */
@PostgresTest
class MigrationV3Test {

    record Note(String text) {}

    static final JobType<Note> NOTE = JobType.of("note", Note.class);

    private final TestDatabase db;
    private final ScratchSchemas schemas;

    MigrationV3Test(TestDatabase db) {
        this.db = db;
        this.schemas = new ScratchSchemas(db);
    }

    @AfterEach
    void dropSchemas() {
        schemas.dropAll();
    }

    /** Every object of the schema's job_queue* tables and its functions, described, to compare two states. */
    private List<String> catalog(String schema) throws SQLException {
        String sql = """
                SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                       || ' not null ' || a.attnotnull || ' default ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '-')
                  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                 WHERE c.relnamespace = ?::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
                UNION ALL
                SELECT 'constraint ' || conname || ' ' || pg_get_constraintdef(oid)
                  FROM pg_constraint WHERE connamespace = ?::regnamespace
                UNION ALL
                SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = ?
                UNION ALL
                SELECT 'function ' || p.oid::regprocedure::text || ' ' || coalesce(array_to_string(p.proconfig, ','), '')
                       || ' ' || md5(p.prosrc)
                  FROM pg_proc p WHERE p.pronamespace = ?::regnamespace
                UNION ALL
                SELECT 'trigger ' || tgname || ' ' || pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                 WHERE c.relnamespace = ?::regnamespace AND NOT tgisinternal
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
    void v4_runByHandTwice_leavesTheSchemaExactlyAsTheFirstRunDid() throws SQLException {
        String schema = schemas.create("byhand");
        schemas.runMigrationFile(schema, "V1__create_job_queue.sql");
        schemas.runMigrationFile(schema, "V2__unique_jobs_results_progress.sql");
        schemas.runMigrationFile(schema, "V3__workflows_limits_fairness.sql");
        List<String> once = catalog(schema);

        schemas.runMigrationFile(schema, "V3__workflows_limits_fairness.sql");

        assertThat(catalog(schema)).containsExactlyElementsOf(once);
        assertThat(once)
                .anyMatch(o -> o.startsWith("constraint job_queue_status_check CHECK ((status = ANY (ARRAY['waiting'::text,"))
                .anyMatch(o -> o.startsWith("index job_queue_fair_idx CREATE INDEX"))
                .anyMatch(o -> o.startsWith("index job_queue_dependency_depends_on_idx"))
                .anyMatch(o -> o.startsWith("trigger job_queue_resolve_dependents CREATE TRIGGER job_queue_resolve_dependents "
                        + "AFTER UPDATE OF status ON " + schema + ".job_queue FOR EACH ROW WHEN ((new.has_dependents"))
                .anyMatch(o -> o.startsWith("function " + schema + ".job_queue_enqueue_after(")
                        && o.contains("search_path=" + schema + ", pg_temp"))
                .anyMatch(o -> o.startsWith("function " + schema + ".job_queue_dependency_finished(")
                        && o.contains("search_path=" + schema + ", pg_temp"));
    }

    @Test
    void upgradingAV2SchemaWithJobs_whileThePreviousVersionRuns_keepsItsStatementsWorking_andItsCompletionsReleaseDependents()
            throws Exception {
        String schema = schemas.create("upgrade");
        schemas.runMigrationFile(schema, "V1__create_job_queue.sql");
        schemas.runMigrationFile(schema, "V2__unique_jobs_results_progress.sql");
        Jdbi jdbi = Jdbi.create(db.dataSource());
        String previousComplete = SqlFiles.read("/previous-version/complete.sql").replace("{schema}", '"' + schema + '"');
        String claim = SqlFiles.read("/previous-version/claim.sql").replace("{schema}", '"' + schema + '"');
        UUID running = enqueueByFunction(schema, "{\"text\": \"running\"}");
        UUID pending = enqueueByFunction(schema, "{\"text\": \"pending\"}");
        UUID token = UUID.randomUUID();
        try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(claim)) {
            ps.setObject(1, null);
            ps.setString(2, "default");
            ps.setArray(3, c.createArrayOf("text", new String[] {"note"}));
            ps.setInt(4, 1);
            ps.setString(5, "previous-worker");
            ps.setObject(6, token);
            ps.setLong(7, 60_000_000L);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getObject(1, UUID.class)).isEqualTo(running);
            }
        }

        JdbiJobStore store = JdbiJobStore.builder(jdbi).schema(schema).build();   // applies V3
        JdbiJobQueue queue = JdbiJobQueue.create(store);
        UUID dependent = queue.enqueue(NOTE, new Note("after the running one"), EnqueueOptions.defaults().dependsOn(running));
        assertThat(queue.find(dependent).orElseThrow().status()).isEqualTo(JobStatus.WAITING);

        try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(previousComplete)) {
            ps.setObject(1, null);
            ps.setArray(2, c.createArrayOf("uuid", new UUID[] {running}));
            ps.setArray(3, c.createArrayOf("uuid", new UUID[] {token}));
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).as("the previous version's complete.sql still completes its job").isTrue();
            }
        }

        assertThat(queue.find(running).orElseThrow().status()).isEqualTo(JobStatus.COMPLETED);
        assertThat(queue.find(dependent).orElseThrow().status())
                .as("released by the trigger, whoever completed its dependency").isEqualTo(JobStatus.PENDING);
        assertThat(queue.find(pending).orElseThrow().status()).isEqualTo(JobStatus.PENDING);
        assertThat(db.queryForLong("SELECT count(*) FROM " + schema + ".job_queue_policy")).isZero();
    }

    private UUID enqueueByFunction(String schema, String payload) throws SQLException {
        try (Connection c = db.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "SELECT \"" + schema + "\".job_queue_enqueue('note', CAST(? AS jsonb))")) {
            ps.setString(1, payload);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getObject(1, UUID.class);
            }
        }
    }
}
