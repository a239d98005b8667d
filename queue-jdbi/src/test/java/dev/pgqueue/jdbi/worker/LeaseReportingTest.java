package dev.pgqueue.jdbi.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.Job;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.RetryPolicy;
import dev.pgqueue.Worker;
import dev.pgqueue.WorkerListener;
import dev.pgqueue.jdbi.JdbiJobQueue;
import dev.pgqueue.jdbi.JdbiJobStore;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import dev.pgqueue.StoreException;
import dev.pgqueue.spi.JobStore;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
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

    /**
     * The completer's statement commits, then the connection breaks before the reply arrives (a
     * server crash, a proxy cutting it): the completer tries again and finds its jobs no longer
     * processing. That is its own outcome, recorded once, not a lost lease.
     */
    @Test
    void outcomeCommittedWhoseReplyWasLost_isReportedAsRecorded_notAsALostLease() {
        JdbiJobStore real = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
        Set<UUID> repliesLost = ConcurrentHashMap.newKeySet();
        JobStore store = losingFirstReplies(real, repliesLost, id -> {});
        List<String> lost = new CopyOnWriteArrayList<>();
        List<String> completed = new CopyOnWriteArrayList<>();
        List<String> failed = new CopyOnWriteArrayList<>();
        List<String> retried = new CopyOnWriteArrayList<>();
        Worker worker = Worker.builder(store)
                .queue("default", 4)
                .pollInterval(Duration.ofMillis(100))
                .handler(NOOP, (job, context) -> switch (job.payload().n()) {
                    case 0 -> JobOutcome.done();
                    case 1 -> JobOutcome.failPermanently("no");
                    default -> throw new IllegalStateException("try again");
                })
                .listener(new WorkerListener() {
                    @Override
                    public void leaseLost(Job<?> job) {
                        lost.add(job.id() + "");
                    }

                    @Override
                    public void jobCompleted(Job<?> job, Duration runTime) {
                        completed.add(job.id() + "");
                    }

                    @Override
                    public void jobFailed(Job<?> job, String error) {
                        failed.add(job.id() + "");
                    }

                    @Override
                    public void jobRetried(Job<?> job, String error, Duration delay) {
                        retried.add(job.id() + "");
                    }
                })
                .build();
        JdbiJobQueue queue = JdbiJobQueue.create(real);
        UUID done = queue.enqueue(NOOP, new Noop(0));
        UUID failsPermanently = queue.enqueue(NOOP, new Noop(1));
        UUID retries = queue.enqueue(NOOP, new Noop(2), EnqueueOptions.defaults().maxRetries(3));
        worker.start();
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> completed.size() + failed.size() + retried.size() >= 3);
        } finally {
            worker.close();
        }
        assertThat(db.queryForList("SELECT status, attempt FROM job_queue WHERE id = ?", done).get(0))
                .containsEntry("status", "completed").containsEntry("attempt", 1);
        db.execute("DELETE FROM job_queue"); // the retried job would run again in the next test
        assertThat(repliesLost).contains(done, failsPermanently, retries);
        assertThat(lost).as("leases reported lost although each outcome was recorded").isEmpty();
        assertThat(completed).containsExactly(done.toString());
        assertThat(failed).containsExactly(failsPermanently.toString());
        assertThat(retried).contains(retries.toString());
    }

    /**
     * As above for a retry due at once: the completer's statement commits (the job is pending again),
     * its reply is lost, and the next attempt is claimed before the completer looks again. The job is
     * processing under another lease by then; the first attempt's outcome is still its own, recorded
     * once, not a lost lease.
     */
    @Test
    void retryCommittedWhoseReplyWasLost_nextAttemptAlreadyRunning_isReportedAsRetried_notAsALostLease() {
        JdbiJobStore real = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
        Set<UUID> repliesLost = ConcurrentHashMap.newKeySet();
        // The completer's second try waits until attempt 2 runs.
        JobStore store = losingFirstReplies(real, repliesLost, id -> await().atMost(Duration.ofSeconds(10)).until(() -> db.queryForLong(
                "SELECT count(*) FROM job_queue WHERE id = ? AND status = 'processing' AND attempt = 2", id) == 1));
        List<String> lost = new CopyOnWriteArrayList<>();
        List<String> retried = new CopyOnWriteArrayList<>();
        List<String> completed = new CopyOnWriteArrayList<>();
        AtomicInteger secondAttempts = new AtomicInteger();
        Worker worker = Worker.builder(store)
                .queue("default", 4)
                .pollInterval(Duration.ofMillis(100))
                .retryPolicy(RetryPolicy.noBackoff())
                .handler(NOOP, (job, context) -> {
                    if (job.attempt() == 1) {
                        throw new IllegalStateException("try again");
                    }
                    secondAttempts.incrementAndGet();
                    return JobOutcome.done();
                })
                .listener(new WorkerListener() {
                    @Override
                    public void leaseLost(Job<?> job) {
                        lost.add(job.id() + "");
                    }

                    @Override
                    public void jobRetried(Job<?> job, String error, Duration delay) {
                        retried.add(job.id() + "");
                    }

                    @Override
                    public void jobCompleted(Job<?> job, Duration runTime) {
                        completed.add(job.id() + "");
                    }
                })
                .build();
        UUID retries = JdbiJobQueue.create(real).enqueue(NOOP, new Noop(2), EnqueueOptions.defaults().maxRetries(3));
        worker.start();
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> completed.size() >= 1);
        } finally {
            worker.close();
        }
        Map<String, Object> row = db.queryForList("SELECT status, attempt, retry_count FROM job_queue WHERE id = ?", retries).get(0);
        db.execute("DELETE FROM job_queue");
        assertThat(row).containsEntry("status", "completed").containsEntry("attempt", 2).containsEntry("retry_count", 1);
        assertThat(secondAttempts).hasValue(1);
        assertThat(lost).as("the first attempt's lease reported lost although its retry was recorded").isEmpty();
        assertThat(retried).containsExactly(retries.toString());
        assertThat(completed).containsExactly(retries.toString());
    }

    /**
     * {@code real}, except that the first try to record each job's outcome commits and then fails as a
     * lost reply does (the connection broke before the answer came back); {@code beforeAgain} runs
     * before a job's outcome is recorded again.
     */
    private static JobStore losingFirstReplies(JdbiJobStore real, Set<UUID> repliesLost, Consumer<UUID> beforeAgain) {
        return (JobStore) Proxy.newProxyInstance(JobStore.class.getClassLoader(), new Class<?>[] {JobStore.class},
                (proxy, method, args) -> {
                    boolean finishing = method.getName().equals("jobFinishMany");
                    if (finishing) {
                        for (JobStore.Finish finish : ((JobStore.FinishParams) args[0]).finishes()) {
                            if (repliesLost.contains(finish.id())) {
                                beforeAgain.accept(finish.id());
                            }
                        }
                    }
                    Object result;
                    try {
                        result = method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                    if (finishing) {
                        boolean first = false;
                        for (JobStore.Finish finish : ((JobStore.FinishParams) args[0]).finishes()) {
                            first |= repliesLost.add(finish.id());
                        }
                        if (first) { // committed, but the caller never hears so
                            throw new StoreException("could not record job outcomes [08006]: An I/O error occurred while sending to the backend", null, true);
                        }
                    }
                    return result;
                });
    }
}
