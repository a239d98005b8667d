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
 * @param dedupeKey    the job's dedupe key, or null (see {@link EnqueueOptions#dedupeKey(String)})
 * @param resultJson   the result its handler completed it with (JSON text), or null
 * @param progress     the latest progress its handler reported, or null if none
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
        UUID userId,
        String dedupeKey,
        String resultJson,
        Progress progress) {

    /**
     * A handler's latest progress report ({@link JobContext#reportProgress}).
     *
     * @param percent    0 to 100
     * @param message    what the handler said, or null
     * @param reportedAt when it was written
     */
    public record Progress(int percent, String message, Instant reportedAt) {}
}
