package dev.pgqueue.admin;

import dev.pgqueue.JobSnapshot;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Day-two operations on a queue's jobs, queues and workers: find and count jobs, retry, cancel,
 * delete, run now or re-prioritise them (one job or every job a filter matches), triage failures,
 * read queue statistics, pause and resume queues, list live workers and recurring schedules. Needs
 * no running worker: any JVM with access to the database can use it.
 *
 * <p>Thread-safe. Every bulk operation works in bounded batches, each its own short transaction, so
 * it never holds a long lock and never blocks workers; it returns how many jobs it changed. A
 * filter's values are bound as parameters, never interpolated into SQL. Jobs that are
 * {@code processing} are only ever touched by {@link #cancel}, which asks their handler to stop.
 * Every operation also exists as a SQL function or view (see {@code docs/admin.md}), so
 * {@code psql} users and other languages get the same.
 */
public interface JobAdmin {

    /**
     * One page of the jobs {@code filter} matches, in the page's order, with a cursor for the next.
     *
     * @param filter which jobs
     * @param page   how many, in which order, after which cursor
     * @return the page; its {@link JobPage#next()} is empty on the last page
     */
    JobPage find(JobFilter filter, Page page);

    /**
     * How many jobs {@code filter} matches, exactly. On a table of millions this reads every matching
     * row (every row, without a status filter); to show a number on a page, {@link #countUpTo} stops
     * early.
     *
     * @param filter which jobs
     * @return the count
     */
    long count(JobFilter filter);

    /**
     * How many jobs {@code filter} matches, counting no further than {@code limit}: the exact count if
     * it is at most {@code limit}, else {@code limit} marked {@link JobCount.Accuracy#AT_LEAST} (shown
     * as "10,000+"). It stops reading once it has found more than {@code limit} matches, so it costs at
     * most that many matches (plus the rows it reads that do not match).
     *
     * @param filter which jobs
     * @param limit  where to stop counting, at least 1
     * @return the exact count or the lower bound
     */
    JobCount countUpTo(JobFilter filter, long limit);

    /**
     * One job with what an operator needs to understand it: its row, its attempt history, the jobs it
     * waits for and the jobs waiting for it, and its trace context.
     *
     * @param id the job's id
     * @return the job, or empty if there is none with that id
     */
    Optional<JobDetail> job(UUID id);

    /**
     * Makes the failed and cancelled jobs {@code filter} matches pending and due now, keeping their
     * attempt history, and wakes the workers serving their queues. A workflow job retried this way
     * releases again the dependents its failure cancelled, once it completes.
     *
     * @param filter which jobs (jobs in other states are left alone)
     * @return how many jobs were made pending
     */
    long retry(JobFilter filter);

    /**
     * Retries one failed or cancelled job with a new payload, validated by the job type's payload
     * class when the admin was built with that job type (otherwise it must be a JSON object); the old
     * payload and the edit are recorded in the job's attempt history.
     *
     * @param id          the job's id
     * @param payloadJson the new payload, a JSON object
     * @param reason      why it was edited, recorded with the edit; may be null
     * @return the job after the retry
     * @throws dev.pgqueue.ValidationException if the job is not failed or cancelled, or the payload is
     *                                         not valid
     */
    JobSnapshot retryWithPayload(UUID id, String payloadJson, String reason);

    /**
     * Cancels the jobs {@code filter} matches: waiting and pending jobs at once; running jobs by asking
     * their handler to stop (the worker ends them cancelled).
     *
     * @param filter which jobs
     * @return how many jobs were cancelled or asked to stop
     */
    long cancel(JobFilter filter);

    /**
     * Deletes the jobs {@code filter} matches that are not {@code processing}.
     *
     * @param filter which jobs
     * @return how many were deleted
     */
    long delete(JobFilter filter);

    /**
     * Makes the pending jobs {@code filter} matches due now.
     *
     * @param filter which jobs
     * @return how many were changed
     */
    long runNow(JobFilter filter);

    /**
     * Sets the priority of the waiting and pending jobs {@code filter} matches.
     *
     * @param filter   which jobs
     * @param priority the new priority (lower runs first), within the bounds enqueue accepts
     * @return how many were changed
     */
    long changePriority(JobFilter filter, int priority);

    /**
     * The failed jobs {@code filter} matches, grouped by job type and error (a dead-letter view),
     * largest group first.
     *
     * @param filter which jobs (its status is ignored: only failed jobs are grouped)
     * @param limit  most groups to return
     * @return the groups; each carries a filter that selects exactly its jobs, for {@link #retry}
     */
    List<FailureGroup> failureGroups(JobFilter filter, int limit);

    /**
     * Per queue: jobs per status, oldest pending age, running count, completed and failed in the last
     * 1, 5 and 15 minutes, and whether it is paused. Cheap enough to poll (the dashboard, gauges): the
     * waiting, pending and processing counts and the recent numbers are exact, read from indexes that
     * hold only those jobs; the totals of completed, failed and cancelled jobs are exact while counting
     * them is cheap and estimates beyond, each {@link JobCount} saying which.
     *
     * @return one entry per queue that has jobs or is paused, by name
     */
    List<QueueStats> queueStats();

    /**
     * Pauses a queue for every worker: within about a second, no worker claims from it; its jobs stay
     * pending, enqueue keeps working, running jobs finish.
     *
     * @param queue the queue's name
     */
    void pause(String queue);

    /**
     * Resumes a paused queue for every worker and wakes them.
     *
     * @param queue the queue's name
     */
    void resume(String queue);

    /**
     * The workers registered as alive: id, host, pid, queues and concurrency, version, start, last
     * heartbeat, running count.
     *
     * @return the live workers, newest first
     */
    List<WorkerInfo> workers();

    /**
     * The recurring schedules the live workers run, with their last and next tick.
     *
     * @return the schedules, by name
     */
    List<RecurringInfo> recurring();

    /**
     * The job table's health as the worker's table-health check sees it: live and dead rows, last
     * vacuum, and the oldest transaction holding back vacuum.
     *
     * @return the table's health
     */
    TableStats tableStats();
}
