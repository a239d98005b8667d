package dev.pgqueue.chaos;

import dev.pgqueue.JobType;
import dev.pgqueue.RetryPolicy;
import java.time.Duration;

/**
 * The chaos run's one job type. Each job says what its handler does: {@code kind} is one of
 * {@link Kind}, {@code millis} how long it works, {@code failTimes} how many failed attempts a flaky
 * job needs before it succeeds, {@code snoozes} how often a snoozer snoozes before it completes.
 */
public record ChaosJob(String kind, int seq, long millis, int failTimes, int snoozes) {

    public static final JobType<ChaosJob> TYPE = JobType.of("chaos", ChaosJob.class)
            .withRetryPolicy(RetryPolicy.fixed(Duration.ofMillis(100)));

    /** Retries of the jobs that must complete: far more than kills can use up. */
    public static final int MAX_RETRIES = 40;
    /** Retries of the jobs that must fail. */
    public static final int DOOMED_MAX_RETRIES = 2;
    public static final Duration SNOOZE = Duration.ofMillis(150);

    public enum Kind {
        /** Works a few milliseconds and completes. */
        FAST,
        /** Works over a second, ignoring interrupts, and completes: what a paused worker holds. */
        SLOW,
        /** Throws until it has failed {@code failTimes} times, then completes. */
        FLAKY,
        /** Always throws: ends failed after {@link #DOOMED_MAX_RETRIES} retries. */
        DOOMED,
        /** Snoozes {@code snoozes} times, then completes. */
        SNOOZER;

        public static Kind of(ChaosJob job) {
            return valueOf(job.kind());
        }
    }
}
