package dev.pgqueue.internal;

import dev.pgqueue.LeaseLostException;
import dev.pgqueue.spi.JobStore.ExtendLeaseParams;
import dev.pgqueue.spi.JobStore.HeldLease;
import dev.pgqueue.spi.JobStore.LeaseRef;
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
 * no longer confirms was lost (it expired and the job was rescued): the handler is told through its
 * context and interrupted, and its outcome will not be recorded. A confirmed lease may carry a
 * producer's cancellation request, which stops the handler. Jobs that timed out are no longer
 * extended, so a handler that ignores the interrupt loses its lease, and is reported as stuck.
 */
final class Heartbeat {

    private static final Logger log = LoggerFactory.getLogger(Heartbeat.class);
    private static final int MAX_BATCH = 1_000;

    private final WorkerRuntime runtime;

    Heartbeat(WorkerRuntime runtime) {
        this.runtime = runtime;
    }

    void beat() {
        try {
            List<RunningJob> beating = new ArrayList<>();
            for (RunningJob run : runtime.dispatcher().leased()) {
                if (run.heartbeating()) {
                    beating.add(run);
                } else {
                    reportIfStuck(run);
                }
            }
            for (int from = 0; from < beating.size(); from += MAX_BATCH) {
                extend(beating.subList(from, Math.min(beating.size(), from + MAX_BATCH)));
            }
        } catch (RuntimeException e) {
            log.warn("worker {} could not extend its leases ({}); trying again in {}",
                    runtime.config().workerId(), e.getMessage(), runtime.config().heartbeatInterval());
        }
    }

    /** Extends one job's lease now (for {@code JobContext.extendLease()}). */
    void extendNow(RunningJob run) {
        if (run.isLeaseLost() || !extend(List.of(run)).containsKey(run.jobId())) {
            throw new LeaseLostException(run.claimed().type(), run.jobId());
        }
    }

    private Map<UUID, HeldLease> extend(List<RunningJob> runs) {
        List<LeaseRef> leases = new ArrayList<>(runs.size());
        runs.forEach(run -> leases.add(new LeaseRef(run.jobId(), run.leaseToken())));
        List<HeldLease> held = runtime.config().store().jobExtendLeaseMany(
                new ExtendLeaseParams(leases, runtime.config().leaseDuration(), runtime.config().now()));
        Map<UUID, HeldLease> byId = new HashMap<>(held.size() * 2);
        held.forEach(h -> byId.put(h.id(), h));
        for (RunningJob run : runs) {
            HeldLease lease = byId.get(run.jobId());
            if (lease == null) {
                // A job whose outcome is being recorded is no longer processing once it is: that is
                // its own outcome, not a lost lease (the completer reports a rejected one itself).
                if (!run.isLeaseLost() && !run.isOutcomeSubmitted()) {
                    log.warn("worker {} lost the lease on job {} (it expired and the job was rescued); stopping its handler",
                            runtime.config().workerId(), run.name());
                    run.markLeaseLost();
                    runtime.events().leaseLost(run);
                }
            } else if (lease.cancelRequested()) {
                runtime.dispatcher().cancelRequested(run.jobId());
            }
        }
        return byId;
    }

    private void reportIfStuck(RunningJob run) {
        Duration ignored = run.ignoredStopFor();
        if (ignored.compareTo(runtime.config().heartbeatInterval()) > 0 && run.markReportedStuck()) {
            log.warn("job {}'s handler has ignored its interrupt ({}) for {}; it keeps its slot until it returns, "
                    + "and its lease runs out so that the job is rescued", run.name(), run.stopReason(), ignored);
        }
    }
}
