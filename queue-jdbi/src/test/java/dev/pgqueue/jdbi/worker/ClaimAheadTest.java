package dev.pgqueue.jdbi.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.Worker;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Claim-ahead: a worker whose handlers are fast claims more jobs than it has free slots, yet never
 * runs more of a queue's jobs at once than its concurrency; slow handlers get no claim-ahead; and
 * closing hands back the jobs that waited for a slot without counting an attempt.
 *
 * <p>Jobs taken by one claim share their {@code processed_at} (the claim statement's timestamp), so
 * the largest group of equal {@code processed_at} is the largest claim.
 */
@PostgresTest
class ClaimAheadTest extends WorkerFixture {

    record Task(int n) {}

    static final JobType<Task> TASK = JobType.of("task", Task.class);


    ClaimAheadTest(TestDatabase db) {
        super(db);
    }

    @Test
    void fastHandlers_areClaimedManyPerRoundTrip_butNeverRunBeyondTheConcurrency() {
        queue.enqueueAll(TASK, IntStream.range(0, 5000).mapToObj(Task::new).toList(), EnqueueOptions.defaults());
        AtomicInteger running = new AtomicInteger();
        AtomicInteger mostAtOnce = new AtomicInteger();
        Map<UUID, Integer> runs = new ConcurrentHashMap<>();
        // An executor with no bound of its own (as a virtual-thread one): the worker alone must keep
        // the queue within its concurrency, claimed-ahead jobs included.
        ExecutorService unbounded = Executors.newCachedThreadPool();
        try (Worker worker = Worker.builder(store)
                .queue("default", 3)
                .executor(unbounded)
                .handler(TASK, (job, context) -> {
                    mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
                    runs.merge(job.id(), 1, Integer::sum);
                    running.decrementAndGet();
                    return JobOutcome.done();
                })
                .build()) {
            worker.start();
            await().atMost(Duration.ofSeconds(60)).until(() ->
                    db.queryForLong("SELECT count(*) FROM job_queue WHERE status <> 'completed'") == 0);
        } finally {
            unbounded.shutdown();
        }

        assertThat(runs).hasSize(5000);
        assertThat(runs.values()).allMatch(count -> count == 1);
        assertThat(mostAtOnce.get()).as("jobs of the queue running at once").isLessThanOrEqualTo(3);
        assertThat(largestClaim()).as("the largest claim, with 3 slots").isGreaterThan(3);
    }

    /**
     * Slow is relative to a claim's round trip: four round trips' work may wait for a slot (see
     * Dispatcher.aheadJobs), so 150 ms handlers got a job ahead whenever claims took 19 ms (a loaded
     * CI machine). At 1.5 s a claim would have to take 190 ms.
     */
    @Test
    void slowHandlers_areClaimedOnlyForFreeSlots() {
        queue.enqueueAll(TASK, IntStream.range(0, 6).mapToObj(Task::new).toList(), EnqueueOptions.defaults());
        try (Worker worker = Worker.builder(store)
                .queue("default", 2)
                .handler(TASK, (job, context) -> {
                    Thread.sleep(1500);
                    return JobOutcome.done();
                })
                .build()) {
            worker.start();
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    db.queryForLong("SELECT count(*) FROM job_queue WHERE status <> 'completed'") == 0);
        }

        assertThat(largestClaim()).as("the largest claim, with 2 slots and 1.5 s jobs").isLessThanOrEqualTo(2);
    }

    /**
     * Handlers a little slower than the claim-ahead time (30 ms against 20 ms, 4 slots) still get
     * 20 ms x 4 / 30 ms = 2 jobs claimed ahead: a freed slot finds its next job waiting instead of
     * waiting for a claim (the allowance used to be 20 / 30 = 0 times 4).
     */
    @Test
    void handlersSlowerThanTheClaimAheadTime_stillGetJobsClaimedAhead() {
        queue.enqueueAll(TASK, IntStream.range(0, 40).mapToObj(Task::new).toList(), EnqueueOptions.defaults());
        AtomicInteger mostHeld = new AtomicInteger();
        try (Worker worker = Worker.builder(store)
                .queue("default", 4)
                .claimAhead(Duration.ofMillis(20))
                .handler(TASK, (job, context) -> {
                    Thread.sleep(30);
                    return JobOutcome.done();
                })
                .build()) {
            worker.start();
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(1)).until(() -> {
                mostHeld.accumulateAndGet(worker.runningJobs(), Math::max); // running or waiting for a slot
                return db.queryForLong("SELECT count(*) FROM job_queue WHERE status <> 'completed'") == 0;
            });
        }

        assertThat(mostHeld.get()).as("jobs the worker held at once, with 4 slots").isGreaterThan(4);
    }

    @Test
    void close_handsBackClaimedAheadJobs_withoutCountingAnAttempt() throws Exception {
        CountDownLatch blockerStarted = new CountDownLatch(1);
        CountDownLatch releaseBlocker = new CountDownLatch(1);
        AtomicInteger warmUpsDone = new AtomicInteger();
        Worker worker = Worker.builder(store)
                .queue("default", 1)
                // The allowance is the claim-ahead time over the handlers' average run time: at 5 s, one
                // warm-up stalled for 2.5 s (a loaded CI machine) made it fewer than the 20 jobs below.
                // At 5 minutes only a stall of minutes would.
                .leaseDuration(Duration.ofMinutes(10))
                .claimAhead(Duration.ofMinutes(5))
                .shutdownTimeout(Duration.ofSeconds(30))
                .handler(TASK, (job, context) -> {
                    if (job.payload().n() < 0) {
                        blockerStarted.countDown();
                        releaseBlocker.await();
                    } else if (job.payload().n() >= 1000) {
                        warmUpsDone.incrementAndGet();
                    }
                    return JobOutcome.done();
                })
                .build();
        CompletableFuture<Void> closing = null;
        try {
            worker.start();
            // Quick jobs first, so that the worker knows its handlers are fast and claims ahead.
            queue.enqueueAll(TASK, IntStream.range(1000, 1020).mapToObj(Task::new).toList(), EnqueueOptions.defaults());
            await().atMost(Duration.ofSeconds(30)).until(() -> warmUpsDone.get() == 20);

            UUID blocker = queue.enqueue(TASK, new Task(-1), EnqueueOptions.defaults().priority(-1));
            queue.enqueueAll(TASK, IntStream.range(0, 20).mapToObj(Task::new).toList(), EnqueueOptions.defaults());
            assertThat(blockerStarted.await(30, TimeUnit.SECONDS)).isTrue();
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    db.queryForLong("SELECT count(*) FROM job_queue WHERE status = 'processing' AND id <> ?", blocker) == 20);

            closing = CompletableFuture.runAsync(worker::close);
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    db.queryForLong("SELECT count(*) FROM job_queue WHERE status = 'pending' AND attempt = 0") == 20);
            assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE status = 'processing' AND id = ?", blocker))
                    .as("the running job keeps its lease").isEqualTo(1);
            assertThat(closing).as("close waits for the running job").isNotDone();
        } finally {
            releaseBlocker.countDown();
            if (closing != null) {
                closing.get(60, TimeUnit.SECONDS);
            }
            worker.close();
        }
        assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE status = 'completed' AND priority = -1 AND attempt = 1"))
                .as("the running job finished").isEqualTo(1);
        assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE status = 'pending' AND attempt = 0"))
                .as("claimed-ahead jobs handed back, unattempted").isEqualTo(20);
    }

    private long largestClaim() {
        return db.queryForLong("SELECT max(n) FROM (SELECT count(*) AS n FROM job_queue GROUP BY processed_at) c");
    }
}
