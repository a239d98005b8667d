package dev.pgqueue.internal;

import dev.pgqueue.JobStatus;
import dev.pgqueue.spi.JobStore;
import dev.pgqueue.spi.JobStore.RescueParams;
import dev.pgqueue.spi.JobStore.RescuedJob;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Returns jobs whose lease expired (their worker crashed, froze or lost its connection), or whose
 * worker the registry counts as dead (sooner: see {@code Presence}), to the queue, counting a failed attempt, or fails them when no retries are left. Any worker may rescue
 * any job: the store takes only rows whose lease is expired at the moment it locks them and skips
 * rows others hold, so many rescuers at once are safe.
 */
final class Rescuer {

    private static final Logger log = LoggerFactory.getLogger(Rescuer.class);
    static final int BATCH = 500;

    private final JobStore store;
    private final StoreNow now;
    private final Heartbeat heartbeat;
    private final Fetcher fetcher;
    private final Events events;
    private final Duration interval;
    private final String workerId;

    /**
     * @param store     rescues the jobs
     * @param now       "now" for the store (see {@link StoreNow})
     * @param heartbeat says whether this worker reaches the database: it rescues only while it does
     * @param fetcher   told that rescued jobs wait in their queue
     * @param events    told of each rescued job
     * @param interval  how often it rescues (for the log)
     * @param workerId  for the log
     */
    Rescuer(JobStore store, StoreNow now, Heartbeat heartbeat, Fetcher fetcher, Events events, Duration interval,
            String workerId) {
        this.store = store;
        this.now = now;
        this.heartbeat = heartbeat;
        this.fetcher = fetcher;
        this.events = events;
        this.interval = interval;
        this.workerId = workerId;
    }

    void rescue() {
        if (!heartbeat.healthy()) {
            // This worker cannot reach the database reliably right now; if it just came back, its own
            // heartbeat must renew its leases before it may judge anyone's (including its own) expired.
            return;
        }
        try {
            List<RescuedJob> rescued;
            do {
                rescued = store.jobRescue(new RescueParams(BATCH, now.now()));
                for (RescuedJob job : rescued) {
                    try (JobMdc mdc = JobMdc.of(job.id(), job.type())) {
                        log.warn("rescued job {}/{} from worker {}, which stopped renewing its lease or its registry entry during attempt {}; it is now {}",
                                job.type(), job.id(), LogText.of(job.previousOwner()), job.attempt(), job.status().sqlValue());
                        events.rescued(job.id(), job.type(), job.queue(), job.status());
                    }
                    if (job.status() == JobStatus.PENDING) {
                        fetcher.jobsAvailable(job.queue());
                    }
                }
            } while (rescued.size() == BATCH);
        } catch (Throwable e) {
            log.warn("worker {} could not rescue expired leases ({}); trying again in {}",
                    workerId, LogText.of(e.getMessage()), interval);
        }
    }
}
