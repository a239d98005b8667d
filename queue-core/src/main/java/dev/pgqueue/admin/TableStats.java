package dev.pgqueue.admin;

import java.time.Duration;
import java.time.Instant;

/**
 * The job table's health, from {@link JobAdmin#tableStats()}.
 *
 * @param liveRows             live rows (the statistics' estimate)
 * @param deadRows             dead row versions waiting for vacuum
 * @param lastVacuum           when it was last vacuumed (by hand or autovacuum), or null
 * @param oldestTransaction    the session holding the oldest snapshot (pid, application, state), or null
 * @param oldestTransactionAge how old that snapshot is, or null
 */
public record TableStats(long liveRows, long deadRows, Instant lastVacuum, String oldestTransaction,
        Duration oldestTransactionAge) {}
