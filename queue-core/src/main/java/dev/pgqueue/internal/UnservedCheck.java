package dev.pgqueue.internal;

import dev.pgqueue.spi.JobStore;
import dev.pgqueue.spi.JobStore.UnservedJobs;
import dev.pgqueue.spi.JobStore.UnservedParams;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Looks for pending jobs that nobody will ever run: due for longer than a while, of a queue and job
 * type that no live worker of the registry serves (a queue left out of every worker's
 * {@code queue(...)} list, a handler that no deployed worker has). They are reported in the worker's
 * health and logged once per queue and type until they are gone. Since the check reads the pending
 * jobs due before the cut-off (a backlog, if there is one), only the oldest live worker of the
 * registry runs it; the others' checks return nothing at no cost.
 */
final class UnservedCheck {

    private static final Logger log = LoggerFactory.getLogger(UnservedCheck.class);
    /** Most queue/type groups read and reported. */
    static final int LIMIT = 20;

    private final JobStore store;
    private final StoreNow now;
    private final Duration pendingFor;
    private final String workerId;
    private volatile List<UnservedJobs> found = List.of();
    private final Set<String> logged = new HashSet<>();

    /**
     * @param store      finds the jobs
     * @param now        "now" for the store
     * @param pendingFor how long a job must have been due to count
     * @param workerId   this worker: the store answers only while it is the oldest live worker
     */
    UnservedCheck(JobStore store, StoreNow now, Duration pendingFor, String workerId) {
        this.store = store;
        this.now = now;
        this.pendingFor = pendingFor;
        this.workerId = workerId;
    }

    /** One check; never throws (the previous finding stays). */
    synchronized void check() {
        try {
            List<UnservedJobs> groups = store.jobUnservedList(new UnservedParams(pendingFor, LIMIT, workerId, now.now()));
            Set<String> current = new HashSet<>();
            for (UnservedJobs group : groups) {
                String key = group.queue() + "/" + group.type();
                current.add(key);
                if (logged.add(key)) {
                    log.warn("{}: no live worker serves them (is queue {} in any worker's queue(...) list, with a "
                            + "handler for {}?)", describe(group, pendingFor), group.queue(), group.type());
                }
            }
            logged.retainAll(current);
            found = List.copyOf(groups);
        } catch (RuntimeException e) {
            log.debug("could not look for pending jobs no worker serves ({})", LogText.of(e.getMessage()));
        }
    }

    /** {@return the groups found by the latest successful check} */
    List<UnservedJobs> found() {
        return found;
    }

    static String describe(UnservedJobs group, Duration pendingFor) {
        return group.count() + " jobs of type " + group.type() + " in queue " + group.queue()
                + " have been due for more than " + pendingFor + " (the oldest since " + group.oldestDue() + ")";
    }
}
