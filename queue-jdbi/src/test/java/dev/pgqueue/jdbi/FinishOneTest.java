package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobStatus;
import dev.pgqueue.internal.UuidV7;
import dev.pgqueue.spi.JobStore.ClaimParams;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.Finish;
import dev.pgqueue.spi.JobStore.FinishKind;
import dev.pgqueue.spi.JobStore.FinishParams;
import dev.pgqueue.spi.JobStore.FinishedJob;
import dev.pgqueue.spi.JobStore.InsertParams;
import dev.pgqueue.spi.JobStore.NewJob;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.SocketFactory;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The outcome of exactly one job (the transactional handler's, and any single finish) goes through
 * complete-one.sql and its siblings: found by primary key, with a plan that stays on job_queue_pkey
 * even when PostgreSQL made its generic plan while the table was empty (a service that just deployed).
 */
@PostgresTest
class FinishOneTest {

    private static final String TYPE = "t";

    private final TestDatabase db;
    private final JdbiJobStore store;
    private final JobRows rows;

    FinishOneTest(TestDatabase db) {
        this.db = db;
        this.store = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
        this.rows = new JobRows(db);
    }

    @BeforeEach
    void emptyTable() {
        rows.deleteAll();
    }

    @Test
    void singleJobPlan_madeWhileTheTableWasEmpty_usesThePrimaryKeyOnceTheTableHasGrown() throws SQLException {
        String plan = cachedPlan(new JobStatements(db.schema(), 1000).finishOneSql(FinishKind.COMPLETE), true);

        assertThat(plan).contains("Index Scan using job_queue_pkey").contains("Index Cond: (id = ")
                .doesNotContain("Seq Scan");
    }

    /**
     * What the test above guards against: the same protocol leaves the batch statement scanning the
     * whole table (a seq scan, or all of job_queue_pkey) and matching id and token in a join.
     */
    @Test
    void batchPlan_madeWhileTheTableWasEmpty_scansTheWholeTable() throws SQLException {
        String plan = cachedPlan(SqlFiles.load("complete", db.schema()), false);

        assertThat(plan).doesNotContain("Index Cond");
    }

    /** Without the setting, the single-job statement's plan made on the empty table would not find its row by key either. */
    @Test
    void singleJobPlan_madeWhileTheTableWasEmpty_withoutTheSetting_doesNotUseTheKey() throws SQLException {
        String plan = cachedPlan(new JobStatements(db.schema(), 1000).finishOneSql(FinishKind.COMPLETE), false, true);

        assertThat(plan).doesNotContain("Index Cond");
    }

    @Test
    void singleJobOutcome_inAutocommit_completesAndLeavesSeqScansEnabled() throws SQLException {
        try (Connection c = db.dataSource().getConnection()) {
            assertThat(c.getAutoCommit()).isTrue();
            JdbiJobStore bound = store.bound(c);
            ClaimedJob job = insertAndClaim();

            List<FinishedJob> finished = bound.jobFinishMany(new FinishParams(List.of(
                    new Finish(job.id(), job.leaseToken(), FinishKind.COMPLETE, null, null, "{\"n\": 2}", null)), null));

            assertThat(finished).containsExactly(new FinishedJob(job.id(), JobStatus.COMPLETED, 0));
            assertThat(rows.row(job.id())).containsEntry("status", "completed");
            assertThat(setting(c, "enable_seqscan")).isEqualTo("on");
        }
    }

    /** What the autocommit path relies on: pgjdbc sends both statements before one Sync, so one transaction. */
    @Test
    void theSetting_inAutocommit_appliesToTheStatementSentWithIt() throws SQLException {
        try (Connection c = db.dataSource().getConnection();
                var ps = c.prepareStatement(JobStatements.NO_SEQ_SCAN + ";\nSELECT pg_catalog.current_setting('enable_seqscan')")) {
            assertThat(c.getAutoCommit()).isTrue();
            ps.execute();
            assertThat(ps.getMoreResults()).isTrue();
            try (ResultSet rs = ps.getResultSet()) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("off");
            }
            assertThat(setting(c, "enable_seqscan")).isEqualTo("on");
        }
    }

    /**
     * A single job's outcome is one round trip, set_config included, also once pgjdbc has prepared the
     * statement: counted as the writes to the connection's socket (pgjdbc writes once per flush). A new
     * JobStatements for the transactional case, as each connection prepares statements of its own.
     */
    @Test
    void singleJobOutcome_isOneRoundTrip_inAutocommitAndInTheHandlersTransaction() throws SQLException {
        Properties props = new Properties();
        props.setProperty("socketFactory", CountingSockets.class.getName());
        for (boolean inTransaction : new boolean[] {false, true}) {
            try (Connection c = DriverManager.getConnection(db.jdbcUrl(), props)) {
                JdbiJobStore bound = store.bound(c);
                for (int run = 1; run <= 8; run++) {
                    ClaimedJob job = insertAndClaim();
                    c.setAutoCommit(!inTransaction);
                    int before = CountingSockets.WRITES.get();
                    List<FinishedJob> finished = inTransaction
                            ? new JobStatements(db.schema(), 1000).finish(c, new FinishParams(List.of(new Finish(job.id(), job.leaseToken(),
                                    FinishKind.COMPLETE, null, null, null, null)), null), true)
                            : bound.jobFinishMany(new FinishParams(List.of(new Finish(job.id(), job.leaseToken(),
                                    FinishKind.COMPLETE, null, null, null, null)), null));
                    int writes = CountingSockets.WRITES.get() - before;
                    if (inTransaction) {
                        c.commit();
                    }
                    assertThat(finished).extracting(FinishedJob::status).containsExactly(JobStatus.COMPLETED);
                    if (run > 5) { // pgjdbc has prepared and described the statement
                        assertThat(writes).as("round trips of outcome %d (in a transaction: %s)", run, inTransaction)
                                .isEqualTo(1);
                    }
                }
            }
        }
    }

    /** Opens sockets that count the writes made to them, across all (tests that use it run one at a time). */
    public static final class CountingSockets extends SocketFactory {
        static final AtomicInteger WRITES = new AtomicInteger();

        @Override
        public Socket createSocket() {
            return new Socket() {
                @Override
                public OutputStream getOutputStream() throws IOException {
                    return new FilterOutputStream(super.getOutputStream()) {
                        @Override
                        public void write(byte[] b, int off, int len) throws IOException {
                            WRITES.incrementAndGet();
                            out.write(b, off, len);
                        }
                    };
                }
            };
        }

        @Override
        public Socket createSocket(String host, int port) throws IOException {
            throw new UnsupportedOperationException();
        }

        @Override
        public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
            throw new UnsupportedOperationException();
        }

        @Override
        public Socket createSocket(InetAddress host, int port) throws IOException {
            throw new UnsupportedOperationException();
        }

        @Override
        public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
                throws IOException {
            throw new UnsupportedOperationException();
        }
    }

    @Test
    void singleJobOutcome_inTheCallersTransaction_changesNoSettingOfIt() throws SQLException {
        try (Connection c = db.dataSource().getConnection()) {
            ClaimedJob job = insertAndClaim();
            c.setAutoCommit(false);
            try {
                List<FinishedJob> finished = store.bound(c).jobFinishMany(new FinishParams(List.of(
                        new Finish(job.id(), job.leaseToken(), FinishKind.RETRY, "boom", Duration.ZERO)), null));

                assertThat(finished).extracting(FinishedJob::status).containsExactly(JobStatus.PENDING);
                assertThat(setting(c, "enable_seqscan")).isEqualTo("on");
                c.commit();
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    @Test
    void singleJobOutcome_withAStaleTokenChangesNothing_andACancelRequestWins() throws SQLException {
        ClaimedJob job = insertAndClaim();
        var before = rows.row(job.id());

        for (FinishKind kind : FinishKind.values()) {
            assertThat(store.jobFinishMany(new FinishParams(List.of(
                    new Finish(job.id(), UUID.randomUUID(), kind, "late", Duration.ZERO, null, null)), null))).isEmpty();
        }
        assertThat(rows.row(job.id())).isEqualTo(before);

        db.execute("UPDATE " + db.schema() + ".job_queue SET cancel_requested_at = now() WHERE id = ?", job.id());
        List<FinishedJob> finished = store.jobFinishMany(new FinishParams(List.of(
                new Finish(job.id(), job.leaseToken(), FinishKind.COMPLETE, null, null, "{\"n\": 2}", null)), null));

        assertThat(finished).containsExactly(new FinishedJob(job.id(), JobStatus.CANCELLED, 0));
        assertThat(rows.row(job.id())).containsEntry("status", "cancelled").containsEntry("result", null)
                .containsEntry("error_message", "cancelled by a producer while running; the handler's result was dropped");
    }

    private ClaimedJob insertAndClaim() {
        NewJob job = NewJob.builder(UuidV7.next(), TYPE, "{\"n\": 1}").build();
        store.jobInsertMany(new InsertParams(List.of(job), null));
        List<ClaimedJob> claimed = store.jobClaim(new ClaimParams(EnqueueOptions.DEFAULT_QUEUE, Set.of(TYPE), 1, "w",
                UUID.randomUUID(), Duration.ofMinutes(1), null));
        assertThat(claimed).hasSize(1);
        return claimed.get(0);
    }

    /**
     * The generic plan PostgreSQL keeps for {@code sql} (a complete statement: now, id(s), token(s),
     * result(s)) when it was made on a new (truncated), analyzed table that then grew to 5,000 running jobs, as a
     * prepared statement's plan after five runs: EXPLAIN EXECUTE shows the cached plan.
     */
    private String cachedPlan(String sql, boolean single) throws SQLException {
        return cachedPlan(sql, single, single);
    }

    private String cachedPlan(String sql, boolean noSeqScan, boolean single) throws SQLException {
        String table = db.schema() + ".job_queue";
        String prepared = sql;
        for (int n = 1; prepared.contains("?"); n++) {
            prepared = prepared.replaceFirst("\\?", "\\$" + n);
        }
        String args = single
                ? "(NULL, gen_random_uuid(), gen_random_uuid(), NULL)"
                : "(NULL, ARRAY[gen_random_uuid()], ARRAY[gen_random_uuid()], ARRAY[NULL])";
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            try {
                st.execute("TRUNCATE " + table + " CASCADE"); // no pages at all, as a fresh table
                st.execute("ANALYZE " + table);
                st.execute("SET plan_cache_mode = force_generic_plan");
                st.execute("PREPARE finish_one AS " + prepared);
                c.setAutoCommit(false);
                if (noSeqScan) {
                    st.execute(JobStatements.NO_SEQ_SCAN); // as JobStatements sends it, in the same transaction
                }
                st.execute("EXECUTE finish_one" + args); // the plan is made now, on the empty table
                c.commit();
                c.setAutoCommit(true);
                st.execute("INSERT INTO " + table + " (id, job_type, queue, payload, status, lease_token, lease_expires_at)"
                        + " SELECT gen_random_uuid(), 't', 'default', '{}', 'processing', gen_random_uuid(),"
                        + " now() + interval '1 hour' FROM generate_series(1, 5000)");
                StringBuilder plan = new StringBuilder();
                try (ResultSet rs = st.executeQuery("EXPLAIN EXECUTE finish_one" + args)) {
                    while (rs.next()) {
                        plan.append(rs.getString(1)).append('\n');
                    }
                }
                return plan.toString();
            } finally {
                c.setAutoCommit(true);
                st.execute("DEALLOCATE ALL");
                st.execute("RESET plan_cache_mode");
            }
        }
    }

    private static String setting(Connection c, String name) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW " + name)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
