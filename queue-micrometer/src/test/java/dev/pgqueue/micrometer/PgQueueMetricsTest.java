package dev.pgqueue.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobStatus;
import dev.pgqueue.JobType;
import dev.pgqueue.RetryPolicy;
import dev.pgqueue.Worker;
import dev.pgqueue.jdbi.JdbiJobAdmin;
import dev.pgqueue.jdbi.JdbiJobQueue;
import dev.pgqueue.jdbi.JdbiJobStore;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The meters of a real worker on PostgreSQL, read from a SimpleMeterRegistry and a Prometheus scrape. */
@PostgresTest
class PgQueueMetricsTest {

    record Task(String name, String outcome) {}

    private static final JobType<Task> TASK = JobType.of("metered-task", Task.class)
            .withMaxRetries(1).withRetryPolicy(RetryPolicy.noBackoff());

    private final TestDatabase db;
    private final Jdbi jdbi;
    private final JdbiJobStore store;
    private final JdbiJobQueue queue;
    private final List<AutoCloseable> closing = new CopyOnWriteArrayList<>();

    PgQueueMetricsTest(TestDatabase db) {
        this.db = db;
        this.jdbi = Jdbi.create(db.dataSource());
        this.store = JdbiJobStore.builder(jdbi).schema(db.schema()).build();
        this.queue = JdbiJobQueue.create(store);
    }

    @BeforeEach
    void emptyTable() {
        db.execute("DELETE FROM job_queue");
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    /** Done, snooze once then done, fail permanently, cancel, or throw on the first attempt then done. */
    private static JobOutcome run(Task task, int attempt) {
        switch (task.outcome()) {
            case "fail":
                return JobOutcome.failPermanently("no such image");
            case "cancel":
                return JobOutcome.cancel("project deleted");
            case "snooze":
                return attempt == 1 ? JobOutcome.snooze(Duration.ofMillis(1)) : JobOutcome.done();
            case "flaky":
                if (attempt == 1) {
                    throw new IllegalStateException("renderer busy");
                }
                return JobOutcome.done();
            default:
                return JobOutcome.done();
        }
    }

    private void startWorker(MeterRegistry registry, String queueName) {
        PgQueueMetrics metrics = new PgQueueMetrics(registry);
        Worker worker = Worker.builder(store)
                .handler(TASK, (job, context) -> run(job.payload(), job.attempt()))
                .queue(queueName, 4)
                .listener(metrics)
                .interceptor(metrics)
                .pollInterval(Duration.ofMillis(100))
                .rescueInterval(Duration.ofMillis(200))
                .build();
        closing.add(worker);
        worker.start();
    }

    private List<UUID> enqueue(String queueName, String... outcomes) {
        List<UUID> ids = new java.util.ArrayList<>();
        for (String outcome : outcomes) {
            ids.add(queue.enqueue(TASK, new Task(outcome, outcome), EnqueueOptions.defaults().queue(queueName)));
        }
        return ids;
    }

    private boolean allFinal(List<UUID> ids) {
        return ids.stream().allMatch(id -> store.jobGet(id).map(job -> job.status().isFinal()).orElse(false));
    }

    private static double count(MeterRegistry registry, String name, String queue) {
        return registry.find(name).tag(PgQueueMetrics.TAG_QUEUE, queue).tag(PgQueueMetrics.TAG_JOB_TYPE, TASK.name())
                .counters().stream().mapToDouble(c -> c.count()).sum();
    }

    @Nested
    class Worker_ {

        @Test
        void counters_countEveryOutcome_byQueueAndJobType() {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            startWorker(registry, "images");

            List<UUID> ids = enqueue("images", "done", "done", "fail", "cancel", "snooze", "flaky");
            await().atMost(Duration.ofSeconds(15)).until(() -> allFinal(ids));
            await().atMost(Duration.ofSeconds(5)).until(() -> count(registry, PgQueueMetrics.JOBS_COMPLETED, "images") == 4);

            assertThat(count(registry, PgQueueMetrics.JOBS_COMPLETED, "images")).isEqualTo(4); // done x2, snooze, flaky
            assertThat(count(registry, PgQueueMetrics.JOBS_FAILED, "images")).isEqualTo(1);
            assertThat(count(registry, PgQueueMetrics.JOBS_CANCELLED, "images")).isEqualTo(1);
            assertThat(count(registry, PgQueueMetrics.JOBS_SNOOZED, "images")).isEqualTo(1);
            assertThat(count(registry, PgQueueMetrics.JOBS_RETRIED, "images")).isEqualTo(1);
            assertThat(count(registry, PgQueueMetrics.JOBS_RESCUED, "images")).isZero();

            Timer done = registry.find(PgQueueMetrics.JOB_EXECUTION).tag(PgQueueMetrics.TAG_QUEUE, "images")
                    .tag(PgQueueMetrics.TAG_OUTCOME, "done").timer();
            assertThat(done).isNotNull();
            assertThat(done.count()).isEqualTo(4);
            assertThat(registry.find(PgQueueMetrics.JOB_EXECUTION).tag(PgQueueMetrics.TAG_OUTCOME, "error").timer().count())
                    .isEqualTo(1);
            assertThat(registry.find(PgQueueMetrics.JOB_EXECUTION).tag(PgQueueMetrics.TAG_OUTCOME, "fail").timer().count())
                    .isEqualTo(1);
            assertThat(registry.find(PgQueueMetrics.JOB_EXECUTION).tag(PgQueueMetrics.TAG_OUTCOME, "snooze").timer().count())
                    .isEqualTo(1);
            // Eight attempts: six first runs, the snoozed one's and the flaky one's second.
            Timer pickup = registry.find(PgQueueMetrics.JOB_PICKUP_DELAY).tag(PgQueueMetrics.TAG_QUEUE, "images").timer();
            assertThat(pickup.count()).isEqualTo(8);
        }

        @Test
        void pickupDelay_isFromDueToClaim_byTheDatabaseClock() {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            UUID id = enqueue("late", "done").get(0);
            // Due an hour ago: the claim is an hour late at least.
            db.execute("UPDATE job_queue SET run_at = now() - interval '1 hour'");
            startWorker(registry, "late");

            await().atMost(Duration.ofSeconds(10)).until(() -> allFinal(List.of(id)));
            Timer pickup = registry.find(PgQueueMetrics.JOB_PICKUP_DELAY).tag(PgQueueMetrics.TAG_QUEUE, "late").timer();
            await().atMost(Duration.ofSeconds(5)).until(() -> pickup.count() == 1);
            assertThat(pickup.totalTime(TimeUnit.SECONDS)).isBetween(3_600.0, 3_660.0);
        }

        @Test
        void rescued_countsACrashedWorkersJob() {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            UUID id = enqueue("rescue", "done").get(0);
            // A worker that died holding the job: its lease ran out a minute ago.
            db.execute("UPDATE job_queue SET status = 'processing', attempt = 1, processed_at = now() - interval '2 minutes', "
                    + "lease_owner = 'dead-worker', lease_token = '00000000-0000-0000-0000-000000000001', "
                    + "lease_expires_at = now() - interval '1 minute'");
            startWorker(registry, "rescue");

            await().atMost(Duration.ofSeconds(10)).until(() -> count(registry, PgQueueMetrics.JOBS_RESCUED, "rescue") == 1);
            await().atMost(Duration.ofSeconds(10)).until(() -> allFinal(List.of(id)));
        }
    }

    @Nested
    class Gauges {

        @Test
        void sample_setsDepthPerStatus_andOldestPendingAge_perQueue() {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            enqueue("backlog", "done", "done", "done");
            enqueue("other", "done");
            db.execute("UPDATE job_queue SET run_at = now() - interval '10 minutes' WHERE queue = 'backlog'");
            PgQueueGauges gauges = PgQueueGauges.builder(JdbiJobAdmin.create(store), registry).build();

            gauges.sample();

            assertThat(depth(registry, "backlog", "pending")).isEqualTo(3);
            assertThat(depth(registry, "backlog", "processing")).isZero();
            assertThat(depth(registry, "other", "pending")).isEqualTo(1);
            double age = registry.find(PgQueueGauges.QUEUE_OLDEST_PENDING_AGE).tag(PgQueueGauges.TAG_QUEUE, "backlog")
                    .timeGauge().value(TimeUnit.SECONDS);
            assertThat(age).isBetween(600.0, 660.0);
            assertThat(registry.find(PgQueueGauges.QUEUE_PAUSED).tag(PgQueueGauges.TAG_QUEUE, "backlog").gauge().value())
                    .isZero();

            db.execute("DELETE FROM job_queue WHERE queue = 'other'");
            gauges.sample();

            assertThat(depth(registry, "other", "pending")).as("a queue gone from the table reads 0").isZero();
            assertThat(depth(registry, "backlog", "pending")).isEqualTo(3);
        }

        @Test
        void started_samplesAtItsInterval_untilClosed() {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            PgQueueGauges gauges = PgQueueGauges.builder(JdbiJobAdmin.create(store), registry)
                    .interval(Duration.ofMillis(100)).build();
            closing.add(gauges);
            gauges.start();

            enqueue("live", "done", "done");
            await().atMost(Duration.ofSeconds(5)).until(() -> depth(registry, "live", "pending") == 2);
            enqueue("live", "done");
            await().atMost(Duration.ofSeconds(5)).until(() -> depth(registry, "live", "pending") == 3);
        }

        private double depth(MeterRegistry registry, String queue, String status) {
            var gauge = registry.find(PgQueueGauges.QUEUE_DEPTH).tag(PgQueueGauges.TAG_QUEUE, queue)
                    .tag(PgQueueGauges.TAG_STATUS, status).gauge();
            return gauge == null ? -1 : gauge.value();
        }
    }

    @Test
    void prometheusScrape_showsEveryMeterByItsConventionalName() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        startWorker(registry, "default");
        List<UUID> ids = enqueue("default", "done", "fail", "flaky");
        await().atMost(Duration.ofSeconds(15)).until(() -> allFinal(ids));
        await().atMost(Duration.ofSeconds(5)).until(() -> count(registry, PgQueueMetrics.JOBS_COMPLETED, "default") == 2);
        enqueue("waiting", "done");
        PgQueueGauges gauges = PgQueueGauges.builder(JdbiJobAdmin.create(store), registry).build();
        gauges.sample();

        String scrape = registry.scrape();

        assertThat(scrape)
                .contains("pgqueue_jobs_completed_total{job_type=\"metered-task\",queue=\"default\"} 2.0")
                .contains("pgqueue_jobs_failed_total{job_type=\"metered-task\",queue=\"default\"} 1.0")
                .contains("pgqueue_jobs_retried_total{job_type=\"metered-task\",queue=\"default\"} 1.0")
                .contains("pgqueue_job_execution_seconds_count{job_type=\"metered-task\",outcome=\"done\",queue=\"default\"} 2")
                .contains("pgqueue_job_execution_seconds_count{job_type=\"metered-task\",outcome=\"error\",queue=\"default\"} 1")
                .contains("pgqueue_job_pickup_delay_seconds_count{job_type=\"metered-task\",queue=\"default\"} 4")
                .contains("pgqueue_queue_depth{queue=\"waiting\",status=\"pending\"} 1.0")
                .contains("pgqueue_queue_depth{queue=\"default\",status=\"completed\"} 2.0")
                .contains("pgqueue_queue_oldest_pending_age_seconds{queue=\"waiting\"}")
                .contains("pgqueue_queue_paused{queue=\"waiting\"} 0.0");
    }
}
