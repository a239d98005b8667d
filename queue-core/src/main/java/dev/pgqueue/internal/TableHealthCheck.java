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
 * each time. Unhealthy when a visible session's snapshot is older than the check interval,
 * or when vacuum ran since the last check and the table still holds far more dead rows than live.
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
            String problem = problem(health);
            this.problem = problem;
            lastVacuumSeen = health.lastVacuum();
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
        boolean vacuumedSinceLastCheck = health.lastVacuum() != null && lastVacuumSeen != null
                && health.lastVacuum().isAfter(lastVacuumSeen);
        // Once seen, it lasts until the dead rows are gone; between vacuums they pile up normally.
        if ((vacuumedSinceLastCheck || unhealthy) && health.deadRows() > DEAD_FLOOR + DEAD_PER_LIVE * health.liveRows()) {
            return "vacuum ran at " + health.lastVacuum() + " but job_queue still holds " + rows
                    + ": something holds back the xmin horizon (a long transaction, a replication slot or a prepared"
                    + " transaction; this role cannot see which); claims slow down as dead rows pile up";
        }
        return null;
    }
}
