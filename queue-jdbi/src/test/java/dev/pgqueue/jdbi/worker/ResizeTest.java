package dev.pgqueue.jdbi.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.ValidationException;
import dev.pgqueue.Worker;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * {@code Worker.resize(queue, n)} while the worker claims and runs jobs: growing runs more at once
 * at once, shrinking never runs more than the new number once the jobs running at the time have
 * finished, and concurrent resizes from several threads leave a consistent worker.
 */
class ResizeTest extends WorkerFixture {

    record Task(int n) {}

    static final JobType<Task> TASK = JobType.of("task", Task.class);

    private final AtomicInteger running = new AtomicInteger();
    private final AtomicInteger peak = new AtomicInteger();

    ResizeTest(TestDatabase db) {
        super(db);
    }

    private Worker.Builder worker(int concurrency) {
        return Worker.builder(store)
                .queue("default", concurrency)
                .claimAhead(Duration.ZERO)
                .handler(TASK, (job, context) -> {
                    peak.accumulateAndGet(running.incrementAndGet(), Math::max);
                    try {
                        Thread.sleep(30);
                    } finally {
                        running.decrementAndGet();
                    }
                    return JobOutcome.done();
                });
    }

    private void enqueue(int jobs) {
        queue.enqueueAll(TASK, IntStream.range(0, jobs).mapToObj(Task::new).toList(), EnqueueOptions.defaults());
    }

    @Test
    void resize_up_runsMoreAtOnce_andDown_neverMoreThanTheNewNumber() throws Exception {
        enqueue(2_000);
        Worker w = start(worker(2));
        await().atMost(Duration.ofSeconds(10)).until(() -> peak.get() == 2);

        w.resize("default", 8);
        await().atMost(Duration.ofSeconds(10)).until(() -> peak.get() == 8);

        w.resize("default", 3);
        Thread.sleep(200); // the jobs running at the resize finish (30 ms each)
        peak.set(0);
        Thread.sleep(1_000);
        assertThat(peak.get()).as("most jobs at once after shrinking to 3").isEqualTo(3);
    }

    @Test
    void concurrentResizes_whileClaiming_leaveTheLastNumberInForce() throws Exception {
        enqueue(3_000);
        Worker w = start(worker(4));
        List<Thread> resizers = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread thread = new Thread(() -> {
                for (int i = 0; i < 50; i++) {
                    w.resize("default", ThreadLocalRandom.current().nextInt(1, 12));
                    try {
                        Thread.sleep(2);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            resizers.add(thread);
            thread.start();
        }
        for (Thread thread : resizers) {
            thread.join();
        }
        w.resize("default", 2);
        Thread.sleep(300);
        peak.set(0);
        Thread.sleep(1_000);

        assertThat(peak.get()).isEqualTo(2);
        w.resize("default", 10);
        await().atMost(Duration.ofSeconds(60)).until(() ->
                db.queryForLong("SELECT count(*) FROM job_queue WHERE status <> 'completed'") == 0);
    }

    @Test
    void resize_ofAQueueNotServed_orBelowOne_isRejected() {
        Worker w = start(worker(2));

        assertThatThrownBy(() -> w.resize("mail", 2)).isInstanceOf(ValidationException.class)
                .hasMessageContaining("queue to resize").hasMessageContaining("[default]");
        assertThatThrownBy(() -> w.resize("default", 0)).isInstanceOf(ValidationException.class)
                .hasMessageContaining("concurrency of queue default");
    }
}
