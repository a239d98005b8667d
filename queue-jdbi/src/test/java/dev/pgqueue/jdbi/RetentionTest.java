package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobStatus;
import dev.pgqueue.JobType;
import dev.pgqueue.Worker;
import dev.pgqueue.spi.JobStore.PruneParams;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Retention: finished jobs are deleted per status after their own retention, in small batches that
 * never wait on locks, and unfinished jobs are never touched, however old.
 */
@PostgresTest
class RetentionTest {

    record Noop() {}

    static final JobType<Noop> NOOP = JobType.of("noop", Noop.class);

    private final TestDatabase db;
    private final JdbiJobStore store;

    RetentionTest(TestDatabase db) {
        this.db = db;
        this.store = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
    }

    @BeforeEach
    void emptyQueue() {
        db.execute("DELETE FROM job_queue");
    }

    /** Inserts {@code count} jobs of {@code status}, finished (or created) {@code ageDays} days ago. */
    private void insert(String status, int count, int ageDays) {
        db.execute("INSERT INTO job_queue (job_type, status, created_at, completed_at, lease_expires_at, run_at)"
                + " SELECT 'noop', ?, now() - make_interval(days => ?), "
                + " CASE WHEN ? IN ('completed', 'failed', 'cancelled') THEN now() - make_interval(days => ?) END,"
                + " CASE WHEN ? = 'processing' THEN now() + interval '1 hour' END,"
                + " CASE WHEN ? = 'pending' THEN now() + interval '1 day' ELSE now() END"
                + " FROM generate_series(1, ?)", status, ageDays, status, ageDays, status, status, count);
    }

    private Map<String, Long> countsByStatus() {
        return db.queryForList("SELECT status, count(*) AS n FROM job_queue GROUP BY status").stream()
                .collect(Collectors.toMap(r -> (String) r.get("status"), r -> (Long) r.get("n")));
    }

    @Test
    void worker_prunesEachFinalStatusAfterItsOwnRetention_andNeverAnUnfinishedJob() {
        insert("completed", 30, 10);
        insert("completed", 5, 0); // finished just now: kept
        insert("failed", 20, 10);  // failed jobs are kept 30 days
        insert("cancelled", 10, 2);
        insert("pending", 7, 400);
        insert("processing", 3, 400);
        // A pending row carrying an old completed_at (a seed row, a retried job): still unfinished.
        db.execute("UPDATE job_queue SET completed_at = now() - interval '400 days' WHERE status = 'pending'");

        Worker worker = Worker.builder(store)
                .handler(NOOP, (job, context) -> JobOutcome.done())
                .queue("unused", 1) // serves no queue with due jobs: only the pruner acts
                .retention(JobStatus.COMPLETED, Duration.ofDays(1))
                .retention(JobStatus.FAILED, Duration.ofDays(30))
                .retention(JobStatus.CANCELLED, Duration.ofDays(1))
                .pruneInterval(Duration.ofMillis(100))
                .build();
        worker.start();
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> countsByStatus().getOrDefault("cancelled", 0L) == 0);
        } finally {
            worker.close();
        }
        assertThat(countsByStatus()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "completed", 5L, "failed", 20L, "pending", 7L, "processing", 3L));
    }

    @Test
    void withoutRetention_nothingIsPruned() {
        insert("completed", 3, 1000);
        Worker worker = Worker.builder(store).handler(NOOP, (job, context) -> JobOutcome.done())
                .pruneInterval(Duration.ofMillis(50)).build();
        worker.start();
        try {
            await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(10)).until(() -> countsByStatus().get("completed") == 3);
        } finally {
            worker.close();
        }
    }

    @Test
    void prune_deletesAtMostOneBatch_oldestFirst() {
        insert("completed", 2_500, 5);
        db.execute("UPDATE job_queue SET completed_at = completed_at - make_interval(secs => random() * 1000)");
        Object oldestKept = db.queryForList(
                "SELECT completed_at FROM job_queue ORDER BY completed_at OFFSET 1000 LIMIT 1").get(0).get("completed_at");

        int deleted = store.jobPrune(new PruneParams(Set.of(JobStatus.COMPLETED), Duration.ofDays(1), 1_000, null));

        assertThat(deleted).isEqualTo(1_000);
        assertThat(countsByStatus()).containsEntry("completed", 1_500L);
        assertThat(db.queryForList("SELECT min(completed_at) AS m FROM job_queue").get(0).get("m")).isEqualTo(oldestKept);
    }

    /**
     * Counted, not timed: the entries of job_queue_finished_idx a prune's walk returned
     * ({@code pg_stat_get_xact_tuples_returned}, this transaction's own). The prunes run in one
     * transaction, so the rows they deleted stay in the index, dead, as under a held xmin horizon. A
     * store's prune begins where its previous prune of the same statuses stopped (a second before it:
     * 100 rows here, 10 ms apart); a store that has not pruned yet walks from the oldest.
     */
    @Test
    void prune_beginsWhereTheStoresPreviousPruneStopped_notAtTheEntriesItLeftDead() throws Exception {
        JobStatements statements = new JobStatements(db.schema(), 1000);
        PruneParams hundred = new PruneParams(Set.of(JobStatus.COMPLETED), Duration.ofMinutes(1), 100, null);
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.executeUpdate("INSERT INTO " + db.schema() + ".job_queue (job_type, status, completed_at)"
                        + " SELECT 'noop', 'completed', now() - interval '1 hour' + g * interval '10 ms'"
                        + " FROM generate_series(1, 3000) g");
            }
            for (int i = 0; i < 25; i++) {
                assertThat(statements.prune(c, hundred)).isEqualTo(100);
            }

            long before = entriesReturned(c);
            assertThat(statements.prune(c, hundred)).isEqualTo(100);
            assertThat(entriesReturned(c) - before).as("entries walked from where the previous prune stopped").isLessThan(300);

            before = entriesReturned(c);
            assertThat(new JobStatements(db.schema(), 1000).prune(c, hundred)).isEqualTo(100);
            assertThat(entriesReturned(c) - before).as("entries walked from the oldest: the 2,600 pruned, then 100")
                    .isGreaterThan(2_600);
            assertThat(pruned(c)).isEqualTo(2_700);
            c.rollback();
        }
    }

    private long entriesReturned(Connection c) throws Exception {
        return IndexEntries.returned(c, db.schema(), "job_queue_finished_idx");
    }

    /** Completed jobs pruned so far, as {@code c}'s transaction sees them. */
    private long pruned(Connection c) throws Exception {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT 3000 - count(*) FROM " + db.schema() + ".job_queue WHERE status = 'completed'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void prune_skipsRowsOthersHoldLocked_insteadOfWaitingForThem() throws Exception {
        insert("completed", 10, 5);
        try (Connection other = db.dataSource().getConnection(); Statement st = other.createStatement()) {
            other.setAutoCommit(false);
            st.execute("SELECT id FROM job_queue ORDER BY completed_at LIMIT 4 FOR UPDATE");
            CompletableFuture<Integer> prune = CompletableFuture.supplyAsync(() ->
                    store.jobPrune(new PruneParams(Set.of(JobStatus.COMPLETED), Duration.ofDays(1), 100, null)));
            assertThat(prune.get(3, TimeUnit.SECONDS)).as("the 6 unlocked rows, without waiting").isEqualTo(6);
            other.rollback();
        }
        assertThat(countsByStatus()).containsEntry("completed", 4L);
    }
}
