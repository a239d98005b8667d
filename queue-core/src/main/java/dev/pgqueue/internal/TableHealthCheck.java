package dev.pgqueue.internal;

import dev.pgqueue.spi.JobStore;
import dev.pgqueue.spi.JobStore.TableHealth;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches for the one thing that slowly kills a Postgres queue: dead rows that vacuum cannot remove
 * because a transaction elsewhere (an idle-in-transaction session, a long report, a forgotten
 * replication slot) holds back the xmin horizon. Every claimed, completed and pruned job leaves dead
 * rows and dead index entries behind; while they cannot be removed, claims walk over more of them
 * each time. Unhealthy when a visible session's snapshot is older than the check interval, or when
 * vacuum ran since the last check and left far more dead rows than live. What vacuum left is not
 * read directly: the dead rows counted now include those made since it ran, which a busy queue makes
 * by the million a minute, some of them while it ran (which may have begun before the previous
 * check). So a check counts as left behind only the dead rows beyond all those made since the check
 * before the previous one (a lower bound, for a vacuum shorter than a check interval), and between
 * vacuums the last one's verdict stands.
 * Reported (log warning and listener) once per episode, and again when it clears.
 */
final class TableHealthCheck {

    private static final Logger log = LoggerFactory.getLogger(TableHealthCheck.class);
    /** Dead rows left after a vacuum, per live row (plus a floor), that mean it could not clean up. */
    static final long DEAD_PER_LIVE = 10;
    static final long DEAD_FLOOR = 10_000;

    private final JobStore store;
    private final Events events;
    private final Duration interval;
    private Instant lastVacuumSeen;
    /** {@link TableHealth#deadRowsMade()} at the previous check; -1 before the first. */
    private long deadRowsMadeSeen = -1;
    /** {@link TableHealth#deadRowsMade()} at the check before the previous one; -1 before the second. */
    private long deadRowsMadeBefore = -1;
    /** The latest vacuum's verdict: at least this many dead rows it could not remove, if too many; else -1. */
    private long vacuumLeftAtLeast = -1;
    private boolean unhealthy;
    /** The problem found by the latest check, or null: what {@code Worker.health()} reports. */
    private volatile String problem;

    /**
     * @param store    reads the table's health
     * @param events   told when the table turns unhealthy
     * @param interval how often it checks: a transaction open longer than that is reported
     */
    TableHealthCheck(JobStore store, Events events, Duration interval) {
        this.store = store;
        this.events = events;
        this.interval = interval;
    }

    void check() {
        try {
            Optional<TableHealth> read = store.jobTableHealth();
            if (read.isEmpty()) {
                return;
            }
            TableHealth health = read.get();
            judgeVacuum(health);
            String problem = problem(health);
            this.problem = problem;
            lastVacuumSeen = health.lastVacuum();
            deadRowsMadeBefore = deadRowsMadeSeen;
            deadRowsMadeSeen = health.deadRowsMade();
            if (problem != null && !unhealthy) {
                unhealthy = true;
                log.warn("job table health: {}", problem);
                events.tableUnhealthy(problem);
            } else if (problem == null && unhealthy) {
                unhealthy = false;
                log.info("job table health: dead rows are being cleaned up again ({} dead, {} live)",
                        health.deadRows(), health.liveRows());
            }
        } catch (RuntimeException e) {
            log.debug("could not check the job table's health ({})", LogText.of(e.getMessage()));
        }
    }

    /** {@return the problem the latest check found, or null if none} */
    String problem() {
        return problem;
    }

    private String problem(TableHealth health) {
        String rows = String.format("%,d dead rows vs %,d live", health.deadRows(), health.liveRows());
        Duration age = health.oldestTransactionAge();
        if (age != null && age.compareTo(interval) > 0) {
            return "a transaction open for " + age.toSeconds() + " s (" + health.oldestTransaction()
                    + ") holds back vacuum of job_queue: " + rows + "; claims slow down as dead rows pile up until it ends";
        }
        if (vacuumLeftAtLeast >= 0) {
            return "vacuum ran at " + health.lastVacuum() + " but left at least " + String.format("%,d", vacuumLeftAtLeast)
                    + " dead rows in job_queue (now " + rows + "): something holds back the xmin horizon (a long"
                    + " transaction, a replication slot or a prepared transaction; this role cannot see which); claims"
                    + " slow down as dead rows pile up";
        }
        return null;
    }

    /**
     * When vacuum finished since the previous check, judges what it left: at least the dead rows counted
     * now less every dead row made since the check before the previous one (some were made while it ran,
     * or after). Too many against the live rows means it could not remove them. Between vacuums, and
     * when the statistics were reset meanwhile (the running count went back), the last verdict stands.
     */
    private void judgeVacuum(TableHealth health) {
        boolean vacuumed = health.lastVacuum() != null && lastVacuumSeen != null && health.lastVacuum().isAfter(lastVacuumSeen);
        long made = health.deadRowsMade() - deadRowsMadeBefore;
        boolean reset = health.deadRowsMade() < deadRowsMadeSeen || deadRowsMadeSeen < deadRowsMadeBefore;
        if (!vacuumed || deadRowsMadeBefore < 0 || reset) {
            return;
        }
        long leftAtLeast = health.deadRows() - made;
        vacuumLeftAtLeast = leftAtLeast > DEAD_FLOOR + DEAD_PER_LIVE * health.liveRows() ? leftAtLeast : -1;
    }
}
