package dev.pgqueue.spi;

import dev.pgqueue.JobContext;
import dev.pgqueue.JobOutcome;
import java.util.Optional;

/**
 * The running attempt behind a worker's {@link JobContext}, for storage modules whose handlers
 * record their job's outcome themselves, in the same transaction as their own writes (the JDBI
 * module's transactional handlers). <b>May change in any minor release.</b>
 *
 * <p>Protocol: build the store-level outcome with {@link #finishFor(JobOutcome)}, apply it with the
 * store bound to your transaction ({@link JobStore#jobFinishMany}, fenced by the attempt's lease
 * token), call {@link #committing()}, commit, then call {@link #recorded(JobStore.FinishedJob)} so that
 * the worker neither records it again nor forgets to report it. If your transaction rolls back,
 * throw: the worker then records the attempt as failed as for any handler that throws.
 */
public interface Attempt {

    /**
     * The store-level outcome of this attempt for {@code outcome}, fenced by its lease token. It
     * carries the result as JSON ({@link JobOutcome#done(Object)}) and the handler's last progress
     * report if that is not written yet, so that both commit with the outcome.
     *
     * @param outcome what the handler returns
     * @return the store operation that records it under this attempt's lease
     * @throws dev.pgqueue.PayloadException if the outcome's result cannot be written as JSON; let it
     *     roll your transaction back, and the attempt counts as failed
     */
    JobStore.Finish finishFor(JobOutcome outcome);

    /**
     * The clock instant to pass as {@code now} to the store, or null for the database's clock.
     *
     * @return the instant, or null
     */
    java.time.Instant now();

    /**
     * Tells the worker that the transaction recording this attempt's outcome is about to commit: from
     * now until the handler returns, a heartbeat that finds the job no longer processing under this
     * lease sees the outcome being committed, not a lost lease.
     */
    void committing();

    /**
     * Tells the worker that the handler recorded {@code finished} itself, in a committed transaction.
     *
     * @param finished the outcome as the store recorded it
     */
    void recorded(JobStore.FinishedJob finished);

    /**
     * The attempt behind {@code context}, if it comes from a pgqueue worker.
     *
     * @param context the handler's context
     * @return the attempt, or empty for a context made elsewhere (a test's, say)
     */
    static Optional<Attempt> of(JobContext context) {
        return context instanceof Attempt attempt ? Optional.of(attempt) : Optional.empty();
    }
}
