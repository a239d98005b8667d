package dev.pgqueue.jdbi.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.Worker;
import dev.pgqueue.WorkerListener;
import dev.pgqueue.jdbi.JdbiJobStore;
import dev.pgqueue.spi.JobStore.TableHealth;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;

/**
 * A transaction elsewhere that pins the xmin horizon stops vacuum from cleaning the job table; the
 * worker reports it, naming the session when the database lets it see which.
 */
@PostgresTest
class TableHealthTest {

    record Noop() {}

    static final JobType<Noop> NOOP = JobType.of("noop", Noop.class);

    private final TestDatabase db;
    private final JdbiJobStore store;

    TableHealthTest(TestDatabase db) {
        this.db = db;
        this.store = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
    }

    @Test
    void aTransactionHoldingItsSnapshot_isSeen_andReportedByTheWorker() throws Exception {
        List<String> reports = new CopyOnWriteArrayList<>();
        Worker worker = Worker.builder(store)
                .handler(NOOP, (job, context) -> JobOutcome.done())
                .tableHealthInterval(Duration.ofMillis(300))
                .listener(new WorkerListener() {
                    @Override
                    public void tableUnhealthy(String report) {
                        reports.add(report);
                    }
                })
                .build();
        try (Connection pin = db.newDataSource("pinning-report", 1).getConnection(); Statement st = pin.createStatement()) {
            pin.setAutoCommit(false);
            st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
            st.execute("SELECT count(*) FROM job_queue"); // the snapshot is taken: xmin is pinned
            long opened = System.nanoTime();
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20)).until(() -> {
                Duration age = store.jobTableHealth().orElseThrow().oldestTransactionAge();
                return age != null && age.compareTo(Duration.ofMillis(400)) >= 0;
            });

            TableHealth health = store.jobTableHealth().orElseThrow();
            assertThat(health.oldestTransaction()).as("the oldest snapshot in this database").isNotNull();
            assertThat(health.oldestTransactionAge()).isGreaterThanOrEqualTo(Duration.ofMillis(400));

            worker.start();
            await().atMost(Duration.ofSeconds(10)).until(() -> !reports.isEmpty());
            assertThat(reports.get(0)).contains("holds back vacuum of job_queue").contains("dead rows");
            assertThat(Duration.ofNanos(System.nanoTime() - opened)).isLessThan(Duration.ofSeconds(10));
            pin.rollback();
        } finally {
            worker.close();
        }
        assertThat(reports).as("reported once per episode").hasSize(1);
    }

    /**
     * What the worker's check subtracts from the dead rows a vacuum seems to have left (those made
     * since, at most): updates, deletes and inserts, whose rows die if their transaction rolls back, as
     * an application's enqueue does when its own transaction fails. And the inserts since vacuum ran.
     */
    @Test
    void deadRowsMade_countsUpdatesDeletesAndInserts_rolledBackOnesToo_insertedSinceVacuumTheInserts() throws Exception {
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            st.execute("INSERT INTO job_queue (job_type, payload) SELECT 'noop', '{}' FROM generate_series(1, 100)");
            await().atMost(Duration.ofSeconds(30)).until(() -> store.jobTableHealth().orElseThrow().liveRows() == 100);
            assertThat(store.jobTableHealth().orElseThrow().insertedSinceVacuum()).as("no vacuum yet").isEqualTo(100);
            long before = store.jobTableHealth().orElseThrow().deadRowsMade();

            st.execute("UPDATE job_queue SET priority = 1");
            st.execute("DELETE FROM job_queue");
            c.setAutoCommit(false);
            st.execute("INSERT INTO job_queue (job_type, payload) SELECT 'noop', '{}' FROM generate_series(1, 50)");
            c.rollback();
            c.setAutoCommit(true);
            // Backends report their statistics within seconds, not at once.
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> store.jobTableHealth().orElseThrow().deadRowsMade() - before >= 250);
            assertThat(store.jobTableHealth().orElseThrow().deadRowsMade() - before).isEqualTo(250);

            st.execute("VACUUM job_queue");
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> store.jobTableHealth().orElseThrow().insertedSinceVacuum() == 0);
        }
    }
}
