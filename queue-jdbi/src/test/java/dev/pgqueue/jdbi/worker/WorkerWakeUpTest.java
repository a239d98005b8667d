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
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a worker learns of new jobs. The poll interval is 30 s in the NOTIFY tests, so a job that
 * starts within 2 s can only have been found through the insert trigger's NOTIFY (or, for scheduled
 * jobs, the worker's knowledge of the next due time).
 */
@PostgresTest
class WorkerWakeUpTest {

    private static final Logger log = LoggerFactory.getLogger(WorkerWakeUpTest.class);

    record Ping(String note) {}

    static final JobType<Ping> PING = JobType.of("ping", Ping.class);
    static final Duration LONG_POLL = Duration.ofSeconds(30);

    private final TestDatabase db;
    private final Map<UUID, Long> startedAt = new ConcurrentHashMap<>();
    private Worker worker;

    WorkerWakeUpTest(TestDatabase db) {
        this.db = db;
    }

    @AfterEach
    void stopWorker() {
        if (worker != null) {
            worker.close();
        }
    }

    @Test
    void idleWorker_startsJobInsertedBySqlFromAnotherConnection_throughNotify() {
        String app = "wake-notify";
        startWorker(app, true, LONG_POLL);
        awaitListening(app);
        awaitIdle(app);

        long before = System.nanoTime();
        UUID id = insertBySql("now()");

        // Bounds far below the 30 s poll that a missed NOTIFY would wait for, and above what a loaded CI
        // machine stalls (a few seconds): the test tells the two ways apart, not how fast the machine is.
        await().atMost(Duration.ofSeconds(10)).until(() -> startedAt.containsKey(id));
        Duration latency = Duration.ofNanos(startedAt.get(id) - before);
        log.info("insert by SQL to handler start through NOTIFY: {} ms", latency.toNanos() / 1e6);
        assertThat(latency).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void withNotificationsOff_aShortPollStillFindsTheJob() {
        startWorker("wake-poll", false, Duration.ofMillis(200));
        awaitIdle("wake-poll");

        UUID id = insertBySql("now()");

        await().atMost(Duration.ofSeconds(5)).until(() -> startedAt.containsKey(id));
        assertThat(db.queryForLong("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'wake-poll' AND query LIKE 'LISTEN%'"))
                .as("no LISTEN connection when notifications are off")
                .isZero();
    }

    @Test
    void jobScheduledOneSecondAhead_startsAboutOneSecondLater_notAPollIntervalLater() {
        String app = "wake-scheduled";
        startWorker(app, true, LONG_POLL);
        awaitListening(app);
        awaitIdle(app);

        long before = System.nanoTime();
        UUID id = insertBySql("now() + interval '1 second'");

        await().atMost(Duration.ofSeconds(15)).until(() -> startedAt.containsKey(id));
        Duration waited = Duration.ofNanos(startedAt.get(id) - before);
        log.info("job due in 1 s started after {} ms", waited.toMillis());
        assertThat(waited).isBetween(Duration.ofMillis(900), Duration.ofSeconds(10)); // not the 30 s poll
    }

    @Test
    void jobEnqueuedInThisProcess_withADelay_startsWhenDue() {
        JdbiJobStore store = startWorker("wake-local", true, LONG_POLL);
        awaitIdle("wake-local");

        long before = System.nanoTime();
        UUID id = JdbiJobQueue.create(store).enqueue(PING, new Ping("later"), EnqueueOptions.defaults().delay(Duration.ofMillis(700)));

        await().atMost(Duration.ofSeconds(15)).until(() -> startedAt.containsKey(id));
        assertThat(Duration.ofNanos(startedAt.get(id) - before)).isBetween(Duration.ofMillis(600), Duration.ofSeconds(10));
    }

    private JdbiJobStore startWorker(String applicationName, boolean notifications, Duration pollInterval) {
        HikariDataSource pool = db.newDataSource(applicationName, 5);
        JdbiJobStore store = JdbiJobStore.builder(Jdbi.create(pool)).schema(db.schema()).notifications(notifications).build();
        worker = Worker.builder(store)
                .pollInterval(pollInterval)
                .handler(PING, (job, context) -> {
                    startedAt.put(job.id(), System.nanoTime());
                    return JobOutcome.done();
                })
                .build();
        worker.start();
        return store;
    }

    /** Waits until the worker's LISTEN connection is established. */
    private void awaitListening(String applicationName) {
        await().atMost(Duration.ofSeconds(10)).until(() -> db.queryForLong(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = ? AND query LIKE 'LISTEN%'",
                applicationName) == 1);
    }

    /**
     * Waits until the worker's first claim round has finished, so that only a wake-up can find new
     * jobs: the worker has claimed (nothing) once, and a round that claims nothing ends by asking
     * when the next job is due (next-due.sql), which takes a moment more. The worker's connections
     * also read paused queues and renew its registry entry, so which statement a connection ran last
     * says little; the worker's own health does.
     */
    private void awaitIdle(String applicationName) {
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10))
                .until(() -> worker.health().lastClaim() != null);
        await().pollDelay(Duration.ofMillis(300)).atMost(Duration.ofSeconds(1)).until(() -> true);
    }

    private UUID insertBySql(String runAt) {
        return (UUID) db.queryForList(
                        "INSERT INTO job_queue (job_type, payload, run_at) VALUES ('ping', '{\"note\": \"sql\"}', " + runAt
                                + ") RETURNING id")
                .get(0)
                .get("id");
    }
}
