package dev.pgqueue.internal;

import java.util.Collection;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The jobs this worker holds a lease on, from claim until their outcome is recorded or the lease is
 * given up: running, waiting for a slot, or finished but not yet recorded. The {@link Dispatcher}
 * adds each claimed job and the {@link Completer} releases it; the {@link Heartbeat} renews what is
 * here, the {@link ProgressWriter} writes its progress, and cancellation and shutdown act on it. Its
 * own class so that none of those needs the dispatcher to find the jobs.
 */
final class Leases {

    private static final Logger log = LoggerFactory.getLogger(Leases.class);

    private final Map<UUID, RunningJob> held = new ConcurrentHashMap<>();
    private final Events events;

    /** @param events told once about each lease this worker loses */
    Leases(Events events) {
        this.events = events;
    }

    /** Holds {@code run}'s lease; returns the attempt of the same job held before, if any. */
    RunningJob hold(RunningJob run) {
        return held.put(run.jobId(), run);
    }

    /** The job's outcome is recorded (or rejected): the lease is no longer ours. */
    void release(RunningJob run) {
        held.remove(run.jobId(), run);
    }

    /** The job this worker holds a lease on under {@code jobId}, or null. */
    RunningJob get(UUID jobId) {
        return held.get(jobId);
    }

    /** Every job held, as a live view. */
    Collection<RunningJob> all() {
        return held.values();
    }

    /** The database says a producer asked to cancel {@code jobId} (never call this on a mere notification). */
    void cancelRequested(UUID jobId) {
        RunningJob run = held.get(jobId);
        if (run != null && !run.isFinished() && run.stop(RunningJob.StopReason.CANCELLED)) {
            try (JobMdc mdc = JobMdc.of(run)) {
                log.info("job {} was cancelled by a producer; interrupting its handler", run.name());
            }
        }
    }

    /** The store says this worker's lease on {@code run} is gone: stop the handler, report once. */
    void lost(RunningJob run) {
        run.markLeaseLost();
        reportLost(run);
    }

    /** Tells the listener that {@code run}'s lease is lost, the first time only. */
    void reportLost(RunningJob run) {
        if (run.markLeaseLossReported()) {
            events.leaseLost(run);
        }
    }

    /** Asks every unfinished job to stop: running handlers are interrupted, waiting ones will not start. */
    void stopAll(RunningJob.StopReason reason) {
        held.values().stream().filter(run -> !run.isFinished()).forEach(run -> run.stop(reason));
    }
}
