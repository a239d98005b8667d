package dev.pgqueue.admin;

import java.time.Duration;
import java.time.Instant;

/**
 * The job table's health, from {@link JobAdmin#tableStats()}.
 *
 * @param liveRows             live rows (the statistics' estimate)
 * @param deadRows             dead row versions waiting for vacuum
 * @param insertedSinceVacuum  rows inserted since vacuum last ran on the table
 * @param lastVacuum           when it was last vacuumed (by hand or autovacuum), or null
 * @param oldestTransaction    the session holding the oldest snapshot (pid, application, state), or null
 * @param oldestTransactionAge how old that snapshot is, or null
 */
public record TableStats(long liveRows, long deadRows, long insertedSinceVacuum, Instant lastVacuum,
        String oldestTransaction, Duration oldestTransactionAge) {

    /** Dead rows a job may leave in its life: its claim, its completion and its pruning each leave one. */
    private static final long DEAD_PER_JOB = 3;
    /** Dead rows per live row that updates of running jobs (lease extensions, progress) may leave between vacuums. */
    private static final long DEAD_PER_LIVE = 10;
    private static final long DEAD_FLOOR = 10_000;

    /**
     * Whether dead rows pile up: more than the jobs inserted since vacuum last ran can have left, with
     * room for updates of live rows. A busy queue makes dead rows by the million between vacuums, all
     * of them by jobs inserted meanwhile; dead rows beyond that outlived a vacuum that could not remove
     * them: something holds back the xmin horizon. One reading cannot prove it (jobs inserted before the
     * last vacuum leave dead rows after it too); {@code Worker}'s table-health check compares two.
     *
     * @return true if the table holds more dead rows than its recent churn explains
     */
    public boolean deadRowsPileUp() {
        return deadRows > DEAD_FLOOR + DEAD_PER_LIVE * liveRows + DEAD_PER_JOB * insertedSinceVacuum;
    }
}
