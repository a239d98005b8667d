package dev.pgqueue;

import java.util.UUID;

/**
 * The worker no longer holds the lease on a job: it expired and the job was rescued, re-claimed or
 * finished elsewhere. Whatever this attempt does from now on is fenced out: its outcome is rejected
 * and its transactional writes roll back.
 */
public final class LeaseLostException extends PgQueueException {

    /** The job whose lease was lost. */
    private final UUID jobId;

    /**
     * The lease on a job of {@code jobType} was lost.
     *
     * @param jobType the job type's name
     * @param jobId the job's id
     */
    public LeaseLostException(String jobType, UUID jobId) {
        super("lost the lease on job " + jobType + "/" + jobId + "; its outcome will not be recorded");
        this.jobId = jobId;
    }

    /**
     * The lease on job {@code jobId} was lost.
     *
     * @param jobId the job's id
     */
    public LeaseLostException(UUID jobId) {
        super("lost the lease on job " + jobId + "; its outcome will not be recorded");
        this.jobId = jobId;
    }

    /** {@return the id of the job whose lease was lost} */
    public UUID jobId() {
        return jobId;
    }
}
