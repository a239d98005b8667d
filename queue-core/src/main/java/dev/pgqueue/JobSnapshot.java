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

    /** The most characters of the error's first line that {@link #toString()} shows. */
    public static final int TO_STRING_ERROR_LENGTH = 120;

    /**
     * A short description for logs: id, type, queue, status, attempt and the first line of the latest
     * error, cut at {@value #TO_STRING_ERROR_LENGTH} characters; never the payload, the result or a
     * whole stack trace (read those from the components).
     *
     * @return for example {@code JobSnapshot[id=…, type=generate-image, queue=default, status=FAILED,
     *     attempt=4, error=java.lang.IllegalStateException: no image]}
     */
    @Override
    public String toString() {
        StringBuilder text = new StringBuilder("JobSnapshot[id=").append(id)
                .append(", type=").append(type)
                .append(", queue=").append(queue)
                .append(", status=").append(status)
                .append(", attempt=").append(attempt);
        if (errorMessage != null) {
            String firstLine = errorMessage.strip().lines().findFirst().orElse("").strip();
            if (firstLine.length() > TO_STRING_ERROR_LENGTH) {
                firstLine = firstLine.substring(0, TO_STRING_ERROR_LENGTH) + "…";
            } else if (errorMessage.strip().contains("\n")) {
                firstLine = firstLine + " …";
            }
            text.append(", error=").append(firstLine);
        }
        return text.append(']').toString();
    }

    /**
     * A handler's latest progress report ({@link JobContext#reportProgress}).
     *
     * @param percent    0 to 100
     * @param message    what the handler said, or null
     * @param reportedAt when it was written
     */
    public record Progress(int percent, String message, Instant reportedAt) {}
}
