package dev.pgqueue.jdbi.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.Job;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.RetryPolicy;
import dev.pgqueue.StoreException;
import dev.pgqueue.ValidationException;
import dev.pgqueue.Worker;
import dev.pgqueue.WorkerListener;
import dev.pgqueue.spi.JobStore;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Faults found in review: each test reproduces one and fails without its fix. */
@PostgresTest
class WorkerResilienceTest extends WorkerFixture {

    record Task(int n) {}

    static final JobType<Task> TASK = JobType.of("task", Task.class).withRetryPolicy(RetryPolicy.noBackoff());


    WorkerResilienceTest(TestDatabase db) {
        super(db);
    }

    private Map<String, Object> row(UUID id) {
        return db.queryForList("SELECT * FROM job_queue WHERE id = ?", id).get(0);
    }

    private void awaitStatus(UUID id, String status) {
        await().atMost(Duration.ofSeconds(20)).until(() -> status.equals(row(id).get("status")));
    }

    @Test
    void jobReclaimedWhileItsOlderAttemptStillRunsHere_keepsTheNewAttemptsLeaseAlive() {
        CountDownLatch releaseFirst = new CountDownLatch(1);
        List<Boolean> firstSawLeaseLost = new CopyOnWriteArrayList<>();
        AtomicInteger secondAttempts = new AtomicInteger();
        worker = Worker.builder(store)
                .pollInterval(Duration.ofMillis(100))
                .leaseDuration(Duration.ofSeconds(2)) // ten beats: a loaded machine may delay a few
                .heartbeatInterval(Duration.ofMillis(200))
                .rescueInterval(Duration.ofMillis(200))
                .handler(TASK, (job, context) -> {
                    if (job.attempt() == 1) {
                        while (releaseFirst.getCount() > 0) {
                            Thread.onSpinWait();
                        }
                        firstSawLeaseLost.add(context.isLeaseLost());
                        return JobOutcome.done();
                    }
                    secondAttempts.incrementAndGet();
                    Thread.sleep(2500); // longer than the lease: only the heartbeat keeps it
                    return JobOutcome.done();
                })
                .build();
        worker.start();
        UUID id = queue.enqueue(TASK, new Task(1));
        await().atMost(Duration.ofSeconds(5)).until(() -> "processing".equals(row(id).get("status")));

        // Another worker rescued the job (as after a long stall of this one); this worker claims it again.
        db.execute("UPDATE job_queue SET status = 'pending', retry_count = retry_count + 1 WHERE id = ?", id);
        await().atMost(Duration.ofSeconds(5)).until(() -> secondAttempts.get() == 1);
        releaseFirst.countDown(); // the stale attempt ends now; its outcome must be fenced out

        awaitStatus(id, "completed");
        assertThat(row(id)).containsEntry("attempt", 2).containsEntry("retry_count", 1);
        assertThat(firstSawLeaseLost).containsExactly(true);
        assertThat(secondAttempts).hasValue(1);
    }

    @Test
    void handlerThrowingAnExceptionWhoseMessageThrows_stillEndsItsJob() {
        worker = Worker.builder(store).pollInterval(Duration.ofMillis(100)).handler(TASK, (job, context) -> {
            throw new IllegalStateException() {
                @Override
                public String getMessage() {
                    throw new UnsupportedOperationException("no message for you");
                }

                @Override
                public String toString() {
                    throw new UnsupportedOperationException("no string for you");
                }
            };
        }).build();
        worker.start();
        UUID id = queue.enqueue(TASK, new Task(1), EnqueueOptions.defaults().maxRetries(0));
        awaitStatus(id, "failed");
        assertThat((String) row(id).get("error_message")).contains("<getMessage() threw java.lang.UnsupportedOperationException>");
    }

    @Test
    void exceptionWithACauseCycle_isDescribedOnce_andEndsItsJob() {
        worker = Worker.builder(store).pollInterval(Duration.ofMillis(100)).handler(TASK, (job, context) -> {
            RuntimeException a = new RuntimeException("a");
            RuntimeException b = new RuntimeException("b", a);
            a.initCause(b);
            throw a;
        }).build();
        worker.start();
        UUID id = queue.enqueue(TASK, new Task(1), EnqueueOptions.defaults().maxRetries(0));
        awaitStatus(id, "failed");
        assertThat((String) row(id).get("error_message")).startsWith("java.lang.RuntimeException: a\nCaused by: java.lang.RuntimeException: b\n\tat");
    }

    @Test
    void errorMessageWithANulCharacter_isStored_andDoesNotBlockOtherOutcomes() {
        worker = Worker.builder(store).pollInterval(Duration.ofMillis(100)).handler(TASK, (job, context) -> {
            if (job.payload().n() == 0) {
                throw new IllegalStateException("bad byte \u0000 in the input");
            }
            return JobOutcome.done();
        }).build();
        UUID bad = queue.enqueue(TASK, new Task(0), EnqueueOptions.defaults().maxRetries(0));
        List<UUID> good = queue.enqueueAll(TASK, IntStream.range(1, 50).mapToObj(Task::new).toList(), EnqueueOptions.defaults());
        worker.start();
        awaitStatus(bad, "failed");
        assertThat((String) row(bad).get("error_message")).startsWith("java.lang.IllegalStateException: bad byte \\u0000 in the input");
        good.forEach(id -> awaitStatus(id, "completed"));
    }

    @Test
    void outcomeTheDatabaseRejects_failsThatJobOnly_andOthersAreStillRecorded() {
        UUID poisoned = queue.enqueue(TASK, new Task(0));
        JobStore rejectingOne = RejectingStore.of(store, poisoned);
        worker = Worker.builder(rejectingOne).pollInterval(Duration.ofMillis(100))
                .handler(TASK, (job, context) -> JobOutcome.done()).build();
        List<UUID> others = queue.enqueueAll(TASK, IntStream.range(1, 100).mapToObj(Task::new).toList(), EnqueueOptions.defaults());
        worker.start();
        others.forEach(id -> awaitStatus(id, "completed"));
        awaitStatus(poisoned, "failed");
        assertThat((String) row(poisoned).get("error_message")).startsWith("pgqueue could not record this job's outcome (COMPLETE)");
    }

    @Test
    void delaysBeyondWhatTheDatabaseCanStore_areRejectedOrCut() {
        assertThatThrownBy(() -> JobOutcome.snooze(ChronoUnit.FOREVER.getDuration()))
                .isInstanceOf(ValidationException.class)
                .hasMessageStartingWith("expected snooze delay to be between PT0S and PT8760000H, got: PT");
        assertThatThrownBy(() -> RetryPolicy.fixed(ChronoUnit.MILLENNIA.getDuration().multipliedBy(10)))
                .isInstanceOf(ValidationException.class);

        RetryPolicy absurd = retry -> ChronoUnit.FOREVER.getDuration();
        worker = Worker.builder(store).pollInterval(Duration.ofMillis(100)).retryPolicy(absurd)
                .handler(JobType.of("task", Task.class), (job, context) -> {
                    throw new IllegalStateException("again");
                }).build();
        worker.start();
        UUID id = queue.enqueue(TASK, new Task(1));
        await().atMost(Duration.ofSeconds(10)).until(() -> ((Integer) row(id).get("retry_count")) == 1);
        assertThat(row(id)).containsEntry("status", "pending");
        assertThat(db.queryForLong("SELECT extract(year FROM run_at)::bigint FROM job_queue WHERE id = ?", id)).isGreaterThan(2900);
    }

    @Test
    void heartbeatsRacingCompletions_reportNoLeaseAsLost() {
        List<UUID> lost = new CopyOnWriteArrayList<>();
        worker = Worker.builder(store)
                .queue("default", 16)
                .heartbeatInterval(Duration.ofMillis(5)) // beat constantly, against the completer
                .handler(TASK, (job, context) -> JobOutcome.done())
                .listener(new WorkerListener() {
                    @Override
                    public void leaseLost(Job<?> job) {
                        lost.add(job.id());
                    }
                })
                .build();
        queue.enqueueAll(TASK, IntStream.range(0, 5000).mapToObj(Task::new).toList(), EnqueueOptions.defaults());
        worker.start();
        await().atMost(Duration.ofSeconds(60)).until(() ->
                db.queryForLong("SELECT count(*) FROM job_queue WHERE status <> 'completed'") == 0);
        assertThat(lost).isEmpty();
        assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE attempt <> 1")).isZero();
    }

    @Test
    void malformedNotification_isSkipped_andTheListenerKeepsListening() {
        Map<String, Integer> heard = new ConcurrentHashMap<>();
        List<String> listening = new CopyOnWriteArrayList<>();
        try (JobStore.Subscription ignored = store.subscribe(new JobStore.StoreListener() {
            @Override
            public void jobsAvailable(String queueName) {
                heard.merge(queueName, 1, Integer::sum);
            }

            @Override
            public void cancelRequested(UUID jobId) {}

            @Override
            public void reconnected() {
                listening.add("yes");
            }
        })) {
            await().atMost(Duration.ofSeconds(10)).until(() -> !listening.isEmpty());
            String channel = (String) db.queryForList("SELECT job_queue_channel() AS c").get(0).get("c");
            db.execute("SELECT pg_notify(?, 'cancel:not-a-uuid')", channel);
            db.execute("INSERT INTO job_queue (job_type, queue) VALUES ('task', 'after-garbage')");
            await().atMost(Duration.ofSeconds(5)).until(() -> heard.containsKey("after-garbage"));
            assertThat(listening).hasSize(1);
        }
    }

    /** A store whose database rejects, as a bad value would, every outcome of one job. */
    private static final class RejectingStore {
        static JobStore of(JobStore delegate, UUID poisoned) {
            return (JobStore) java.lang.reflect.Proxy.newProxyInstance(
                    JobStore.class.getClassLoader(), new Class<?>[] {JobStore.class}, (proxy, method, args) -> {
                        if (method.getName().equals("jobFinishMany")
                                && ((JobStore.FinishParams) args[0]).finishes().stream().anyMatch(
                                        f -> f.id().equals(poisoned) && f.kind() == JobStore.FinishKind.COMPLETE)) {
                            throw new StoreException("could not record job outcomes [22003]: value out of range", null, false);
                        }
                        try {
                            return method.invoke(delegate, args);
                        } catch (java.lang.reflect.InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
        }
    }
}
