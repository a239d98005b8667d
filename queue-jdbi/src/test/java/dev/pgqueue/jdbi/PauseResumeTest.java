package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.ValidationException;
import dev.pgqueue.Worker;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Pausing a queue (V7) under real workers: within about a second of {@code pause} returning no
 * worker claims from the queue, whether the notification arrives or not (notifications off: the
 * once-a-second re-read); its jobs stay pending, enqueue works, running jobs finish; a forged
 * notification pauses nothing; resume lets every worker claim again at once.
 */
@PostgresTest
class PauseResumeTest {

    record Task(int n) {}

    static final JobType<Task> TASK = JobType.of("task", Task.class);

    private final TestDatabase db;
    private final JdbiJobStore store;
    private final JdbiJobQueue queue;
    private final QueueControl control;
    private final List<Worker> workers = new ArrayList<>();

    PauseResumeTest(TestDatabase db) {
        this.db = db;
        this.store = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
        this.queue = JdbiJobQueue.create(store);
        this.control = new QueueControl(store);
    }

    @BeforeEach
    void empty() {
        db.execute("DELETE FROM job_queue");
        db.execute("DELETE FROM job_queue_queue");
    }

    @AfterEach
    void closeWorkers() {
        workers.forEach(Worker::close);
        workers.clear();
    }

    private Worker startWorker(JdbiJobStore over, String id) {
        Worker worker = Worker.builder(over)
                .workerId(id)
                .queue("default", 4)
                .pollInterval(Duration.ofSeconds(30)) // only the pause watch and NOTIFY act within the test's time
                .handler(TASK, (job, context) -> {
                    Thread.sleep(20);
                    return JobOutcome.done();
                })
                .build();
        workers.add(worker);
        worker.start();
        return worker;
    }

    private void enqueue(int jobs) {
        queue.enqueueAll(TASK, IntStream.range(0, jobs).mapToObj(Task::new).toList(), EnqueueOptions.defaults());
    }

    private long count(String where) {
        return db.queryForLong("SELECT count(*) FROM job_queue WHERE " + where);
    }

    /** The database's clock now, as the driver returns a timestamptz (bound back as one). */
    private Object databaseNow() {
        return db.queryForList("SELECT clock_timestamp() AS now").get(0).get("now");
    }

    /** Pauses while three workers (twelve handler threads) claim; returns the database time just after. */
    private Object pauseWhileClaiming(JdbiJobStore workersStore) {
        enqueue(3_000);
        for (int i = 0; i < 3; i++) {
            startWorker(workersStore, "pausing-" + i);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> count("status = 'completed'") >= 100);

        assertThat(control.pause("default")).isTrue();
        return databaseNow();
    }

    /**
     * "Within about a second" (docs/operations.md) gets 2 s here, for a loaded CI machine that delays
     * the once-a-second read; the 2,900 jobs left take the twelve handlers about 5 s, so a pause that
     * is not honoured still claims well past that.
     */
    private void assertNothingClaimedAfter(Object pausedAt) throws InterruptedException {
        Thread.sleep(4_000);
        assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE processed_at > CAST(? AS timestamptz) + interval '2 seconds'", pausedAt))
                .as("jobs claimed more than 2 s after pause() returned").isZero();
        assertThat(count("status = 'processing'")).as("running jobs finished").isZero();
        long pending = count("status = 'pending'");
        assertThat(pending).as("the rest stay pending").isPositive();

        enqueue(1);
        Thread.sleep(500);
        assertThat(count("status = 'pending'")).as("enqueue works while paused").isEqualTo(pending + 1);
    }

    @Test
    void pause_underConcurrentClaims_stopsEveryWorkersClaimsWithinASecond_andResumeRestartsThem() throws Exception {
        Object pausedAt = pauseWhileClaiming(store);

        assertNothingClaimedAfter(pausedAt);
        assertThat(control.pausedQueues()).containsExactly("default");

        assertThat(control.resume("default")).isTrue();
        await().atMost(Duration.ofSeconds(60)).until(() -> count("status <> 'completed'") == 0);
        assertThat(control.pausedQueues()).isEmpty();
    }

    @Test
    void pause_withNotificationsOff_isHonouredThroughTheOnceASecondRead() throws Exception {
        JdbiJobStore polling = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema())
                .notifications(false).build();
        Object pausedAt = pauseWhileClaiming(polling);

        assertNothingClaimedAfter(pausedAt);

        control.resume("default");
        await().atMost(Duration.ofSeconds(60)).until(() -> count("status <> 'completed'") == 0);
    }

    @Test
    void aQueuePausedBeforeTheWorkerStarts_isNeverClaimedFrom() throws Exception {
        control.pause("default");
        enqueue(20);

        startWorker(store, "late");
        Thread.sleep(1_500);

        assertThat(count("status = 'pending'")).isEqualTo(20);
    }

    @Test
    void aForgedNotification_pausesNothing() throws Exception {
        startWorker(store, "forged");
        db.execute("SELECT pg_notify(job_queue_channel(), 'queues:default')");
        db.execute("SELECT pg_notify(job_queue_channel(), 'queues:')");
        Thread.sleep(300);

        enqueue(50);

        await().atMost(Duration.ofSeconds(10)).until(() -> count("status = 'completed'") == 50);
        assertThat(control.pausedQueues()).isEmpty();
    }

    @Test
    void pause_ofAnInvalidQueueName_isRejected_andChangesNothing() {
        assertThatThrownBy(() -> control.pause("default'; DELETE FROM job_queue; --"))
                .isInstanceOf(ValidationException.class)
                .hasMessageContaining("expected queue to be");
        assertThatThrownBy(() -> control.resume(null)).isInstanceOf(ValidationException.class);

        assertThat(db.queryForLong("SELECT count(*) FROM job_queue_queue")).isZero();
    }

    @Test
    void pauseAndResume_asSqlFunctions_areHonouredToo() throws Exception {
        startWorker(store, "sql");
        db.execute("SELECT job_queue_pause('default')");
        Thread.sleep(2_500); // the once-a-second read, should the NOTIFY come before the worker listens
        enqueue(10);
        Thread.sleep(1_000);
        assertThat(count("status = 'pending'")).isEqualTo(10);

        db.execute("SELECT job_queue_resume('default')");

        await().atMost(Duration.ofSeconds(5)).until(() -> count("status = 'completed'") == 10);
    }
}
