package dev.pgqueue.jdbi.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.Worker;
import dev.pgqueue.jdbi.JdbiJobQueue;
import dev.pgqueue.jdbi.JdbiJobStore;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;

/**
 * A worker in another JVM is killed with SIGKILL while it holds jobs. Nothing may be lost: once its
 * leases expire, another worker rescues and completes them.
 */
@PostgresTest
class WorkerCrashTest {

    public record Work(long millis) {}

    public static final JobType<Work> WORK = JobType.of("work", Work.class);

    private final TestDatabase db;

    WorkerCrashTest(TestDatabase db) {
        this.db = db;
    }

    @Test
    void jobsOfAKilledWorker_areRescuedAfterTheirLeasesExpire_andAllComplete() throws Exception {
        JdbiJobStore store = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
        db.execute("CREATE TABLE ledger (job_id uuid NOT NULL, worker text NOT NULL, event text NOT NULL, at timestamptz DEFAULT clock_timestamp())");
        List<UUID> ids = JdbiJobQueue.create(store).enqueueAll(
                WORK, IntStream.range(0, 300).mapToObj(i -> new Work(100)).toList(), EnqueueOptions.defaults());

        Process child = startChildWorker("doomed");
        Set<UUID> heldAtKill;
        try {
            await().atMost(Duration.ofSeconds(60)).until(() ->
                    db.queryForLong("SELECT count(*) FROM ledger WHERE worker = 'doomed'") >= 40);
            child.destroyForcibly(); // SIGKILL: no shutdown hook, no hand-back
            assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
            // A statement the worker sent just before it died still runs to its end on the server.
            await().atMost(Duration.ofSeconds(10)).until(() -> db.queryForLong(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'crash-test-doomed'") == 0);
            heldAtKill = uuids("SELECT id FROM job_queue WHERE status = 'processing' AND lease_owner = 'doomed'");
        } finally {
            child.destroyForcibly();
        }
        assertThat(heldAtKill).as("the killed worker held jobs").isNotEmpty();

        Worker rescuer = Worker.builder(store)
                .workerId("survivor")
                .rescueInterval(Duration.ofMillis(300))
                .handler(WORK, (job, context) -> {
                    db.execute("INSERT INTO ledger (job_id, worker, event) VALUES (?, 'survivor', 'start')", job.id());
                    return JobOutcome.done();
                })
                .build();
        rescuer.start();
        try {
            await().atMost(Duration.ofSeconds(60)).until(() ->
                    db.queryForLong("SELECT count(*) FROM job_queue WHERE status <> 'completed'") == 0);
        } finally {
            rescuer.close();
        }

        assertThat(uuids("SELECT id FROM job_queue WHERE status = 'completed'")).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(uuids("SELECT DISTINCT job_id FROM ledger")).as("every job ran at least once").containsExactlyInAnyOrderElementsOf(ids);
        for (UUID id : heldAtKill) {
            assertThat(db.queryForList("SELECT retry_count, attempt, lease_owner FROM job_queue WHERE id = ?", id).get(0))
                    .as("job %s was rescued and re-run by the survivor", id)
                    .containsEntry("retry_count", 1)
                    .containsEntry("attempt", 2)
                    .containsEntry("lease_owner", "survivor");
        }
        assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE status = 'completed' AND retry_count > 0"))
                .as("only the jobs held at the kill were retried")
                .isEqualTo(heldAtKill.size());
    }

    private Process startChildWorker(String workerId) throws Exception {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path log = Files.createTempFile("crashing-worker", ".log");
        return new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp", classpath,
                        CrashingWorkerMain.class.getName(),
                        db.jdbcUrl(), db.schema(), workerId)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }

    private Set<UUID> uuids(String sql) {
        return db.queryForList(sql).stream()
                .map(row -> (UUID) row.values().iterator().next())
                .collect(Collectors.toCollection(HashSet::new));
    }
}
