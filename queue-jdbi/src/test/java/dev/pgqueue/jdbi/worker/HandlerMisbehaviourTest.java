package dev.pgqueue.jdbi.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.RetryPolicy;
import dev.pgqueue.Worker;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Handlers that misbehave as badly as they can: never return, swallow interrupts, or end the JVM.
 * The job must still end (rescued after its lease, failed once its retries are used), and the rest
 * of the worker must keep serving.
 */
@PostgresTest
class HandlerMisbehaviourTest extends WorkerFixture {

    public record Task(int n) {}

    static final JobType<Task> STUCK = JobType.of("stuck", Task.class)
            .withTimeout(Duration.ofMillis(200))
            .withRetryPolicy(RetryPolicy.noBackoff());
    static final JobType<Task> OK = JobType.of("ok", Task.class);
    static final JobType<Task> SLOW_TO_LET_GO = JobType.of("slow-to-let-go", Task.class);
    public static final JobType<Task> EXIT = JobType.of("exit", Task.class);


    HandlerMisbehaviourTest(TestDatabase db) {
        super(db);
    }

    private Map<String, Object> row(UUID id) {
        return db.queryForList("SELECT status, attempt, retry_count, error_message FROM job_queue WHERE id = ?", id).get(0);
    }

    @Test
    void handlerThatNeverReturnsAndSwallowsInterrupts_isReportedStuck_rescued_failed_andTheWorkerKeepsServing() {
        CountDownLatch release = new CountDownLatch(1);
        ByteArrayOutputStream logged = new ByteArrayOutputStream();
        PrintStream stderr = System.err;
        System.setErr(new PrintStream(new TeeStream(stderr, logged), true, StandardCharsets.UTF_8));
        Worker worker = Worker.builder(store)
                .queue("default", 3)
                .leaseDuration(Duration.ofMillis(800))
                .heartbeatInterval(Duration.ofMillis(200))
                .rescueInterval(Duration.ofMillis(200))
                .pollInterval(Duration.ofMillis(100))
                .handler(STUCK, (job, context) -> {
                    while (release.getCount() > 0) {
                        try {
                            release.await(); // swallows every interrupt
                        } catch (InterruptedException ignored) {
                            // and goes on waiting
                        }
                    }
                    return JobOutcome.done();
                })
                .handler(OK, (job, context) -> JobOutcome.done())
                .build();
        worker.start();
        try {
            UUID stuck = queue.enqueue(STUCK, new Task(0), EnqueueOptions.defaults().maxRetries(1));
            await().atMost(Duration.ofSeconds(20)).until(() -> "failed".equals(row(stuck).get("status")));
            assertThat(row(stuck)).containsEntry("attempt", 2).containsEntry("retry_count", 2);
            assertThat((String) row(stuck).get("error_message")).startsWith("lease expired at").contains("during attempt 2");

            List<UUID> others = queue.enqueueAll(OK, IntStream.range(0, 20).mapToObj(Task::new).toList(), EnqueueOptions.defaults());
            await().atMost(Duration.ofSeconds(10)).until(() ->
                    db.queryForLong("SELECT count(*) FROM job_queue WHERE job_type = 'ok' AND status = 'completed'") == others.size());
            assertThat(worker.runningJobs()).as("both stuck handlers still hold their slots").isEqualTo(2);
            await().atMost(Duration.ofSeconds(5)).until(() -> logged.toString(StandardCharsets.UTF_8)
                    .contains("job stuck/" + stuck + "'s handler has ignored its interrupt (TIMED_OUT)"));
        } finally {
            System.setErr(stderr);
            release.countDown();
            worker.close();
        }
    }

    /**
     * The same worker rescues a job from a handler that lost its lease and runs it again while that
     * handler is still busy. When the old handler finally returns, the new attempt must keep its
     * lease (heartbeats) and complete: the job runs twice, not three times.
     */
    @Test
    void anOldAttemptReturningLate_doesNotCostTheNewAttemptOfTheSameJobItsLease() {
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch firstStarted = new CountDownLatch(1);
        CountDownLatch secondStarted = new CountDownLatch(1);
        Worker worker = Worker.builder(store)
                .queue("default", 2)
                .leaseDuration(Duration.ofMillis(3000)) // ten beats: a loaded machine may delay a few
                .heartbeatInterval(Duration.ofMillis(300))
                .rescueInterval(Duration.ofMillis(100))
                .pollInterval(Duration.ofMillis(100))
                .handler(SLOW_TO_LET_GO, (job, context) -> {
                    runs.incrementAndGet();
                    if (job.attempt() == 1) {
                        firstStarted.countDown();
                        awaitIgnoringInterrupts(secondStarted);
                        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1_000);
                        while (System.nanoTime() < until) {
                            Thread.onSpinWait();
                        }
                        return JobOutcome.done(); // too late: fenced out, while attempt 2 still runs
                    }
                    secondStarted.countDown();
                    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(4_000);
                    while (System.nanoTime() < until) {
                        Thread.onSpinWait(); // longer than the lease: lives on heartbeats
                    }
                    return JobOutcome.done();
                })
                .build();
        worker.start();
        try {
            UUID id = queue.enqueue(SLOW_TO_LET_GO, new Task(1));
            await().atMost(Duration.ofSeconds(5)).until(() -> firstStarted.getCount() == 0);
            // The lease runs out under the first attempt (as after a long GC pause): force it.
            db.execute("UPDATE job_queue SET lease_expires_at = now() - interval '1 second' WHERE id = ?", id);
            await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(row(id).get("status")));
            assertThat(row(id)).containsEntry("attempt", 2).containsEntry("retry_count", 1);
            assertThat(runs).hasValue(2);
        } finally {
            worker.close();
        }
    }

    @Test
    void handlerThatEndsTheJvm_killsItsWorker_butTheJobIsRescuedAndFailsOnceItsRetriesAreUsed() throws Exception {
        UUID id = queue.enqueue(EXIT, new Task(1), EnqueueOptions.defaults().maxRetries(1));
        Worker rescuer = Worker.builder(store)
                .rescueInterval(Duration.ofMillis(200))
                .handler(OK, (job, context) -> JobOutcome.done())
                .build();
        rescuer.start();
        try {
            Process exits = startChild("exits", "exit");
            assertThat(exits.waitFor(20, TimeUnit.SECONDS)).as("exits without waiting out the shutdown timeout").isTrue();
            assertThat(exits.exitValue()).isEqualTo(41);
            // The child's shutdown hook closes its worker, which records the attempt as failed.
            assertThat(row(id)).containsEntry("status", "pending").containsEntry("attempt", 1).containsEntry("retry_count", 1);
            assertThat((String) row(id).get("error_message")).startsWith("the handler called System.exit");

            Process halts = startChild("halts", "halt");
            assertThat(halts.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(halts.exitValue()).isEqualTo(42);
            await().atMost(Duration.ofSeconds(10)).until(() -> "failed".equals(row(id).get("status")));
            assertThat(row(id)).containsEntry("attempt", 2).containsEntry("retry_count", 2);
            assertThat((String) row(id).get("error_message")).startsWith("lease expired at").contains("worker halts");
        } finally {
            rescuer.close();
        }
    }

    private static void awaitIgnoringInterrupts(CountDownLatch latch) {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (latch.getCount() > 0 && System.nanoTime() < until) {
            try {
                latch.await(10, TimeUnit.MILLISECONDS);
            } catch (InterruptedException ignored) {
                // a handler that ignores interruption
            }
        }
    }

    private Process startChild(String workerId, String how) throws Exception {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path log = Files.createTempFile("exiting-worker", ".log");
        return new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp", classpath, ExitingWorkerMain.class.getName(),
                        db.jdbcUrl(), db.schema(), workerId, how)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }

    /** Writes to two streams: the test's own log keeps everything while the test reads its copy. */
    private static final class TeeStream extends java.io.OutputStream {
        private final java.io.OutputStream first;
        private final java.io.OutputStream second;

        TeeStream(java.io.OutputStream first, java.io.OutputStream second) {
            this.first = first;
            this.second = second;
        }

        @Override
        public synchronized void write(int b) throws java.io.IOException {
            first.write(b);
            second.write(b);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) throws java.io.IOException {
            first.write(b, off, len);
            second.write(b, off, len);
        }
    }
}
