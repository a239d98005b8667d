package dev.pgqueue.bench;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * PROTOTYPE storage for issue 18, not library code: one way to store a job queue so that claims and
 * completions leave (almost) nothing for vacuum. Plain SQL through JDBC, measured by
 * {@link StorageWorkloads} beside today's pgqueue. A prototype supports what a claim/complete cycle
 * needs (priority order, run_at, a lease token that fences completions, retry, rescue of expired
 * leases); it has none of pgqueue's other features. See docs/storage-design.md.
 *
 * <p>Thread safety: {@link #claim} is called by one thread at a time (the runner serializes it; across
 * processes an advisory lock per lane would); everything else from any thread, each on its own
 * connection.
 */
interface Prototype {

    /** A claimed job: its partition (segment), row id, lease token and payload's stamp. */
    record Claimed(short seg, long id, java.util.UUID token, long stamp) {}

    /** The system name, {@code proto-...}. */
    String name();

    /** {@code LIKE} patterns of the tables whose size and dead tuples the workloads watch. */
    List<String> tables();

    /** Creates the schema in an empty database. */
    void create(Connection c) throws SQLException;

    /** Enqueues {@code jobs} no-op jobs stamped {@code stamp}, due now, priority 0, in {@code c}'s transaction. */
    default void enqueue(Connection c, int jobs, long stamp) throws SQLException {
        enqueue(c, jobs, stamp, (short) 0, 0);
    }

    /**
     * Enqueues {@code jobs} no-op jobs stamped {@code stamp} with {@code priority} (lower runs first),
     * due {@code delaySeconds} from now, in {@code c}'s transaction.
     */
    void enqueue(Connection c, int jobs, long stamp, short priority, int delaySeconds) throws SQLException;

    /** Claims up to {@code limit} due jobs in priority order (autocommit); empty if none. */
    List<Claimed> claim(Connection c, int limit) throws SQLException;

    /**
     * Completes {@code jobs} (autocommit), fenced: a job whose lease was rescued or that is closed
     * already is not completed again. Returns how many were completed.
     */
    int complete(Connection c, List<Claimed> jobs) throws SQLException;

    /**
     * Fails {@code job}'s attempt and schedules the next one {@code delaySeconds} from now (0: due at
     * once), fenced as {@link #complete}; returns whether it was still this lease's to fail.
     */
    boolean retry(Connection c, Claimed job, int delaySeconds) throws SQLException;

    /** Rotation, truncation, promotion of due scheduled jobs, rescue: called about every {@link #MAINTENANCE_MILLIS}. */
    void maintain(Connection c) throws SQLException;

    /** Unfinished jobs (pending, scheduled or claimed and not closed): for tests and the end of a drain. */
    long unfinished(Connection c) throws SQLException;

    long MAINTENANCE_MILLIS = 250;
    /** Lease of a claim; a prototype rescues jobs whose lease expired without a closure. */
    int LEASE_SECONDS = 60;
    /** How long a TRUNCATE waits for its lock before giving up until the next maintenance round. */
    String LOCK_TIMEOUT = "50ms";
}
