package dev.pgqueue.jdbi;

import dev.pgqueue.Job;
import dev.pgqueue.JobContext;
import dev.pgqueue.JobOutcome;
import org.jdbi.v3.core.Handle;

/**
 * A {@link dev.pgqueue.JobHandler} whose database writes and its job's outcome commit in one
 * transaction: an exactly-once effect for writes to the job's database (not for e-mails or HTTP
 * calls, which still need idempotency keys). Register it through {@link JdbiJobStore#transactional}:
 *
 * <pre>{@code
 * Worker.builder(store)
 *       .handler(CHARGE, store.transactional((job, context, handle) -> {
 *           handle.execute("INSERT INTO ledger (job_id, amount) VALUES (?, ?)", job.id(), job.payload().amount());
 *           return JobOutcome.done();
 *       }))
 * }</pre>
 *
 * The transaction is opened on the store's {@code Jdbi} before the handler runs and committed after
 * the outcome is recorded in it, fenced by the job's lease. If the handler throws, the transaction
 * rolls back and the attempt counts as failed (retried per the job type's policy). If the lease was
 * lost meanwhile (the job was rescued and may run elsewhere), the outcome is rejected, the
 * transaction rolls back with a {@link dev.pgqueue.LeaseLostException}, and none of the handler's
 * writes are kept. Each running transactional handler holds one pooled connection.
 *
 * @param <P> the payload class
 */
@FunctionalInterface
public interface TransactionalJobHandler<P> {

    /**
     * Runs one attempt of {@code job} inside the transaction of {@code handle}, which commits together with the outcome.
     *
     * @param job the claimed job, its payload mapped
     * @param context this attempt's id, attempt number, cancellation and progress reporting
     * @param handle the open transaction; do not commit, roll back or close it
     * @return how the job ends
     * @throws Exception to fail the attempt and roll the transaction back
     */
    JobOutcome handle(Job<P> job, JobContext context, Handle handle) throws Exception;
}
