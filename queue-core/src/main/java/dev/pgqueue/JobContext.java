package dev.pgqueue;

import java.util.UUID;

/**
 * What a running handler can ask of, and tell, the worker about its job. One context per attempt;
 * it is safe to use from any thread while the handler runs and meaningless after it returns.
 *
 * <p>The worker keeps the job's lease alive by heartbeat while the handler runs. Long handlers should
 * check {@link #shouldStop()} between steps: it turns true when the job was cancelled by a producer,
 * when its lease was lost (another worker may already be running it), when the attempt timed out,
 * or when the worker is shutting down. The worker also interrupts the handler's thread in those cases.
 */
public interface JobContext {

    UUID jobId();

    /** Which run of the job this is, 1 on the first. */
    int attempt();

    /** Whether a producer asked to cancel this job while it runs. */
    boolean isCancellationRequested();

    /**
     * Whether this worker no longer holds the job's lease (it expired and the job was rescued, or it
     * was taken back). The attempt's outcome will be rejected; stop and return.
     */
    boolean isLeaseLost();

    /** Whether the handler should stop as soon as it can: cancelled, lease lost, timed out or shutting down. */
    boolean shouldStop();

    /**
     * Extends the job's lease now, in addition to the worker's regular heartbeat; for handlers that
     * are about to block for longer than usual.
     *
     * @throws LeaseLostException if the lease is already lost
     */
    void extendLease();
}
