package dev.pgqueue.admin;

import java.time.Instant;

/**
 * Failed jobs of one job type with the same error: a row of the dead-letter view
 * ({@link JobAdmin#failureGroups}).
 *
 * @param queue       the jobs' queue
 * @param type        the jobs' type
 * @param error       the error message they share (its first line, as grouped)
 * @param count       how many failed jobs the group holds
 * @param firstFailed the earliest failure in the group
 * @param lastFailed  the latest failure in the group
 * @param filter      a filter that selects exactly this group's jobs, for {@link JobAdmin#retry} or
 *                    {@link JobAdmin#delete}
 */
public record FailureGroup(String queue, String type, String error, long count, Instant firstFailed,
        Instant lastFailed, JobFilter filter) {}
