package dev.pgqueue.internal;

import dev.pgqueue.JobStatus;
import dev.pgqueue.spi.JobStore.RescueParams;
import dev.pgqueue.spi.JobStore.RescuedJob;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Returns jobs whose lease expired (their worker crashed, froze or lost its connection) to the
 * queue, counting a failed attempt, or fails them when no retries are left. Any worker may rescue
 * any job: the store takes only rows whose lease is expired at the moment it locks them and skips
 * rows others hold, so many rescuers at once are safe.
 */
final class Rescuer {

    private static final Logger log = LoggerFactory.getLogger(Rescuer.class);
    static final int BATCH = 500;

    private final WorkerRuntime runtime;

    Rescuer(WorkerRuntime runtime) {
        this.runtime = runtime;
    }

    void rescue() {
        if (!runtime.heartbeat().healthy()) {
            // This worker cannot reach the database reliably right now; if it just came back, its own
            // heartbeat must renew its leases before it may judge anyone's (including its own) expired.
            return;
        }
        try {
            List<RescuedJob> rescued;
            do {
                rescued = runtime.config().store().jobRescue(new RescueParams(BATCH, runtime.config().now()));
                for (RescuedJob job : rescued) {
                    log.warn("rescued job {}/{} from worker {} whose lease expired during attempt {}; it is now {}",
                            job.type(), job.id(), LogText.of(job.previousOwner()), job.attempt(), job.status().sqlValue());
                    runtime.events().rescued(job.id(), job.type(), job.status());
                    if (job.status() == JobStatus.PENDING) {
                        runtime.fetcher().jobsAvailable(job.queue());
                    }
                }
            } while (rescued.size() == BATCH);
        } catch (Throwable e) {
            log.warn("worker {} could not rescue expired leases ({}); trying again in {}",
                    runtime.config().workerId(), LogText.of(e.getMessage()), runtime.config().rescueInterval());
        }
    }
}
