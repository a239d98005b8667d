package dev.pgqueue.micrometer;

import dev.pgqueue.Job;
import dev.pgqueue.JobInterceptor;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobStatus;
import dev.pgqueue.WorkerListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * A worker's meters: counters of job outcomes and timers of execution and pickup delay, in a
 * Micrometer {@link MeterRegistry}. One object is both the worker's listener (outcomes, as recorded
 * in the database) and its interceptor (timing each attempt on the handler's thread); hand it to the
 * worker as both:
 *
 * <pre>{@code
 * PgQueueMetrics metrics = new PgQueueMetrics(registry);
 * Worker worker = Worker.builder(store).listener(metrics).interceptor(metrics).handler(...).build();
 * }</pre>
 *
 * <p>Every meter is tagged {@value #TAG_QUEUE} and {@value #TAG_JOB_TYPE}:
 * <ul>
 *   <li>{@value #JOBS_COMPLETED}, {@value #JOBS_FAILED} (for good: permanently, or with no retries
 *       left), {@value #JOBS_RETRIED} (an attempt failed and the job will run again),
 *       {@value #JOBS_RESCUED} (this worker took back a crashed worker's job), {@value #JOBS_CANCELLED}
 *       and {@value #JOBS_SNOOZED}: counters;</li>
 *   <li>{@value #JOB_EXECUTION}: a timer of each attempt's handler run time, also tagged
 *       {@value #TAG_OUTCOME} ({@code done}, {@code snooze}, {@code fail}, {@code cancel}, or
 *       {@code error} when the handler threw);</li>
 *   <li>{@value #JOB_PICKUP_DELAY}: a timer of how long each attempt waited for a worker once due,
 *       from the job's {@code run_at} to its claim, both by the database's clock.</li>
 * </ul>
 * Queue depth and age are the database's to tell, not one worker's: see {@link PgQueueGauges}.
 *
 * <p>Names follow Micrometer's conventions (dot-separated, lowercase, base units); a Prometheus
 * registry shows them as {@code pgqueue_jobs_completed_total}, {@code pgqueue_job_execution_seconds_count}
 * and so on. Thread-safe; several workers may share one.
 */
public final class PgQueueMetrics implements WorkerListener, JobInterceptor {

    /** Counter of jobs that completed: {@value}. */
    public static final String JOBS_COMPLETED = "pgqueue.jobs.completed";
    /** Counter of jobs that failed for good: {@value}. */
    public static final String JOBS_FAILED = "pgqueue.jobs.failed";
    /** Counter of failed attempts whose job will run again: {@value}. */
    public static final String JOBS_RETRIED = "pgqueue.jobs.retried";
    /** Counter of jobs whose expired lease this worker's rescuer took back: {@value}. */
    public static final String JOBS_RESCUED = "pgqueue.jobs.rescued";
    /** Counter of jobs that ended cancelled while this worker ran them: {@value}. */
    public static final String JOBS_CANCELLED = "pgqueue.jobs.cancelled";
    /** Counter of snoozed attempts: {@value}. */
    public static final String JOBS_SNOOZED = "pgqueue.jobs.snoozed";
    /** Timer of each attempt's handler run time: {@value}. */
    public static final String JOB_EXECUTION = "pgqueue.job.execution";
    /** Timer of each attempt's wait from due to claimed: {@value}. */
    public static final String JOB_PICKUP_DELAY = "pgqueue.job.pickup.delay";
    /** The tag holding the queue's name: {@value}. */
    public static final String TAG_QUEUE = "queue";
    /** The tag holding the job type's name: {@value}. */
    public static final String TAG_JOB_TYPE = "job.type";
    /** The tag of {@value #JOB_EXECUTION} holding how the attempt ended: {@value}. */
    public static final String TAG_OUTCOME = "outcome";

    private final MeterRegistry registry;

    /**
     * Meters in {@code registry}.
     *
     * @param registry where the meters are registered; not null
     */
    public PgQueueMetrics(MeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
    }

    /**
     * Times the attempt ({@value #JOB_EXECUTION}) and records its pickup delay ({@value #JOB_PICKUP_DELAY}).
     *
     * @param invocation the attempt
     * @return what the handler returned
     * @throws Exception what the handler threw
     */
    @Override
    public JobOutcome intercept(Invocation invocation) throws Exception {
        Job<?> job = invocation.job();
        Instant claimedAt = invocation.claimedAt();
        if (claimedAt != null && job.runAt() != null) {
            Duration delay = Duration.between(job.runAt(), claimedAt);
            timer(JOB_PICKUP_DELAY, "How long jobs waited for a worker once due (run_at to claim)", job)
                    .record(delay.isNegative() ? Duration.ZERO : delay);
        }
        long start = System.nanoTime();
        String outcome = "error";
        try {
            JobOutcome result = invocation.proceed();
            outcome = outcomeName(result);
            return result;
        } finally {
            Timer.builder(JOB_EXECUTION)
                    .description("How long job handlers ran, per attempt")
                    .tag(TAG_QUEUE, job.queue())
                    .tag(TAG_JOB_TYPE, job.type())
                    .tag(TAG_OUTCOME, outcome)
                    .register(registry)
                    .record(Duration.ofNanos(System.nanoTime() - start));
        }
    }

    @Override
    public void jobCompleted(Job<?> job, Duration runTime) {
        counter(JOBS_COMPLETED, "Jobs completed", job.queue(), job.type()).increment();
    }

    @Override
    public void jobRetried(Job<?> job, String error, Duration delay) {
        counter(JOBS_RETRIED, "Failed attempts whose job will run again", job.queue(), job.type()).increment();
    }

    @Override
    public void jobFailed(Job<?> job, String error) {
        counter(JOBS_FAILED, "Jobs failed for good", job.queue(), job.type()).increment();
    }

    @Override
    public void jobSnoozed(Job<?> job, Duration delay) {
        counter(JOBS_SNOOZED, "Attempts snoozed", job.queue(), job.type()).increment();
    }

    @Override
    public void jobCancelled(Job<?> job, String reason) {
        counter(JOBS_CANCELLED, "Jobs cancelled while running", job.queue(), job.type()).increment();
    }

    @Override
    public void jobRescued(UUID jobId, String type, String queue, JobStatus status) {
        counter(JOBS_RESCUED, "Jobs taken back from a worker whose lease expired", queue, type).increment();
    }

    private Counter counter(String name, String description, String queue, String type) {
        return Counter.builder(name).description(description).tag(TAG_QUEUE, queue).tag(TAG_JOB_TYPE, type)
                .register(registry);
    }

    private Timer timer(String name, String description, Job<?> job) {
        return Timer.builder(name).description(description).tag(TAG_QUEUE, job.queue()).tag(TAG_JOB_TYPE, job.type())
                .register(registry);
    }

    private static String outcomeName(JobOutcome outcome) {
        if (outcome instanceof JobOutcome.Done) {
            return "done";
        } else if (outcome instanceof JobOutcome.Snooze) {
            return "snooze";
        } else if (outcome instanceof JobOutcome.FailPermanently) {
            return "fail";
        } else if (outcome instanceof JobOutcome.Cancel) {
            return "cancel";
        }
        return "unknown";
    }

    @Override
    public String toString() {
        return "PgQueueMetrics[" + registry.getClass().getSimpleName() + "]";
    }
}
