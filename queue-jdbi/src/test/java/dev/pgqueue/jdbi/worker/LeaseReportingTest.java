package dev.pgqueue.jdbi.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.Job;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.Worker;
import dev.pgqueue.WorkerListener;
import dev.pgqueue.jdbi.JdbiJobQueue;
import dev.pgqueue.jdbi.JdbiJobStore;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;

/**
 * A lease is reported lost only when it was: a heartbeat that runs while the completer records a
 * job's outcome finds that job no longer processing, which is its own outcome, not a rescue.
 */
@PostgresTest
class LeaseReportingTest {

    record Noop(int n) {}

    static final JobType<Noop> NOOP = JobType.of("noop", Noop.class);

    private final TestDatabase db;

    LeaseReportingTest(TestDatabase db) {
        this.db = db;
    }

    @Test
    void heartbeatsRacingTheCompleter_reportNoLostLease() {
        JdbiJobStore store = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
        List<String> lost = new CopyOnWriteArrayList<>();
        AtomicInteger completed = new AtomicInteger();
        Worker worker = Worker.builder(store)
                .queue("default", 16)
                .heartbeatInterval(Duration.ofMillis(2)) // beat all the time, to meet the completer often
                .leaseDuration(Duration.ofSeconds(30))
                .handler(NOOP, (job, context) -> JobOutcome.done())
                .listener(new WorkerListener() {
                    @Override
                    public void leaseLost(Job<?> job) {
                        lost.add(job.type() + "/" + job.id());
                    }

                    @Override
                    public void jobCompleted(Job<?> job, Duration runTime) {
                        completed.incrementAndGet();
                    }
                })
                .build();
        int jobs = 4_000;
        JdbiJobQueue.create(store).enqueueAll(NOOP, IntStream.range(0, jobs).mapToObj(Noop::new).toList(), EnqueueOptions.defaults());
        worker.start();
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> completed.get() == jobs);
        } finally {
            worker.close();
        }
        assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE status = 'completed' AND attempt = 1")).isEqualTo(jobs);
        assertThat(lost).as("leases reported lost although every job completed on its first attempt").isEmpty();
    }
}
