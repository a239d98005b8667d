package dev.pgqueue.dashboard;

import static org.awaitility.Awaitility.await;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobStatus;
import dev.pgqueue.JobType;
import dev.pgqueue.Worker;
import dev.pgqueue.admin.JobFilter;
import dev.pgqueue.jdbi.JdbiJobAdmin;
import dev.pgqueue.jdbi.JdbiJobQueue;
import dev.pgqueue.jdbi.JdbiJobStore;
import dev.pgqueue.jdbi.SchemaMigrator;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.util.EnumSet;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jdbi.v3.core.Jdbi;

/**
 * A test schema with jobs in every state, made by a real {@link Worker} running real handlers:
 * completed e-mails, failed image resizes (whose error holds markup), a resize that runs until the
 * test ends, a job waiting for it, a workflow whose first job failed and whose two later steps were
 * cancelled for it, a pending job due
 * in an hour and one whose payload holds markup.
 */
final class Seed implements AutoCloseable {

    record Msg(String text) {}

    static final String HOSTILE = "<script>window.pwned=1</script><img src=x onerror=\"window.pwned=2\">";
    static final JobType<Msg> EMAIL = JobType.of("send-email", Msg.class);
    static final JobType<Msg> RESIZE = JobType.of("resize-image", Msg.class).withMaxRetries(0);
    static final JobType<Msg> SLOW = JobType.of("render-video", Msg.class);
    static final JobType<Msg> PUBLISH = JobType.of("publish", Msg.class);

    final JdbiJobStore store;
    final JdbiJobQueue queue;
    final JdbiJobAdmin admin;
    final Worker worker;
    /** Until set, every resize fails with {@link #HOSTILE} in its error. */
    final AtomicBoolean resizeFixed = new AtomicBoolean();
    private final CountDownLatch release = new CountDownLatch(1);

    UUID slowJob;
    UUID waitingJob;
    UUID failedJob;
    UUID cancelledStep;
    UUID hostilePayloadJob;
    UUID pendingJob;

    private Seed(TestDatabase db) {
        Jdbi jdbi = Jdbi.create(db.dataSource());
        SchemaMigrator.of(jdbi, db.schema()).migrate();
        // A test class's schema is shared by its tests: each seed starts from an empty table.
        jdbi.useHandle(h -> h.execute("TRUNCATE " + db.schema() + ".job_queue CASCADE"));
        store = JdbiJobStore.builder(jdbi).schema(db.schema()).build();
        queue = JdbiJobQueue.create(store);
        admin = JdbiJobAdmin.create(store);
        worker = Worker.builder(store)
                .queue("emails", 4).queue("images", 4).queue("video", 1).queue(Worker.DEFAULT_QUEUE, 2)
                .pollInterval(Duration.ofMillis(200))
                .handler(EMAIL, (job, ctx) -> JobOutcome.done())
                .handler(RESIZE, (job, ctx) -> {
                    if (!resizeFixed.get()) {
                        throw new IllegalStateException("resize failed: " + HOSTILE);
                    }
                    return JobOutcome.done();
                })
                .handler(SLOW, (job, ctx) -> {
                    release.await();
                    return JobOutcome.done();
                })
                .handler(PUBLISH, (job, ctx) -> JobOutcome.done())
                .build();
    }

    /** The schema migrated, the worker started, and jobs in every state once they settle. */
    static Seed create(TestDatabase db) {
        Seed s = new Seed(db);
        s.worker.start();
        try {
            s.fill();
        } catch (RuntimeException | Error e) {
            s.close();
            throw e;
        }
        return s;
    }

    private void fill() {
        for (int i = 0; i < 5; i++) {
            queue.enqueue(EMAIL, new Msg("welcome " + i), EnqueueOptions.defaults().queue("emails"));
        }
        failedJob = queue.enqueue(RESIZE, new Msg("photo-0.png"), EnqueueOptions.defaults().queue("images"));
        for (int i = 1; i < 3; i++) {
            queue.enqueue(RESIZE, new Msg("photo-" + i + ".png"), EnqueueOptions.defaults().queue("images"));
        }
        cancelledStep = queue.enqueue(PUBLISH, new Msg("after photo-0"),
                EnqueueOptions.defaults().queue("images").dependsOn(failedJob));
        queue.enqueue(EMAIL, new Msg("photos published"), EnqueueOptions.defaults().queue("emails").dependsOn(cancelledStep));
        slowJob = queue.enqueue(SLOW, new Msg("long film"), EnqueueOptions.defaults().queue("video"));
        waitingJob = queue.enqueue(PUBLISH, new Msg("after the film"), EnqueueOptions.defaults().queue("video").dependsOn(slowJob));
        pendingJob = queue.enqueue(EMAIL, new Msg("next week's digest"),
                EnqueueOptions.defaults().queue("emails").delay(Duration.ofHours(1)));
        hostilePayloadJob = queue.enqueue(EMAIL, new Msg(HOSTILE), EnqueueOptions.defaults().queue("emails").delay(Duration.ofHours(1)));
        await().atMost(Duration.ofSeconds(30)).until(() -> status(failedJob) == JobStatus.FAILED
                && status(cancelledStep) == JobStatus.CANCELLED && status(slowJob) == JobStatus.PROCESSING
                && admin.count(JobFilter.builder().types(RESIZE.name()).statuses(JobStatus.FAILED).build()) == 3
                && admin.count(JobFilter.builder().types(EMAIL.name()).statuses(JobStatus.COMPLETED).build()) == 5
                && admin.count(JobFilter.builder().statuses(JobStatus.CANCELLED).build()) == 2);
        EnumSet<JobStatus> seen = EnumSet.noneOf(JobStatus.class);
        admin.queueStats().forEach(q -> q.counts().forEach((status, n) -> {
            if (n.value() > 0) {
                seen.add(status);
            }
        }));
        if (!seen.equals(EnumSet.allOf(JobStatus.class))) {
            throw new IllegalStateException("expected jobs in every state, got: " + seen);
        }
    }

    JobStatus status(UUID id) {
        return admin.job(id).map(d -> d.job().status()).orElseThrow();
    }

    JobSnapshot job(UUID id) {
        return admin.job(id).orElseThrow().job();
    }

    @Override
    public void close() {
        release.countDown();
        worker.close();
    }
}
