package dev.pgqueue.spring;

import dev.pgqueue.Worker;
import java.util.Objects;
import org.springframework.boot.actuate.health.AbstractHealthIndicator;
import org.springframework.boot.actuate.health.Health;

/**
 * The actuator's view of the auto-configured worker's {@link Worker#health()}, under the name
 * {@code pgqueue}. pgqueue's DOWN (not running, or the database unreachable) is the actuator's DOWN;
 * its UP and DEGRADED are UP, with the details saying which:
 * <ul>
 *   <li>{@code state}: pgqueue's own reading, {@code UP}, {@code DEGRADED} or {@code DOWN};</li>
 *   <li>{@code reasons}: why it is not UP, one sentence each (LISTEN down, the table not vacuumed,
 *       handlers past their timeout, pending jobs no live worker serves);</li>
 *   <li>{@code lastClaim}, {@code databaseReachable}, {@code listening}, {@code jobsPastTimeout},
 *       {@code workerId}, {@code runningJobs}.</li>
 * </ul>
 * DEGRADED is not a status of its own because the actuator's default aggregation ranks a status it does
 * not know above DOWN: a degraded worker would then hide a DOWN data source. A DEGRADED worker still
 * runs jobs, so a readiness probe should not take the instance out of service for it; an operator finds
 * it in the details. Cheap: it reads what the worker's threads last saw, never the database.
 */
public final class WorkerHealthIndicator extends AbstractHealthIndicator {

    private final Worker worker;

    /**
     * An indicator for {@code worker}.
     *
     * @param worker the worker to report on
     */
    public WorkerHealthIndicator(Worker worker) {
        super("pgqueue worker health check failed");
        this.worker = Objects.requireNonNull(worker, "worker");
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        dev.pgqueue.Health health = worker.health();
        if (health.status() == dev.pgqueue.Health.Status.DOWN) {
            builder.down();
        } else {
            builder.up();
        }
        builder.withDetail("state", health.status().name())
                .withDetail("reasons", health.reasons())
                .withDetail("databaseReachable", health.databaseReachable())
                .withDetail("listening", health.listening())
                .withDetail("jobsPastTimeout", health.jobsPastTimeout())
                .withDetail("workerId", worker.workerId())
                .withDetail("runningJobs", worker.runningJobs());
        if (health.lastClaim() != null) {
            builder.withDetail("lastClaim", health.lastClaim().toString());
        }
    }
}
