package dev.pgqueue.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgqueue.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * W5's exactly-once check: it passes a correct run of pgqueue and of the raw reference (tiny, on the
 * test server), and fails loudly, naming the counts, on a duplicate result, a missing result or a job
 * that was not retried. Each test works in a database of its own ({@link Server#fresh}, a random prefix).
 */
class ExactlyOnceTest {

    private static final String ADMIN_URL = PostgresServer.shared().jdbcUrl();
    private static final int JOBS = 40;

    private Server server;
    private Server.Fresh database;

    @BeforeEach
    void freshDatabase() throws SQLException {
        server = Server.open(ADMIN_URL);
        database = server.fresh("exactly_once");
    }

    @AfterEach
    void drop() throws SQLException {
        database.close();
        server.close();
    }

    @Test
    void work_pgqueue_everyJobDoneOnce_everyPlannedFailureRetried() throws Exception {
        try (Subject subject = new PgQueueSubject(database.url(), PgQueueSubject.Config.defaults())) {
            Map<String, Double> metrics = byName(Workloads.work(subject, database.url(), JOBS, Duration.ofMinutes(1)));
            assertThat(metrics).containsEntry("duplicates", 0.0).containsEntry("missing", 0.0)
                    .containsEntry("retried_jobs", (double) JOBS / Work.FAIL_EVERY)
                    .containsEntry("attempts", JOBS + (double) JOBS / Work.FAIL_EVERY);
        }
    }

    @Test
    void work_raw_everyJobDoneOnce_everyPlannedFailureRetried() throws Exception {
        try (Subject subject = new RawCeiling(database.url(), RawCeiling.Config.work(RawTable.PGQUEUE))) {
            Map<String, Double> metrics = byName(Workloads.work(subject, database.url(), JOBS, Duration.ofMinutes(1)));
            assertThat(metrics).containsEntry("duplicates", 0.0).containsEntry("missing", 0.0)
                    .containsEntry("retried_jobs", (double) JOBS / Work.FAIL_EVERY);
        }
    }

    @Test
    void verify_failsOnADuplicateAndAMissingResult() throws Exception {
        RawTable.MINIMAL.create(database.url());
        execute(Workloads.resultTable("bigint"),
                "INSERT INTO job_queue (payload, status, attempts) SELECT '{}', 'completed', 1 FROM generate_series(1, 10)",
                "UPDATE job_queue SET attempts = 2 WHERE id = 10",
                // one result per job, but job 1 twice and job 2 none
                "INSERT INTO bench_result (job_id) SELECT id FROM job_queue WHERE id <> 2",
                "INSERT INTO bench_result (job_id) VALUES (1)");

        assertThatThrownBy(() -> Workloads.verifyExactlyOnce(database.url(), "attempts", 10))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("exactly-once check FAILED")
                .hasMessageContaining("1 duplicates")
                .hasMessageContaining("1 jobs without a result");
    }

    @Test
    void verify_failsWhenAPlannedFailureWasNotRetried() throws Exception {
        RawTable.MINIMAL.create(database.url());
        execute(Workloads.resultTable("bigint"),
                "INSERT INTO job_queue (payload, status, attempts) SELECT '{}', 'completed', 1 FROM generate_series(1, 10)",
                "INSERT INTO bench_result (job_id) SELECT id FROM job_queue");

        assertThatThrownBy(() -> Workloads.verifyExactlyOnce(database.url(), "attempts", 10))
                .hasMessageContaining("0 jobs retried (1 planned failures)");
        execute("UPDATE job_queue SET attempts = 2 WHERE id = 3");
        assertThat(byName(Workloads.verifyExactlyOnce(database.url(), "attempts", 10))).containsEntry("retried_jobs", 1.0);
    }

    private void execute(String... sql) throws SQLException {
        try (Connection c = Server.connect(database.url()); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        }
    }

    private static Map<String, Double> byName(List<Metric> metrics) {
        return metrics.stream().collect(Collectors.toMap(Metric::name, Metric::value));
    }
}
