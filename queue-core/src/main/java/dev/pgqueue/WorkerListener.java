package dev.pgqueue;

import java.time.Duration;
import java.util.UUID;

/**
 * Hears what a {@link Worker} does with jobs, for metrics and logging. Every method has an empty
 * default; override what you need. Outcome events fire once the outcome is recorded in the
 * database, so they report what really happened (a retry that turned out to be the last one is
 * {@link #jobFailed}).
 *
 * <p>Called on the worker's own threads: return quickly and do not block. An exception thrown
 * here is logged and otherwise ignored; it never affects the job. The {@code job}'s payload is null
 * when it could not be mapped to the job type's class.
 */
public interface WorkerListener {

    /**
     * A handler is about to run the job.
     *
     * @param job the job, its payload mapped (or null if it does not map)
     */
    default void jobStarted(Job<?> job) {}

    /**
     * The job completed; {@code runTime} is how long its handler ran.
     *
     * @param job the job
     * @param runTime how long the handler ran
     */
    default void jobCompleted(Job<?> job, Duration runTime) {}

    /**
     * The attempt failed and the job will run again after {@code delay}.
     *
     * @param job the job
     * @param error the error message recorded for the attempt
     * @param delay how long until it is due again
     */
    default void jobRetried(Job<?> job, String error, Duration delay) {}

    /**
     * The job failed for good: permanently, or with no retries left.
     *
     * @param job the job
     * @param error the error message recorded
     */
    default void jobFailed(Job<?> job, String error) {}

    /**
     * The handler snoozed the job for {@code delay}.
     *
     * @param job the job
     * @param delay how long until it is due again
     */
    default void jobSnoozed(Job<?> job, Duration delay) {}

    /**
     * The job ended cancelled.
     *
     * @param job the job
     * @param reason why, as recorded in {@code error_message}; may be null
     */
    default void jobCancelled(Job<?> job, String reason) {}

    /**
     * The worker lost the job's lease (it expired and the job was rescued elsewhere, or was
     * cancelled); whatever the attempt does now is not recorded.
     *
     * @param job the job whose lease was lost
     */
    default void leaseLost(Job<?> job) {}

    /**
     * This worker's rescuer took back a job whose lease had expired; it is now {@code status}.
     *
     * @param jobId the job's id
     * @param type the job type's name
     * @param status where the job went: {@code pending}, or {@code failed} with no retries left
     */
    default void jobRescued(UUID jobId, String type, JobStatus status) {}

    /**
     * This worker's rescuer took back a job whose lease had expired, from the queue {@code queue}; it
     * is now {@code status}. The worker calls this method, whose default calls
     * {@link #jobRescued(UUID, String, JobStatus)}: override either one.
     *
     * @param jobId the job's id
     * @param type the job type's name
     * @param queue the job's queue
     * @param status where the job went: {@code pending}, or {@code failed} with no retries left
     */
    default void jobRescued(UUID jobId, String type, String queue, JobStatus status) {
        jobRescued(jobId, type, status);
    }

    /**
     * The job table's dead rows are not being cleaned up: a transaction elsewhere (or a replication
     * slot, or a prepared transaction) holds back the xmin horizon, so vacuum cannot remove them, and
     * claims slow down as they pile up. {@code report} says what was seen (and who holds the horizon,
     * when the database lets this role see it). Reported once per episode; also logged as a warning.
     *
     * @param report a human-readable description of what was seen
     */
    default void tableUnhealthy(String report) {}
}
