package dev.pgqueue.jdbi.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.Job;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.Worker;
import dev.pgqueue.WorkerListener;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

/**
 * What the worker logs about a job, on whichever of its threads (the completer records outcomes,
 * the rescuer takes jobs back), carries the job's id and type in the MDC, as the handler's own lines
 * do: seen here from the listener, which is called where those lines are written.
 */
class JobLoggingTest extends WorkerFixture {

    record Task(int n) {}

    static final JobType<Task> TASK = JobType.of("task", Task.class);

    private final List<Map<String, String>> seen = new CopyOnWriteArrayList<>();

    JobLoggingTest(TestDatabase db) {
        super(db);
    }

    private void see(String event, UUID id, String type) {
        seen.add(Map.of("event", event, "expected", id + "/" + type,
                "mdc", MDC.get(Worker.MDC_JOB_ID) + "/" + MDC.get(Worker.MDC_JOB_TYPE),
                "thread", Thread.currentThread().getName()));
    }

    @Test
    void outcomeAndRescueLines_carryTheJobsIdAndTypeInTheMdc_offTheHandlerThread() throws Exception {
        WorkerListener listener = new WorkerListener() {
            @Override
            public void jobCompleted(Job<?> job, Duration runTime) {
                see("completed", job.id(), job.type());
            }

            @Override
            public void jobRetried(Job<?> job, String errorMessage, Duration delay) {
                see("retried", job.id(), job.type());
            }

            @Override
            public void jobRescued(UUID jobId, String type, dev.pgqueue.JobStatus status) {
                see("rescued", jobId, type);
            }
        };
        start(Worker.builder(store).listener(listener).rescueInterval(Duration.ofMillis(200))
                .handler(TASK, (job, context) -> {
                    if (job.payload().n() == 2 && job.attempt() == 1) {
                        throw new IllegalStateException("first try fails");
                    }
                    return JobOutcome.done();
                }));
        queue.enqueue(TASK, new Task(1));
        queue.enqueue(TASK, new Task(2));
        // A job another (dead) worker held, whose lease has expired: the rescuer takes it back.
        db.execute("INSERT INTO job_queue (job_type, payload, status, attempt, lease_owner, lease_token, lease_expires_at, processed_at)"
                + " VALUES ('task', '{\"n\": 3}', 'processing', 1, 'dead', gen_random_uuid(), now() - interval '1 second', now())");

        await().atMost(Duration.ofSeconds(10)).until(() ->
                seen.stream().filter(e -> e.get("event").equals("completed")).count() >= 2
                        && seen.stream().anyMatch(e -> e.get("event").equals("rescued"))
                        && seen.stream().anyMatch(e -> e.get("event").equals("retried")));

        assertThat(seen).allSatisfy(e -> assertThat(e.get("mdc")).as("MDC at %s", e).isEqualTo(e.get("expected")));
        assertThat(seen).filteredOn(e -> !e.get("event").equals("rescued"))
                .allSatisfy(e -> assertThat(e.get("thread")).startsWith("pgqueue-completer"));
    }
}
