package dev.pgqueue.admin;

import java.time.Duration;
import java.time.Instant;

/**
 * The job table's health, from {@link JobAdmin#tableStats()}: one reading of the statistics. One reading
 * cannot tell the dead rows of a busy queue, made since the last vacuum and removable, from dead rows
 * that vacuum could not remove: a queue at 16,000 jobs/s holds a million or more right after each
 * autovacuum, made while it ran. {@code Worker}'s table-health check compares readings over time and
 * reports the latter; this record only reports the numbers.
 *
 * @param liveRows             live rows (the statistics' estimate)
 * @param deadRows             dead row versions waiting for vacuum
 * @param insertedSinceVacuum  rows inserted since vacuum last ran on the table
 * @param lastVacuum           when it was last vacuumed (by hand or autovacuum), or null
 * @param oldestTransaction    the session holding the oldest snapshot (pid, application, state), or null
 * @param oldestTransactionAge how old that snapshot is, or null
 */
public record TableStats(long liveRows, long deadRows, long insertedSinceVacuum, Instant lastVacuum,
        String oldestTransaction, Duration oldestTransactionAge) {}
