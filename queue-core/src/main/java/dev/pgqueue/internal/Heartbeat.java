package dev.pgqueue.internal;

import dev.pgqueue.LeaseLostException;
import dev.pgqueue.spi.JobStore;
import dev.pgqueue.spi.JobStore.ExtendLeaseParams;
import dev.pgqueue.spi.JobStore.LeaseRef;
import dev.pgqueue.spi.JobStore.LeaseStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the leases of the jobs this worker holds alive, in one statement per beat. A lease the store
 * reports lost (it expired and the job was rescued) stops the handler: it is told through its context
 * and interrupted, and its outcome will not be recorded. A held lease may carry a producer's
 * cancellation request, which stops the handler too. Jobs that timed out are no longer extended, so
 * a handler that ignores its interrupt loses its lease, and is reported as stuck.
 */
final class Heartbeat {

    private static final Logger log = LoggerFactory.getLogger(Heartbeat.class);
    private static final int MAX_BATCH = 1_000;

    private final JobStore store;
    private final StoreNow now;
    private final Duration leaseDuration;
    private final Duration interval;
    private final Leases leases;
    private final String workerId;
    private volatile boolean healthy = true;

    /**
     * @param store         extends the leases
     * @param now           "now" for the store (see {@link StoreNow})
     * @param leaseDuration how long each beat extends a lease for
     * @param interval      how often it beats (for the log)
     * @param leases        the jobs whose leases it keeps; told of lost leases and cancellation requests
     * @param workerId      for the log
     */
    Heartbeat(JobStore store, StoreNow now, Duration leaseDuration, Duration interval, Leases leases, String workerId) {
        this.store = store;
        this.now = now;
        this.leaseDuration = leaseDuration;
        this.interval = interval;
        this.leases = leases;
        this.workerId = workerId;
    }

    /** Whether the last beat reached the database (true before the first one). */
    boolean healthy() {
        return healthy;
    }

    void beat() {
        try {
            List<RunningJob> beating = new ArrayList<>();
            for (RunningJob run : leases.all()) {
                if (run.heartbeating()) {
                    beating.add(run);
                } else {
                    reportIfStuck(run);
                }
            }
            for (int from = 0; from < beating.size(); from += MAX_BATCH) {
                extend(beating.subList(from, Math.min(beating.size(), from + MAX_BATCH)));
            }
            healthy = true;
        } catch (Throwable e) {
            healthy = false;
            log.warn("worker {} could not extend its leases ({}); trying again in {}",
                    workerId, LogText.of(e.getMessage()), interval);
        }
    }

    /**
     * Extends one job's lease now (for {@code JobContext.extendLease()}).
     *
     * @throws LeaseLostException if the lease is lost
     */
    void extendNow(RunningJob run) {
        if (run.isLeaseLost()) {
            throw new LeaseLostException(run.claimed().type(), run.jobId());
        }
        LeaseStatus status = extend(List.of(run)).get(run.jobId());
        if (status != null && !status.held()) {
            throw new LeaseLostException(run.claimed().type(), run.jobId());
        }
    }

    /**
     * A notification said {@code run} was cancelled. Anyone who can connect may send one, so it is
     * only a hint: the job is stopped only if its row, under this worker's lease, says a cancellation
     * was requested (the same check as every beat, which also extends the lease).
     */
    void checkCancel(RunningJob run) {
        run.cancelCheckStarted();
        if (!run.heartbeating() || run.isFinished() || run.isCancellationRequested()) {
            return;
        }
        try {
            extend(List.of(run));
        } catch (Throwable e) {
            try (JobMdc mdc = JobMdc.of(run)) {
                log.warn("worker {} could not check a cancellation request for job {} ({}); the next heartbeat will",
                        workerId, run.name(), LogText.of(e.getMessage()));
            }
        }
    }

    private Map<UUID, LeaseStatus> extend(List<RunningJob> runs) {
        List<LeaseRef> refs = new ArrayList<>(runs.size());
        runs.forEach(run -> refs.add(new LeaseRef(run.jobId(), run.leaseToken())));
        List<LeaseStatus> statuses = store.jobExtendLeaseMany(new ExtendLeaseParams(refs, leaseDuration, now.now()));
        Map<UUID, LeaseStatus> byId = new HashMap<>(statuses.size() * 2);
        statuses.forEach(s -> byId.put(s.id(), s));
        for (RunningJob run : runs) {
            LeaseStatus status = byId.get(run.jobId());
            if (status == null) {
                continue; // its row was busy (an outcome being recorded, most likely): next beat
            }
            if (status.held()) {
                if (status.cancelRequested()) {
                    leases.cancelRequested(run.jobId());
                }
            } else if (!run.isFinished() && !run.isLeaseLost() && !run.isCommittingOutcome()) {
                // A finished job may simply have been recorded meanwhile, and so may one whose handler's
                // transaction is committing its outcome (a transactional handler between its COMMIT and
                // its return); only a running one is lost.
                try (JobMdc mdc = JobMdc.of(run)) {
                    log.warn("worker {} lost the lease on job {} (it expired and the job was rescued); stopping its handler",
                            workerId, run.name());
                }
                leases.lost(run);
            }
        }
        return byId;
    }

    private void reportIfStuck(RunningJob run) {
        Duration ignored = run.ignoredStopFor();
        if (ignored.compareTo(interval) > 0 && run.markReportedStuck()) {
            try (JobMdc mdc = JobMdc.of(run)) {
                log.warn("job {}'s handler has ignored its interrupt ({}) for {}; it keeps its slot until it returns, "
                        + "and its lease runs out so that the job is rescued", run.name(), run.stopReason(), ignored);
            }
        }
    }
}
