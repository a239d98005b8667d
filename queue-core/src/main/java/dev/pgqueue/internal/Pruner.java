package dev.pgqueue.internal;

import dev.pgqueue.JobStatus;
import dev.pgqueue.spi.JobStore;
import dev.pgqueue.spi.JobStore.PruneParams;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes finished jobs older than their status's retention, in small batches (each its own short
 * transaction, skipping locked rows) so that it never holds locks long or competes with claims.
 * Only jobs in a final status are ever deleted.
 */
final class Pruner {

    private static final Logger log = LoggerFactory.getLogger(Pruner.class);
    static final int BATCH = 1_000;

    private final JobStore store;
    private final StoreNow now;
    private final Map<JobStatus, Duration> retention;
    private final BooleanSupplier workerRunning;
    private final Duration interval;
    private final String workerId;

    /**
     * @param store         deletes the jobs
     * @param now           "now" for the store (see {@link StoreNow})
     * @param retention     how long finished jobs of each status are kept
     * @param workerRunning false once the worker closes: a long prune stops between batches
     * @param interval      how often it prunes (for the log)
     * @param workerId      for the log
     */
    Pruner(JobStore store, StoreNow now, Map<JobStatus, Duration> retention, BooleanSupplier workerRunning,
            Duration interval, String workerId) {
        this.store = store;
        this.now = now;
        this.retention = retention;
        this.workerRunning = workerRunning;
        this.interval = interval;
        this.workerId = workerId;
    }

    void prune() {
        try {
            int deleted = 0;
            for (Map.Entry<Duration, Set<JobStatus>> group : statusesByRetention().entrySet()) {
                int batch;
                do {
                    batch = store.jobPrune(new PruneParams(group.getValue(), group.getKey(), BATCH, now.now()));
                    deleted += batch;
                } while (batch == BATCH && workerRunning.getAsBoolean());
            }
            if (deleted > 0) {
                log.info("pruned {} finished jobs", deleted);
            }
        } catch (Throwable e) {
            log.warn("worker {} could not prune finished jobs ({}); trying again in {}",
                    workerId, LogText.of(e.getMessage()), interval);
        }
    }

    private Map<Duration, Set<JobStatus>> statusesByRetention() {
        Map<Duration, Set<JobStatus>> groups = new LinkedHashMap<>();
        retention.forEach((status, keepFor) ->
                groups.computeIfAbsent(keepFor, k -> EnumSet.noneOf(JobStatus.class)).add(status));
        return groups;
    }
}
