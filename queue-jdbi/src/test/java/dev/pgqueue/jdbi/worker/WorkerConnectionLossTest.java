package dev.pgqueue.jdbi.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.Worker;
import dev.pgqueue.jdbi.JdbiJobQueue;
import dev.pgqueue.jdbi.JdbiJobStore;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every connection of a running worker is terminated by the server. The worker must recover on
 * its own: re-establish LISTEN, find the jobs whose NOTIFY it missed, and complete everything.
 * Only this test's own backends are terminated (found by their application_name).
 */
@PostgresTest
class WorkerConnectionLossTest {

    private static final Logger log = LoggerFactory.getLogger(WorkerConnectionLossTest.class);

    record Step(int n) {}

    static final JobType<Step> STEP = JobType.of("step", Step.class);

    private final TestDatabase db;

    WorkerConnectionLossTest(TestDatabase db) {
        this.db = db;
    }

    @Test
    void workerWhoseConnectionsAreAllTerminated_recovers_andMissesNoJob() {
        String app = "conn-loss-" + UUID.randomUUID().toString().substring(0, 8);
        HikariDataSource pool = db.newDataSource(app, 6);
        JdbiJobStore store = JdbiJobStore.builder(Jdbi.create(pool)).schema(db.schema()).build();
        Map<UUID, Integer> runs = new ConcurrentHashMap<>();
        Map<UUID, Long> startedAt = new ConcurrentHashMap<>();
        Worker worker = Worker.builder(store)
                .pollInterval(Duration.ofSeconds(30)) // so that only LISTEN and the re-poll can find jobs quickly
                .queue("default", 4)
                .handler(STEP, (job, context) -> {
                    startedAt.putIfAbsent(job.id(), System.nanoTime());
                    runs.merge(job.id(), 1, Integer::sum);
                    Thread.sleep(5);
                    return JobOutcome.done();
                })
                .build();
        List<UUID> ids = JdbiJobQueue.create(store).enqueueAll(
                STEP, IntStream.range(0, 400).mapToObj(Step::new).toList(), EnqueueOptions.defaults());
        worker.start();
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> runs.size() >= 100);
            awaitListening(app);

            long terminated = db.queryForLong(
                    "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ?) t",
                    app);
            assertThat(terminated).as("the worker's backends were terminated").isGreaterThanOrEqualTo(1);
            long killedAt = System.nanoTime();
            UUID whileDown = (UUID) db.queryForList(
                    "INSERT INTO job_queue (job_type, payload) VALUES ('step', '{\"n\": -1}') RETURNING id").get(0).get("id");

            await().atMost(Duration.ofSeconds(30)).until(() ->
                    db.queryForLong("SELECT count(*) FROM job_queue WHERE status <> 'completed'") == 0);
            awaitListening(app);
            Duration pickup = Duration.ofNanos(startedAt.get(whileDown) - killedAt);
            log.info("terminated {} backends; the job inserted meanwhile started {} ms later", terminated, pickup.toMillis());
            assertThat(pickup).as("found by the re-poll after re-LISTEN, not the 30 s poll").isLessThan(Duration.ofSeconds(10));

            long fresh = System.nanoTime();
            UUID afterRecovery = (UUID) db.queryForList(
                    "INSERT INTO job_queue (job_type, payload) VALUES ('step', '{\"n\": -2}') RETURNING id").get(0).get("id");
            await().atMost(Duration.ofSeconds(10)).until(() -> startedAt.containsKey(afterRecovery)); // not the 30 s poll
            log.info("after recovery, a NOTIFY-woken job started {} ms after insert",
                    Duration.ofNanos(startedAt.get(afterRecovery) - fresh).toMillis());
        } finally {
            worker.close();
            pool.close();
        }
        assertThat(runs.keySet()).containsAll(ids);
        assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE status = 'completed'")).isEqualTo(ids.size() + 2);
    }

    private void awaitListening(String app) {
        await().atMost(Duration.ofSeconds(15)).until(() -> db.queryForLong(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = ? AND query LIKE 'LISTEN%'", app) == 1);
    }
}
