package dev.pgqueue.jdbi.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.Job;
import dev.pgqueue.JobHandler;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobStatus;
import dev.pgqueue.JobType;
import dev.pgqueue.PayloadException;
import dev.pgqueue.Worker;
import dev.pgqueue.WorkerListener;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** A handler's result and progress reports, written by a real worker and read back by a producer. */
@PostgresTest
class ResultsAndProgressTest extends WorkerFixture {

    record Render(String image) {}

    record Rendered(String url, int pages) {}

    static final JobType<Render> RENDER = JobType.of("render", Render.class);

    private final List<UUID> leasesLost = new CopyOnWriteArrayList<>();

    ResultsAndProgressTest(TestDatabase db) {
        super(db);
    }

    @BeforeEach
    void forgetLostLeases() {
        leasesLost.clear();
    }

    private void start(JobHandler<Render> handler, Consumer<Worker.Builder> options) {
        Worker.Builder builder = Worker.builder(store)
                .pollInterval(Duration.ofMillis(100))
                .listener(new WorkerListener() {
                    @Override
                    public void leaseLost(Job<?> job) {
                        leasesLost.add(job.id());
                    }
                })
                .handler(RENDER, handler);
        options.accept(builder);
        worker = builder.build();
        worker.start();
    }

    private UUID enqueue(int maxRetries) {
        return queue.enqueue(RENDER, new Render("cat.png"), EnqueueOptions.defaults().maxRetries(maxRetries));
    }

    private JobSnapshot awaitStatus(UUID id, JobStatus status) {
        await().atMost(Duration.ofSeconds(15)).until(() -> queue.find(id).orElseThrow().status() == status);
        return queue.find(id).orElseThrow();
    }

    private void stealLease(UUID id) {
        db.execute("UPDATE job_queue SET lease_token = gen_random_uuid() WHERE id = ?", id);
    }

    @Nested
    class Results {

        @Test
        void doneWithAResult_writesItWithTheCompletion_andProducersReadItTyped() {
            start((job, context) -> JobOutcome.done(new Rendered("https://cdn/cat.png", 3)), b -> {});
            UUID id = enqueue(3);

            JobSnapshot done = awaitStatus(id, JobStatus.COMPLETED);

            assertThat(done.resultJson()).isEqualTo("{\"url\": \"https://cdn/cat.png\", \"pages\": 3}");
            assertThat(queue.result(id, Rendered.class)).contains(new Rendered("https://cdn/cat.png", 3));
        }

        @Test
        void aJobWithoutAResult_orNotCompleted_orUnknown_hasNone() {
            CountDownLatch release = new CountDownLatch(1);
            start((job, context) -> {
                if (job.payload().image().equals("slow")) {
                    release.await(10, TimeUnit.SECONDS);
                }
                return JobOutcome.done();
            }, b -> {});
            UUID plain = enqueue(3);
            UUID running = queue.enqueue(RENDER, new Render("slow"));

            awaitStatus(plain, JobStatus.COMPLETED);
            awaitStatus(running, JobStatus.PROCESSING);
            assertThat(queue.result(plain, Rendered.class)).isEmpty();
            assertThat(queue.result(running, Rendered.class)).isEmpty();
            assertThat(queue.result(UUID.randomUUID(), Rendered.class)).isEmpty();
            release.countDown();
        }

        @Test
        void aResultThatDoesNotMapToTheAskedType_failsTheReadClearly() {
            start((job, context) -> JobOutcome.done(List.of(1, 2)), b -> {});
            UUID id = enqueue(3);
            awaitStatus(id, JobStatus.COMPLETED);

            assertThatThrownBy(() -> queue.result(id, Rendered.class))
                    .isInstanceOf(PayloadException.class)
                    .hasMessageStartingWith("result of job render/" + id + " does not map to Rendered: ")
                    .hasMessageEndingWith("; result was: [1, 2]");
        }

        @Test
        void aResultThatCannotBeWrittenAsJson_failsTheAttempt_likeAnException() {
            start((job, context) -> JobOutcome.done(new Object()), b -> {});
            UUID id = enqueue(0);

            JobSnapshot failed = awaitStatus(id, JobStatus.FAILED);

            assertThat(failed.errorMessage()).startsWith(
                    "dev.pgqueue.PayloadException: cannot write the result of job render/" + id + " (a java.lang.Object) as JSON");
            assertThat(failed.resultJson()).isNull();
        }

        @Test
        void aTransactionalHandlersResult_commitsWithItsWrites() {
            db.execute("CREATE TABLE IF NOT EXISTS renders (job_id uuid PRIMARY KEY)");
            start(store.transactional((job, context, handle) -> {
                handle.execute("INSERT INTO renders (job_id) VALUES (?)", job.id());
                return JobOutcome.done(new Rendered("u", 1));
            }), b -> {});
            UUID id = enqueue(3);

            awaitStatus(id, JobStatus.COMPLETED);

            assertThat(queue.result(id, Rendered.class)).contains(new Rendered("u", 1));
            assertThat(db.queryForLong("SELECT count(*) FROM renders WHERE job_id = ?", id)).isEqualTo(1);
        }

        @Test
        void theResultOfAnAttemptThatLostItsLease_isNotWritten() {
            start((job, context) -> {
                stealLease(job.id());
                return JobOutcome.done(new Rendered("late", 1));
            }, b -> {});
            UUID id = enqueue(3);

            await().atMost(Duration.ofSeconds(10)).until(() -> leasesLost.contains(id));
            JobSnapshot after = queue.find(id).orElseThrow();
            assertThat(after.status()).isEqualTo(JobStatus.PROCESSING);
            assertThat(after.resultJson()).isNull();
        }
    }

    @Nested
    class Progress {

        @Test
        void aReportWhileTheHandlerRuns_isVisibleToProducers_andTheLastOneIsKept() throws Exception {
            CountDownLatch release = new CountDownLatch(1);
            start((job, context) -> {
                context.reportProgress(40, "rendering page 2 of 5");
                release.await(10, TimeUnit.SECONDS);
                context.reportProgress(100, "done");
                return JobOutcome.done();
            }, b -> b.progressInterval(Duration.ofMillis(50)));
            UUID id = enqueue(3);

            await().atMost(Duration.ofSeconds(10)).until(() -> queue.find(id).orElseThrow().progress() != null);
            JobSnapshot running = queue.find(id).orElseThrow();
            assertThat(running.status()).isEqualTo(JobStatus.PROCESSING);
            assertThat(running.progress().percent()).isEqualTo(40);
            assertThat(running.progress().message()).isEqualTo("rendering page 2 of 5");
            assertThat(running.progress().reportedAt()).isNotNull();
            release.countDown();

            JobSnapshot done = awaitStatus(id, JobStatus.COMPLETED);
            assertThat(done.progress().percent()).isEqualTo(100);
            assertThat(done.progress().message()).isEqualTo("done");
        }

        @Test
        void writesAreThrottled_toOnePerIntervalPerJob_andTheFinalReportTravelsWithTheOutcome() {
            db.execute("CREATE TABLE IF NOT EXISTS progress_writes (percent int)");
            db.execute("DELETE FROM progress_writes");
            db.execute("CREATE OR REPLACE FUNCTION count_progress_write() RETURNS trigger LANGUAGE plpgsql AS"
                    + " $$ BEGIN INSERT INTO progress_writes VALUES (NEW.progress_percent); RETURN NULL; END $$");
            db.execute("DROP TRIGGER IF EXISTS count_progress_write ON job_queue");
            db.execute("CREATE TRIGGER count_progress_write AFTER UPDATE ON job_queue FOR EACH ROW"
                    + " WHEN (NEW.progress_at IS DISTINCT FROM OLD.progress_at) EXECUTE FUNCTION count_progress_write()");
            int reports = 3_000;
            java.util.concurrent.atomic.AtomicLong ranNanos = new java.util.concurrent.atomic.AtomicLong();
            start((job, context) -> {
                long started = System.nanoTime();
                for (int i = 1; i <= reports; i++) {
                    context.reportProgress(i * 99 / reports, "step " + i);
                    if (i % 60 == 0) {
                        Thread.sleep(20); // 50 pauses: about a second in all
                    }
                }
                // Running on until a report was written (a loaded machine may hold the writer that long).
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (db.queryForLong("SELECT count(*) FROM progress_writes WHERE percent < 100") == 0
                        && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                context.reportProgress(100, "all " + reports + " steps");
                ranNanos.set(System.nanoTime() - started);
                return JobOutcome.done();
            }, b -> b.progressInterval(Duration.ofMillis(250)));
            UUID id = enqueue(3);

            JobSnapshot done = awaitStatus(id, JobStatus.COMPLETED);

            long writes = db.queryForLong("SELECT count(*) FROM progress_writes");
            long intervals = TimeUnit.NANOSECONDS.toMillis(ranNanos.get()) / 250;
            assertThat(writes).as("row updates for %d reports over %d intervals of 250 ms", reports, intervals)
                    .isBetween(2L, intervals + 2);
            assertThat(db.queryForLong("SELECT count(*) FROM progress_writes WHERE percent < 100"))
                    .as("written while running").isPositive();
            assertThat(done.progress().percent()).isEqualTo(100);
            assertThat(done.progress().message()).isEqualTo("all 3000 steps");
            db.execute("DROP TRIGGER count_progress_write ON job_queue");
        }

        @Test
        void withALongInterval_nothingIsWrittenWhileRunning_yetTheLastReportIsWrittenWithTheOutcome() throws Exception {
            CountDownLatch reported = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            start((job, context) -> {
                context.reportProgress(70, "almost");
                reported.countDown();
                release.await(10, TimeUnit.SECONDS);
                throw new IllegalStateException("boom");
            }, b -> b.progressInterval(Duration.ofHours(1)));
            UUID id = enqueue(0);

            assertThat(reported.await(10, TimeUnit.SECONDS)).isTrue();
            Thread.sleep(300);
            assertThat(queue.find(id).orElseThrow().progress()).isNull();
            release.countDown();

            JobSnapshot failed = awaitStatus(id, JobStatus.FAILED);
            assertThat(failed.progress().percent()).isEqualTo(70);
            assertThat(failed.progress().message()).isEqualTo("almost");
        }

        @Test
        void reportsAfterTheLeaseWasLost_areNotWritten() throws Exception {
            CountDownLatch stolen = new CountDownLatch(1);
            start((job, context) -> {
                context.reportProgress(10, "before");
                stolen.await(10, TimeUnit.SECONDS);
                context.reportProgress(90, "after");
                Thread.sleep(400);
                return JobOutcome.done();
            }, b -> b.progressInterval(Duration.ofMillis(50)));
            UUID id = enqueue(3);
            await().atMost(Duration.ofSeconds(10)).until(() -> queue.find(id).orElseThrow().progress() != null);

            stealLease(id);
            stolen.countDown();

            await().atMost(Duration.ofSeconds(10)).until(() -> leasesLost.contains(id));
            JobSnapshot after = queue.find(id).orElseThrow();
            assertThat(after.progress().percent()).isEqualTo(10);
            assertThat(after.progress().message()).isEqualTo("before");
        }

        @Test
        void anInvalidReport_throwsIntoTheHandler_andIsNotRecorded() {
            start((job, context) -> {
                context.reportProgress(101, "too far");
                return JobOutcome.done();
            }, b -> b.progressInterval(Duration.ofMillis(50)));
            UUID id = enqueue(0);

            JobSnapshot failed = awaitStatus(id, JobStatus.FAILED);

            assertThat(failed.errorMessage())
                    .startsWith("dev.pgqueue.ValidationException: expected progress percent to be between 0 and 100, got: 101");
            assertThat(failed.progress()).isNull();
        }

        @Test
        void aMessageTooLongForTheContract_isRejected() {
            start((job, context) -> {
                context.reportProgress(5, "x".repeat(1_001));
                return JobOutcome.done();
            }, b -> {});
            UUID id = enqueue(0);

            JobSnapshot failed = awaitStatus(id, JobStatus.FAILED);

            assertThat(failed.errorMessage())
                    .startsWith("dev.pgqueue.ValidationException: expected progress message to be at most 1000 characters without \\u0000, got: \"xxx");
        }
    }
}
