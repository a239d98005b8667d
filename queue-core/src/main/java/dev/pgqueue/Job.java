package dev.pgqueue;

import java.time.Instant;
import java.util.UUID;

/**
 * A claimed job as its handler sees it: the typed payload and where the job stands.
 *
 * @param id          the job's id ({@code job_queue.id})
 * @param type        the job type's name
 * @param queue       the queue it was enqueued on
 * @param payload     the payload, mapped from JSON to the job type's payload class
 * @param attempt     which run this is: 1 on the first run (every claim counts)
 * @param retryCount  failed attempts before this one (the seed's {@code retry_count})
 * @param maxRetries  retries allowed after the first run; the job fails for good once
 *                    {@code retryCount} would exceed it
 * @param priority    lower runs first
 * @param runAt       when the job became due
 * @param createdAt   when it was enqueued
 * @param userId      the seed's {@code user_id}, or null when the job has none
 * @param <P>         the payload class
 */
public record Job<P>(
        UUID id,
        String type,
        String queue,
        P payload,
        int attempt,
        int retryCount,
        int maxRetries,
        int priority,
        Instant runAt,
        Instant createdAt,
        UUID userId) {

    /**
     * Whether a failure of this attempt would be the last one (no retries left).
     *
     * @return true if no retries are left after this attempt
     */
    public boolean isLastAttempt() {
        return retryCount >= maxRetries;
    }

    @Override
    public String toString() {
        return "Job[" + type + "/" + id + ", attempt " + attempt + "]";
    }
}
