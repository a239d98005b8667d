package dev.pgqueue.jdbi.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.Worker;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Issue 17's rough edges at the worker: a handler whose jobs this worker can never claim is warned
 * about at start; {@code shouldStop()} turns true as soon as {@code close()} begins; the default
 * shutdown timeout leaves room within Kubernetes' 30 s grace period.
 */
class RoughEdgesTest extends WorkerFixture {

    record Task(int n) {}

    static final JobType<Task> TASK = JobType.of("task", Task.class);

    RoughEdgesTest(TestDatabase db) {
        super(db);
    }

    @Test
    void aWorkerThatDoesNotServeTheDefaultQueue_warnsAtStart_andNamesPendingJobsNobodyServes() throws Exception {
        queue.enqueue(TASK, new Task(1)); // into "default"
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream stderr = System.err;
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        String log;
        try {
            start(Worker.builder(store).workerId("mail-only").queue("mail", 2).handler(TASK, (job, context) -> JobOutcome.done()));
            await().atMost(Duration.ofSeconds(5)).until(() ->
                    captured.toString(StandardCharsets.UTF_8).contains("pending jobs of it wait in queue default"));
        } finally {
            System.setErr(stderr);
            log = captured.toString(StandardCharsets.UTF_8);
            stderr.print(log);
        }

        assertThat(log).contains("worker mail-only serves queues [mail] but not \"default\"")
                .contains("its job types [task] enqueued without a queue will not be claimed by it")
                .contains("worker mail-only has a handler for task, but 1 pending jobs of it wait in queue default, "
                        + "which no live worker serves");
        assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE status = 'pending'")).isEqualTo(1);
    }

    @Test
    void shouldStop_isTrueAsSoonAsCloseBegins_notOnlyAfterTheShutdownTimeout() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        AtomicLong sawStopAt = new AtomicLong();
        Worker w = start(Worker.builder(store)
                .shutdownTimeout(Duration.ofSeconds(20))
                .handler(TASK, (job, context) -> {
                    running.countDown();
                    while (!context.shouldStop()) {
                        Thread.onSpinWait();
                    }
                    sawStopAt.set(System.nanoTime());
                    return JobOutcome.snooze(Duration.ofSeconds(1)); // hands the job back cleanly
                }));
        queue.enqueue(TASK, new Task(1));
        assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();

        long closeAt = System.nanoTime();
        w.close();
        long closedIn = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - closeAt);

        assertThat(TimeUnit.NANOSECONDS.toMillis(sawStopAt.get() - closeAt)).as("ms until shouldStop()").isLessThan(1_000);
        assertThat(closedIn).as("close() did not wait for the 20 s timeout").isLessThan(5_000);
        assertThat(db.queryForList("SELECT status FROM job_queue").get(0)).containsEntry("status", "pending");
    }

    @Test
    void theDefaultShutdownTimeout_isBelowKubernetesDefaultGracePeriod() {
        assertThat(Worker.DEFAULT_SHUTDOWN_TIMEOUT).isEqualTo(Duration.ofSeconds(25)).isLessThan(Duration.ofSeconds(30));
    }
}
