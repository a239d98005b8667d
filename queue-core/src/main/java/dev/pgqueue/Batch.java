package dev.pgqueue;

import java.util.List;
import java.util.UUID;

/**
 * What {@link JobQueue#enqueueBatch} enqueued: the batch's jobs and its callback, the job that runs
 * once all of them have completed (fan-out, fan-in).
 *
 * @param jobIds     the batch's jobs, in the order of their payloads
 * @param callbackId the callback job; it is {@code waiting} until every job of the batch has completed
 */
public record Batch(List<UUID> jobIds, UUID callbackId) {

    /**
     * Copies the job ids.
     *
     * @param jobIds the batch's jobs, in the order of their payloads
     * @param callbackId the callback job
     */
    public Batch {
        jobIds = List.copyOf(jobIds);
        java.util.Objects.requireNonNull(callbackId, "callbackId");
    }
}
