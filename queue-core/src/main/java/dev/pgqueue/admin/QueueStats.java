package dev.pgqueue.admin;

import dev.pgqueue.JobStatus;
import java.time.Duration;
import java.util.Map;

/**
 * One queue's numbers, from {@link JobAdmin#queueStats()}.
 *
 * @param queue             the queue's name
 * @param paused            whether {@link JobAdmin#pause} paused it
 * @param counts            jobs per status (every status present, zero where none)
 * @param oldestPendingAge  how long the oldest due pending job has been due, or {@link Duration#ZERO}
 * @param completedLast1m   jobs completed in the last minute
 * @param completedLast5m   jobs completed in the last 5 minutes
 * @param completedLast15m  jobs completed in the last 15 minutes
 * @param failedLast1m      jobs failed for good in the last minute
 * @param failedLast5m      jobs failed for good in the last 5 minutes
 * @param failedLast15m     jobs failed for good in the last 15 minutes
 */
public record QueueStats(
        String queue,
        boolean paused,
        Map<JobStatus, Long> counts,
        Duration oldestPendingAge,
        long completedLast1m,
        long completedLast5m,
        long completedLast15m,
        long failedLast1m,
        long failedLast5m,
        long failedLast15m) {

    /**
     * @param queue            the queue's name
     * @param paused           whether it is paused
     * @param counts           jobs per status
     * @param oldestPendingAge age of the oldest due pending job
     * @param completedLast1m  completed in the last minute
     * @param completedLast5m  completed in the last 5 minutes
     * @param completedLast15m completed in the last 15 minutes
     * @param failedLast1m     failed in the last minute
     * @param failedLast5m     failed in the last 5 minutes
     * @param failedLast15m    failed in the last 15 minutes
     */
    public QueueStats {
        counts = Map.copyOf(counts);
    }

    /** {@return the jobs {@code processing} now} */
    public long running() {
        return counts.getOrDefault(JobStatus.PROCESSING, 0L);
    }
}
