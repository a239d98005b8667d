package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * When the first job of a long chain of waiting jobs fails, the whole chain is cancelled in the same
 * statement, and the work done for it grows linearly with the chain (V5's
 * job_queue_dependency_finished; V3's scanned a table once per link: 15 million rows read for a chain
 * of 5,000). The work is counted, not timed: rows the statement read from job_queue and
 * job_queue_dependency, from PostgreSQL's statistics of the current transaction
 * (pg_stat_xact_user_tables). The chain is enqueued as SQL producers do, with job_queue_enqueue_after().
 */
@PostgresTest
class DependencyCascadeTest {

    private static final int CHAIN = 5_000;
    private static final String HEAD = "00000000-0000-7000-8000-000000000000";

    /** The id of job {@code n} of the test (0 is the head), as SQL. */
    private static String id(Object n) {
        return "CAST('00000000-0000-7000-8000-' || lpad(CAST(" + n + " AS text), 12, '0') AS uuid)";
    }

    private final TestDatabase db;

    DependencyCascadeTest(TestDatabase db) {
        this.db = db;
        JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
    }

    @BeforeEach
    void emptyTables() {
        db.execute("DELETE FROM job_queue");
        db.execute("DELETE FROM job_queue_dependency");
    }

    @Test
    void failingTheHeadOfALongChain_cancelsEveryLink_readingRowsLinearInItsLength() throws SQLException {
        // head <- link 1 <- ... <- link CHAIN, each cancelling when its dependency fails; then a job
        // that runs whatever happens to the last link, and one that also waits for an unrelated job.
        db.execute("INSERT INTO job_queue (id, job_type) VALUES (" + id(0) + ", 'head'), (" + id(1) + ", 'other')");
        db.execute("DO $$ DECLARE prev uuid := " + id(0) + "; BEGIN"
                + " FOR i IN 1.." + CHAIN + " LOOP prev := job_queue_enqueue_after(ARRAY[prev], 'link'); END LOOP;"
                + " PERFORM job_queue_enqueue_after(ARRAY[prev], 'runs-anyway', on_dependency_failure => 'run');"
                + " PERFORM job_queue_enqueue_after(ARRAY[prev, " + id(1) + "], 'fan-in');"
                + " END $$");
        db.execute("ANALYZE job_queue");
        db.execute("ANALYZE job_queue_dependency");

        Map<String, Long> read;
                try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            Map<String, Long> before = rowsRead(st);
            st.executeUpdate("UPDATE job_queue SET status = 'failed', completed_at = now() WHERE id = '" + HEAD + "'");
            Map<String, Long> after = rowsRead(st);
            c.commit();
            read = new HashMap<>();
            after.forEach((table, n) -> read.put(table, n - before.getOrDefault(table, 0L)));
        }

        assertThat(db.queryForList("SELECT job_type, status, count(*) AS n, count(DISTINCT error_message) AS reasons"
                + " FROM job_queue GROUP BY 1, 2 ORDER BY 1, 2")).containsExactly(
                Map.of("job_type", "fan-in", "status", "cancelled", "n", 1L, "reasons", 1L),
                Map.of("job_type", "head", "status", "failed", "n", 1L, "reasons", 0L),
                Map.of("job_type", "link", "status", "cancelled", "n", (long) CHAIN, "reasons", 1L),
                Map.of("job_type", "other", "status", "pending", "n", 1L, "reasons", 0L),
                Map.of("job_type", "runs-anyway", "status", "pending", "n", 1L, "reasons", 0L));
        assertThat(db.queryForList("SELECT DISTINCT error_message FROM job_queue WHERE job_type = 'link'"))
                .containsExactly(Map.of("error_message", "cancelled: its dependency head/" + HEAD + " failed"));
        assertThat(db.queryForLong("SELECT waiting_for FROM job_queue WHERE job_type = 'runs-anyway'")).isZero();
        // V3 read about CHAIN^2 rows (25 million) of each table here; a linear cascade reads a few per link.
        assertThat(read.get("job_queue_dependency")).as("rows read from job_queue_dependency (of %s)", read).isLessThan(20L * CHAIN);
        assertThat(read.get("job_queue")).as("rows read from job_queue (of %s)", read).isLessThan(20L * CHAIN);
    }

    /** Rows read so far in this transaction per table of the test's schema: sequentially plus through indexes. */
    private Map<String, Long> rowsRead(Statement st) throws SQLException {
        Map<String, Long> rows = new HashMap<>();
        try (ResultSet rs = st.executeQuery("SELECT relname, coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)"
                + " FROM pg_stat_xact_user_tables WHERE schemaname = '" + db.schema() + "'")) {
            while (rs.next()) {
                rows.put(rs.getString(1), rs.getLong(2));
            }
        }
        return rows;
    }
}
