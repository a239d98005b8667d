package dev.pgqueue.admin;

import java.time.Instant;

/**
 * A recurring schedule as the live workers run it, from {@link JobAdmin#recurring()}.
 *
 * @param name     the schedule's name
 * @param type     the job type it enqueues
 * @param queue    the queue it enqueues into
 * @param schedule the schedule as written (a cron expression or an interval)
 * @param lastTick when it last enqueued a job, or null if never
 * @param nextTick when it will next enqueue one, or null if no live worker runs it
 */
public record RecurringInfo(String name, String type, String queue, String schedule, Instant lastTick,
        Instant nextTick) {}
