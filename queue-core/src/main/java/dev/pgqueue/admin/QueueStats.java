package dev.pgqueue.admin;

import dev.pgqueue.JobStatus;
import java.time.Duration;
import java.util.Map;

/**
 * One queue's numbers, from {@link JobAdmin#queueStats()}. The counts of the states an operator acts
 * on ({@code waiting}, {@code pending}, {@code processing}) and the recent completions and failures
 * are exact; the totals of the finished states ({@code completed}, {@code failed}, {@code cancelled})
 * are exact on a small table and may be {@linkplain JobCount.Accuracy#ESTIMATE estimates} on a large
 * one, each count saying which it is.
 *
 * @param queue             the queue's name
 * @param paused            whether {@link JobAdmin#pause} paused it
 * @param counts            jobs per status (every status present, an exact zero where none), each
 *                          with its accuracy
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
        Map<JobStatus, JobCount> counts,
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

    /**
     * The number of jobs in one status, whatever its accuracy ({@link #counts()} says which).
     *
     * @param status the status
     * @return the count's value, 0 if the map has none
     */
    public long count(JobStatus status) {
        JobCount count = counts.get(status);
        return count == null ? 0 : count.value();
    }

    /** {@return the jobs {@code processing} now (always exact)} */
    public long running() {
        return count(JobStatus.PROCESSING);
    }
}
