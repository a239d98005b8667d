package dev.pgqueue;

import java.util.UUID;

/**
 * A payload could not be turned into JSON (at enqueue) or back into the job type's payload class
 * (when a worker runs the job). At enqueue nothing is written; in a worker the job ends {@code failed}
 * with this message, without retries, because the same bytes will not map any better next time.
 */
public final class PayloadException extends PgQueueException {

    /**
     * A payload or result that does not map, with the mapper's exception as {@code cause}.
     *
     * @param message which job or type, and what did not map
     * @param cause the Jackson exception
     */
    public PayloadException(String message, Throwable cause) {
        super(message, cause);
    }

    static String describeJob(String jobType, UUID jobId) {
        return jobId == null ? "job type " + jobType : "job " + jobType + "/" + jobId;
    }
}
