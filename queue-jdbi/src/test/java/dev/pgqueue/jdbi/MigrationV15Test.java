package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgqueue.spi.JobStore.Finish;
import dev.pgqueue.spi.JobStore.FinishKind;
import dev.pgqueue.spi.JobStore.FinishParams;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * V15: job_queue_history_append() no longer pins its search_path, so PostgreSQL inlines it into the
 * outcome statements that record an attempt. Upgrading a V14 schema keeps the jobs, the function's
 * owner and rights and the history it writes; an older pgqueue accepts the schema; and the statements
 * no longer call the function through the SQL-function executor, which they did before (checked on a
 * V14 schema in the same test).
 */
@PostgresTest
class MigrationV15Test {

    private final TestDatabase db;
    private final Jdbi jdbi;
    private final ScratchSchemas schemas;

    MigrationV15Test(TestDatabase db) {
        this.db = db;
        this.jdbi = Jdbi.create(db.dataSource());
        this.schemas = new ScratchSchemas(db);
    }

    @AfterEach
    void dropSchemas() {
        schemas.dropAll();
    }

    @Test
    void upgradeFromV14_keepsTheJobsTheOwnerAndTheRights_andTheHistoryWritten() {
        String schema = schemas.name("v15");
        SchemaMigrator migrator = SchemaMigrator.of(jdbi, schema);
        migrator.migrateTo(14);
        db.execute("INSERT INTO " + schema + ".job_queue (job_type, status, lease_expires_at, history)"
                + " VALUES ('work', 'processing', now(), '[{\"attempt\": 1, \"kind\": \"retried\"}]')");
        db.execute("REVOKE EXECUTE ON FUNCTION " + schema + ".job_queue_history_append(jsonb, integer, timestamptz, text, text, text)"
                + " FROM PUBLIC"); // rights an owner changed: kept
        List<Map<String, Object>> rows = rows(schema);
        Map<String, Object> function = function(schema);
        List<String> histories = histories(schema);
        assertThat(function.get("config")).isEqualTo("{\"search_path=" + schema + ", pg_temp\"}");

        assertThat(migrator.migrateTo(15)).containsExactly(15);

        assertThat(rows(schema)).isEqualTo(rows);
        Map<String, Object> after = function(schema);
        assertThat(after.get("config")).as("no setting: inlinable").isNull();
        assertThat(after.get("owner")).isEqualTo(function.get("owner"));
        assertThat(after.get("acl")).isEqualTo(function.get("acl"));
        assertThat(histories(schema)).as("the same entries for the same arguments").isEqualTo(histories);
        migrator.verify(14); // an older pgqueue accepts the schema (rolling upgrade)
        migrator.verify();
    }

    @Test
    void outcomesThatRecordAnAttempt_callTheFunctionThroughTheExecutorUpToV14_andNotFromV15() throws SQLException {
        assertThat(historyFunctionCalls(14)).as("V14: one call per outcome recorded").isEqualTo(4);
        assertThat(historyFunctionCalls(15)).as("V15: inlined").isZero();
    }

    /**
     * Calls of job_queue_history_append() that PostgreSQL made through the SQL-function executor while
     * a schema migrated up to {@code version} recorded four outcomes: a retry and a failure alone
     * (retry-one.sql, fail-one.sql), then two retries together (retry.sql).
     */
    private long historyFunctionCalls(int version) throws SQLException {
        String schema = schemas.name("v15_calls_" + version);
        SchemaMigrator.of(jdbi, schema).migrateTo(version);
        List<Finish> finishes = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            UUID id = UUID.randomUUID();
            UUID token = UUID.randomUUID();
            db.execute("INSERT INTO " + schema + ".job_queue (id, job_type, status, attempt, lease_token, lease_owner, lease_expires_at)"
                    + " VALUES (?, 'work', 'processing', 1, ?, 'w', now() + interval '5 minutes')", id, token);
            finishes.add(new Finish(id, token, i == 1 ? FinishKind.FAIL : FinishKind.RETRY, "boom " + i, Duration.ofSeconds(1)));
        }
        JobStatements statements = new JobStatements(schema, 100);
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            try {
                st.execute("SET LOCAL track_functions = 'all'");
                assertThat(statements.finish(c, new FinishParams(List.of(finishes.get(0)), null))).hasSize(1);
                assertThat(statements.finish(c, new FinishParams(List.of(finishes.get(1)), null))).hasSize(1);
                assertThat(statements.finish(c, new FinishParams(finishes.subList(2, 4), null))).hasSize(2);
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM " + schema + ".job_queue"
                        + " WHERE pg_catalog.jsonb_array_length(history) = 1 AND history -> 0 ->> 'message' LIKE 'boom %'")) {
                    rs.next();
                    assertThat(rs.getLong(1)).as("each outcome recorded in its job's history").isEqualTo(4);
                }
                try (ResultSet rs = st.executeQuery("SELECT coalesce(sum(calls), 0) FROM pg_stat_xact_user_functions"
                        + " WHERE schemaname = '" + schema + "' AND funcname = 'job_queue_history_append'")) {
                    rs.next();
                    return rs.getLong(1);
                }
            } finally {
                c.rollback();
            }
        }
    }

    private Map<String, Object> function(String schema) {
        return db.queryForList("SELECT CAST(p.proconfig AS text) AS config, CAST(p.proowner AS regrole)::text AS owner,"
                + " CAST(p.proacl AS text) AS acl FROM pg_proc p"
                + " WHERE p.pronamespace = CAST(? AS regnamespace) AND p.proname = 'job_queue_history_append'", schema).get(0);
    }

    /** What the function returns for no history, a short one, and a full one (20 entries, the oldest dropped). */
    private List<String> histories(String schema) {
        String full = "[" + String.join(", ", Collections.nCopies(20, "{\"attempt\": 1}")) + "]";
        List<String> histories = new ArrayList<>();
        for (String history : new String[] {null, "[{\"attempt\": 1}]", full}) {
            histories.add((String) db.queryForList("SELECT CAST(" + schema + ".job_queue_history_append(CAST(? AS jsonb), 2,"
                    + " CAST('2031-03-14T09:26:53Z' AS timestamptz), 'failed', 'boom', NULL) AS text) AS h", history).get(0).get("h"));
        }
        assertThat(histories.get(2)).contains("\"kind\": \"failed\"");
        return histories;
    }

    private List<Map<String, Object>> rows(String schema) {
        return db.queryForList("SELECT CAST(j.* AS text) AS row FROM " + schema + ".job_queue j ORDER BY id");
    }
}
