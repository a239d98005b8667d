package dev.pgqueue;

/**
 * Runs jobs of one {@link JobType}. A worker calls {@link #handle} on one of its threads, once per
 * claimed job; many calls run at once, so implementations must be thread-safe.
 *
 * <p>Delivery is at-least-once: a job whose worker crashed, or whose lease ran out, runs again.
 * Make handlers idempotent, or complete the job in the same database transaction as your writes
 * (see the transactional handlers of the storage module).
 *
 * <ul>
 *   <li>Return an outcome ({@link JobOutcome#done()} in the usual case) to end the attempt.</li>
 *   <li>Throw anything (checked, unchecked, even an {@link Error}) to fail the attempt: the job is
 *       retried at the time its {@link RetryPolicy} gives, or {@code failed} once {@code max_retries}
 *       is used up. The exception's message becomes the job's {@code error_message}. The worker
 *       keeps running either way.</li>
 *   <li>Respond to interruption and to {@link JobContext#shouldStop()}: the worker interrupts the
 *       handler's thread on cancellation, timeout and shutdown.</li>
 * </ul>
 *
 * @param <P> the payload class
 */
@FunctionalInterface
public interface JobHandler<P> {

    /**
     * Runs one attempt of {@code job}.
     *
     * @param job the claimed job, its payload mapped to the type's class
     * @param context this attempt's id, attempt number, cancellation and progress reporting
     * @return how the job ends
     * @throws Exception to fail the attempt; it is retried per the job type's retry policy
     */
    JobOutcome handle(Job<P> job, JobContext context) throws Exception;
}
