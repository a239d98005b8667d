package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgqueue.internal.UuidV7;
import dev.pgqueue.spi.JobStore.ClaimParams;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.InsertParams;
import dev.pgqueue.spi.JobStore.NewJob;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * V14: the claim statements read the payload limit from job_queue_max_payload_bytes_constant(), which
 * PostgreSQL inlines, rewritten with the limit whenever it changes. Upgrading a V13 schema keeps the limit
 * in force and the jobs; the roles that could read the limit (roles.sql run at V13) can claim, others get
 * no new right; an older worker's job_queue_max_payload_bytes() still answers, and an older pgqueue still
 * accepts the schema. A limit change reaches a claim that pgjdbc has already prepared on the server.
 */
@PostgresTest
class MigrationV14Test {

    private final TestDatabase db;
    private final Jdbi jdbi;
    private final ScratchSchemas schemas;
    private final String suffix = UUID.randomUUID().toString().substring(0, 8).toLowerCase(Locale.ROOT);
    private final String workerGroup = "pgq_v14_worker_" + suffix;
    private final String producerGroup = "pgq_v14_producer_" + suffix;
    private final String stranger = "pgq_v14_stranger_" + suffix;
    private boolean rolesCreated;

    MigrationV14Test(TestDatabase db) {
        this.db = db;
        this.jdbi = Jdbi.create(db.dataSource());
        this.schemas = new ScratchSchemas(db);
    }

    @AfterEach
    void dropSchemasAndRoles() {
        schemas.dropAll();
        if (rolesCreated) {
            for (String role : List.of(workerGroup, producerGroup, stranger)) {
                db.execute("DROP OWNED BY " + role + " CASCADE");
                db.execute("DROP ROLE " + role);
            }
        }
    }

    @Test
    void upgradeFromV13_keepsTheLimitInForce_andTheRightsOfWhoCouldReadIt() throws Exception {
        String schema = schemas.name("v14");
        SchemaMigrator migrator = SchemaMigrator.of(jdbi, schema);
        migrator.migrateTo(13);
        runRolesScript(schema);
        db.execute("CREATE ROLE " + stranger + " NOLOGIN");
        rolesCreated = true;
        db.execute("GRANT USAGE ON SCHEMA " + schema + " TO " + stranger);
        UUID small = UuidV7.next();
        UUID big = UuidV7.next();
        db.execute("INSERT INTO " + schema + ".job_queue (id, job_type, payload) VALUES (?, 'blob', CAST(? AS jsonb)),"
                + " (?, 'blob', CAST(? AS jsonb))", small, "{\"n\": 1}", big, json(600));
        db.execute("UPDATE " + schema + ".job_queue_setting SET max_payload_bytes = 500"); // lowered after the insert
        List<Map<String, Object>> before = rows(schema);

        assertThat(migrator.migrateTo(14)).containsExactly(14);

        assertThat(rows(schema)).isEqualTo(before);
        assertThat(db.queryForLong("SELECT " + schema + ".job_queue_max_payload_bytes_constant()")).isEqualTo(500);
        migrator.verify(13); // an older pgqueue accepts the schema (rolling upgrade)
        migrator.verify(14);
        // The worker role claims, and the job over the limit fails with the limit's message.
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("SET LOCAL ROLE " + workerGroup);
            List<ClaimedJob> claimed = new JobStatements(schema, 100).claim(c, claimParams(10));
            assertThat(claimed).extracting(ClaimedJob::id).containsExactly(small);
            // An older worker's claim calls job_queue_max_payload_bytes(), which answers as before.
            try (ResultSet rs = st.executeQuery("SELECT " + schema + ".job_queue_max_payload_bytes()")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(500);
            }
            c.commit();
        }
        assertThat(db.queryForList("SELECT status, error_message FROM " + schema + ".job_queue WHERE id = ?", big))
                .singleElement().satisfies(r -> {
                    assertThat(r.get("status")).isEqualTo("failed");
                    assertThat((String) r.get("error_message")).startsWith("expected payload to be at most 500 bytes of JSON");
                });
        // Who could execute job_queue_max_payload_bytes() may execute the constant; nobody else.
        assertThat(canExecute(workerGroup, schema)).isTrue();
        assertThat(canExecute(producerGroup, schema)).isTrue();
        assertThat(canExecute(stranger, schema)).isFalse();
        assertThat(canExecute("public", schema)).isFalse();
    }

    @Test
    void aLimitChange_reachesAClaimThatIsAlreadyServerPrepared_onTheSameConnection() throws Exception {
        String schema = schemas.name("v14_prepared");
        SchemaMigrator.of(jdbi, schema).migrate();
        db.execute("UPDATE " + schema + ".job_queue_setting SET max_payload_bytes = 1000");
        JobStatements statements = new JobStatements(schema, 100);
        JdbiJobStore store = store(schema);
        try (Connection c = db.dataSource().getConnection()) {
            for (int i = 0; i < 8; i++) {
                assertThat(statements.claim(c, claimParams(10))).isEmpty();
            }
            try (Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_prepared_statements"
                            + " WHERE statement LIKE '%job_queue_max_payload_bytes_constant()%'")) {
                rs.next();
                assertThat(rs.getInt(1)).as("the claim is prepared on the server").isEqualTo(1);
            }

            NewJob first = job(json(600));
            store.jobInsertMany(new InsertParams(List.of(first), null));
            db.execute("UPDATE " + schema + ".job_queue_setting SET max_payload_bytes = 500"); // lowered: fails at claim
            assertThat(statements.claim(c, claimParams(10))).isEmpty();
            assertThat(db.queryForList("SELECT status, error_message FROM " + schema + ".job_queue WHERE id = ?", first.id()))
                    .singleElement().satisfies(r -> {
                        assertThat(r.get("status")).isEqualTo("failed");
                        assertThat(r.get("error_message")).isEqualTo("expected payload to be at most 500 bytes of JSON"
                                + " (job_queue_setting.max_payload_bytes), got: 600 bytes; failed when claimed, without running");
                    });

            db.execute("UPDATE " + schema + ".job_queue_setting SET max_payload_bytes = 700"); // raised: runs
            NewJob second = job(json(600));
            store.jobInsertMany(new InsertParams(List.of(second), null));
            assertThat(statements.claim(c, claimParams(10))).extracting(ClaimedJob::id).containsExactly(second.id());
        }
    }

    @Test
    void aClaimOfJobsWithinTheLimit_callsNoFunctionThatPostgresCannotInline() throws Exception {
        String schema = schemas.name("v14_calls");
        SchemaMigrator.of(jdbi, schema).migrate();
        store(schema).jobInsertMany(new InsertParams(List.of(job("{\"n\": 1}"), job("{\"n\": 2}")), null));
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("SET LOCAL track_functions = 'all'");
            assertThat(new JobStatements(schema, 100).claim(c, claimParams(10))).hasSize(2);
            try (ResultSet rs = st.executeQuery("SELECT coalesce(sum(calls), 0) FROM pg_stat_xact_user_functions"
                    + " WHERE schemaname = '" + schema + "' AND funcname = 'job_queue_max_payload_bytes'")) {
                rs.next();
                assertThat(rs.getLong(1)).isZero();
            }
            c.rollback();
        }
    }

    private boolean canExecute(String role, String schema) {
        return db.queryForList("SELECT has_function_privilege(?, ?, 'EXECUTE') AS ok", role,
                schema + ".job_queue_max_payload_bytes_constant()").get(0).get("ok").equals(Boolean.TRUE);
    }

    private void runRolesScript(String schema) throws SQLException {
        // The script as it was at V13, before it named V14's function.
        String script = SqlFiles.read("/db/pgqueue/optional/roles.sql")
                .replace("job_queue_max_payload_bytes_constant(), ", "")
                .replace("pgqueue_producer", producerGroup)
                .replace("pgqueue_worker", workerGroup);
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            st.execute("SET search_path = " + schema);
            try {
                st.execute(script);
            } finally {
                st.execute("RESET search_path");
            }
        }
    }

    private JdbiJobStore store(String schema) {
        return JdbiJobStore.builder(jdbi).schema(schema).migrate(false).build();
    }

    private static ClaimParams claimParams(int limit) {
        return new ClaimParams("default", Set.of("blob"), limit, "w", UUID.randomUUID(), Duration.ofMinutes(5), null);
    }

    private static NewJob job(String payload) {
        return NewJob.builder(UuidV7.next(), "blob", payload).build();
    }

    private static String json(int bytes) {
        return "{\"data\": \"" + "x".repeat(bytes - 12) + "\"}";
    }

    private List<Map<String, Object>> rows(String schema) {
        return db.queryForList("SELECT CAST(j.* AS text) AS row FROM " + schema + ".job_queue j ORDER BY id");
    }
}
