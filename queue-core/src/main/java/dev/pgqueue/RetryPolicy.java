package dev.pgqueue;

import dev.pgqueue.internal.Check;
import dev.pgqueue.internal.RetryPolicies;
import java.time.Duration;

/**
 * Decides <em>when</em> a failed job runs again; never <em>whether</em>. Whether is the job's
 * {@code max_retries} (retries after the first run: its type's {@link JobType#withMaxRetries(int)},
 * or the enqueue's {@link EnqueueOptions#maxRetries(int)}): once that many attempts have failed, the
 * job is {@code failed} and this policy is not asked.
 *
 * <p>The default is {@link #DEFAULT}: exponential backoff with full jitter, capped. Set a policy per
 * job type with {@link JobType#withRetryPolicy(RetryPolicy)} or for a whole worker with its builder.
 * Implementations must be thread-safe and must not block; a policy that throws or returns a negative
 * or null delay is treated as a bug and the job is retried with the default policy's delay instead;
 * a delay longer than the database can store (about 1,000 years) is cut to that.
 */
@FunctionalInterface
public interface RetryPolicy {

    /** Exponential backoff with full jitter: retry n waits a random time in [0, min(1 h, 2 s · 2^(n-1))]. */
    RetryPolicy DEFAULT = exponential(Duration.ofSeconds(2), Duration.ofHours(1));

    /**
     * How long to wait before retry number {@code retry}.
     *
     * @param retry 1 for the first retry (the job has failed once), 2 for the second, and so on
     * @return a delay of zero or more; the retry is due that long after the failure is recorded
     */
    Duration delayBeforeRetry(int retry);

    /**
     * Exponential backoff with "full jitter": retry n waits a uniformly random time between zero and
     * {@code min(cap, base · 2^(n-1))}, so that jobs failing together do not retry together.
     *
     * @param base the first retry's upper bound; positive
     * @param cap the most any retry waits; at least {@code base}
     * @return the policy
     */
    static RetryPolicy exponential(Duration base, Duration cap) {
        Check.positive("base", base);
        Check.positive("cap", cap);
        Check.delay("cap", cap);
        return new RetryPolicies.ExponentialBackoff(base, cap);
    }

    /**
     * Every retry waits the same {@code delay}.
     *
     * @param delay the wait before every retry; zero or positive
     * @return the policy
     */
    static RetryPolicy fixed(Duration delay) {
        return new RetryPolicies.FixedDelay(Check.delay("delay", delay));
    }

    /**
     * No backoff: every retry is due at once. To have no retries at all, declare the type
     * {@code withMaxRetries(0)} or enqueue with {@code maxRetries(0)} instead; a retry policy only
     * decides when.
     *
     * @return the policy
     */
    static RetryPolicy noBackoff() {
        return RetryPolicies.FixedDelay.NONE;
    }
}
