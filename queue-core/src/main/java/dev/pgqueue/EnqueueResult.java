package dev.pgqueue;

import java.util.UUID;

/**
 * What an enqueue with a dedupe key did: enqueued a new job, or found an existing one that holds the
 * key (see {@link Uniqueness}) and enqueued nothing.
 *
 * @param jobId     the new job's id, or the existing job's when {@code duplicate}
 * @param duplicate true if a job of the same type and dedupe key already existed and nothing was enqueued
 */
public record EnqueueResult(UUID jobId, boolean duplicate) {

    /**
     * Checks the id.
     *
     * @param jobId the job's id; not null
     * @param duplicate true if nothing was enqueued
     */
    public EnqueueResult {
        java.util.Objects.requireNonNull(jobId, "jobId");
    }

    /**
     * A new job was enqueued.
     *
     * @param jobId the new job's id
     * @return the result
     */
    public static EnqueueResult inserted(UUID jobId) {
        return new EnqueueResult(jobId, false);
    }

    /**
     * An existing job holds the key; nothing was enqueued.
     *
     * @param jobId the id of the job that holds the key
     * @return the result
     */
    public static EnqueueResult duplicateOf(UUID jobId) {
        return new EnqueueResult(jobId, true);
    }
}
