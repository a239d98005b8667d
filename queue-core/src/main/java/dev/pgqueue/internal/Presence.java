package dev.pgqueue.internal;

import dev.pgqueue.spi.JobStore;
import dev.pgqueue.spi.JobStore.WorkerBeat;
import dev.pgqueue.spi.JobStore.WorkerBeatParams;
import dev.pgqueue.spi.JobStore.WorkerParams;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Function;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This worker's entry in the worker registry: recorded at start, renewed every presence interval
 * with the running count (one statement), re-recorded after a resize or when a long stall got it
 * deleted, and removed on close. A renewal that finds a dead worker still holding processing jobs
 * runs a rescue at once, so that a crashed worker's jobs come back within a few presence intervals
 * instead of after their leases. Registry failures are logged and never stop the worker: without
 * its entry it is simply not listed, and its jobs come back by lease expiry only.
 */
final class Presence {

    private static final Logger log = LoggerFactory.getLogger(Presence.class);

    private final JobStore store;
    private final StoreNow now;
    private final Function<Instant, WorkerParams> record;
    private final IntSupplier running;
    private final Runnable rescueNow;
    private final Vitals vitals;
    private final Duration interval;
    private final String workerId;
    private boolean failing;
    /** Unregistered: the worker is closing; nothing registers it again. */
    private boolean gone;

    /**
     * @param store     keeps the registry
     * @param now       "now" for the store (see {@link StoreNow})
     * @param record    this worker's record as of now (queues and concurrency may change at runtime)
     * @param running   how many jobs it runs
     * @param rescueNow runs a rescue soon, off this thread (a dead worker holds jobs)
     * @param vitals    told whether each renewal reached the database
     * @param interval  how often it renews (for the log)
     * @param workerId  its id
     */
    Presence(JobStore store, StoreNow now, Function<Instant, WorkerParams> record, IntSupplier running,
            Runnable rescueNow, Vitals vitals, Duration interval, String workerId) {
        this.store = store;
        this.now = now;
        this.record = record;
        this.running = running;
        this.rescueNow = rescueNow;
        this.vitals = vitals;
        this.interval = interval;
        this.workerId = workerId;
    }

    /** Records (or re-records) this worker; never throws. */
    synchronized void register() {
        if (gone) {
            return;
        }
        try {
            store.workerRegister(record.apply(now.now()));
            vitals.reached();
        } catch (Throwable e) {
            vitals.unreachable(e);
            log.warn("worker {} could not record itself in the worker registry ({}); trying again in {}",
                    workerId, LogText.of(e.getMessage()), interval);
        }
    }

    /** Renews this worker's presence; never throws. */
    synchronized void beat() {
        if (gone) {
            return;
        }
        try {
            WorkerBeat beat = store.workerBeat(new WorkerBeatParams(workerId, running.getAsInt(), now.now()));
            vitals.reached();
            if (failing) {
                failing = false;
                log.info("worker {} renews its presence in the worker registry again", workerId);
            }
            if (!beat.registered()) {
                log.warn("worker {}'s entry in the worker registry was gone (it did not renew it for too long, so "
                        + "other workers may have rescued its jobs); recording it again", workerId);
                register();
            }
            if (beat.orphans()) {
                rescueNow.run();
            }
        } catch (Throwable e) {
            vitals.unreachable(e);
            if (!failing) {
                failing = true;
                log.warn("worker {} could not renew its presence in the worker registry ({}); trying again every {}",
                        workerId, LogText.of(e.getMessage()), interval);
            }
        }
    }

    /** Removes this worker's entry (it is closing); never throws. */
    synchronized void unregister() {
        gone = true;
        try {
            store.workerDelete(workerId);
        } catch (Throwable e) {
            log.warn("worker {} could not remove itself from the worker registry ({}); its entry ages out",
                    workerId, LogText.of(e.getMessage()));
        }
    }
}
