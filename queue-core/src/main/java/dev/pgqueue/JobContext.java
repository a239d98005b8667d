package dev.pgqueue;

import java.util.UUID;

/**
 * What a running handler can ask of, and tell, the worker about its job. One context per attempt;
 * it is safe to use from any thread while the handler runs and meaningless after it returns.
 *
 * <p>The worker keeps the job's lease alive by heartbeat while the handler runs. Long handlers should
 * check {@link #shouldStop()} between steps: it turns true when the job was cancelled by a producer,
 * when its lease was lost (another worker may already be running it), when the attempt timed out,
 * or as soon as the worker's {@code close()} begins. The worker also interrupts the handler's thread
 * in the first three cases, and at shutdown once the shutdown timeout has passed: a handler that
 * checks {@code shouldStop()} can hand its job back cleanly (return {@code JobOutcome.snooze(...)},
 * say) during the grace period.
 */
public interface JobContext {

    /** {@return the running job's id} */
    UUID jobId();

    /**
     * Which run of the job this is, 1 on the first.
     *
     * @return the attempt number, at least 1
     */
    int attempt();

    /**
     * Whether a producer asked to cancel this job while it runs.
     *
     * @return true once cancellation was requested
     */
    boolean isCancellationRequested();

    /**
     * Whether this worker no longer holds the job's lease (it expired and the job was rescued, or it
     * was taken back). The attempt's outcome will be rejected; stop and return.
     *
     * @return true once the lease is lost
     */
    boolean isLeaseLost();

    /**
     * Whether the handler should stop as soon as it can: cancelled, lease lost, timed out, or the worker
     * is shutting down (true from the moment {@code close()} begins, not only once the shutdown timeout
     * has passed).
     *
     * @return true when the handler should return
     */
    boolean shouldStop();

    /**
     * Extends the job's lease now, in addition to the worker's regular heartbeat; for handlers that
     * are about to block for longer than usual.
     *
     * @throws LeaseLostException if the lease is already lost
     */
    void extendLease();

    /**
     * Reports how far the job has got, for producers to read ({@link JobSnapshot#progress()}). Cheap
     * to call often: it only records the latest report in memory; the worker writes the latest one
     * of each job at most once per {@code progressInterval} (one statement for all its running
     * jobs), and the last one together with the job's outcome, so the final report is never lost.
     * Every write is fenced by the job's lease: after the lease is lost, nothing more is written.
     * A later attempt (a retry) starts from the previous attempt's last report until it reports.
     *
     * @param percent 0 to 100
     * @param message what is happening, or null; at most {@value #MAX_PROGRESS_MESSAGE_LENGTH}
     *                characters
     * @throws ValidationException if {@code percent} or {@code message} is out of range; nothing is
     *     recorded then
     */
    void reportProgress(int percent, String message);

    /** Longest progress message {@link #reportProgress} accepts. */
    int MAX_PROGRESS_MESSAGE_LENGTH = 1_000;
}
