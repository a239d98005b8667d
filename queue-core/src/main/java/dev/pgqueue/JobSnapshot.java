package dev.pgqueue;

import java.time.Instant;
import java.util.UUID;

/**
 * A job's row as it was when read: for producers and dashboards that want to know where a job
 * stands. Timestamps are null until the event happened.
 *
 * @param payloadJson  the payload as stored (JSON text)
 * @param processedAt  when the latest attempt started (the seed's {@code processed_at})
 * @param completedAt  when the job reached a final status (completed, failed or cancelled)
 * @param errorMessage the latest failure's message, if any
 * @param userId       the seed's {@code user_id}, or null
 */
public record JobSnapshot(
        UUID id,
        String type,
        String queue,
        JobStatus status,
        String payloadJson,
        int priority,
        int attempt,
        int retryCount,
        int maxRetries,
        Instant runAt,
        Instant createdAt,
        Instant processedAt,
        Instant completedAt,
        String errorMessage,
        UUID userId) {}
