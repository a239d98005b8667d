package dev.pgqueue.spring;

import dev.pgqueue.Worker;
import java.util.Objects;
import org.springframework.boot.actuate.health.AbstractHealthIndicator;
import org.springframework.boot.actuate.health.Health;

/**
 * The actuator's view of the auto-configured worker, under the name {@code pgqueue}: UP while the
 * worker runs (started and not closed), DOWN before it starts and once it is closing; the details
 * give its id and how many jobs it is running.
 *
 * <p>This reads what {@link Worker} exposes today ({@link Worker#isRunning()},
 * {@link Worker#runningJobs()}): it says whether the worker runs, not whether its claims reach the
 * database (Spring Boot's own {@code db} indicator checks the data source). When {@code Worker.health()}
 * is available (the last claim, the database, LISTEN, jobs past their lease), this indicator is where it
 * is mapped; docs/spring-boot.md, "Health and metrics".
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
        builder.withDetail("workerId", worker.workerId()).withDetail("runningJobs", worker.runningJobs());
        if (worker.isRunning()) {
            builder.up();
        } else {
            builder.down().withDetail("reason", "the worker is not running (not started yet, or shutting down)");
        }
    }
}
