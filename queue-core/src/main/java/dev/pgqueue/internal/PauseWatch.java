package dev.pgqueue.internal;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the {@link Fetcher} told which queues are paused for every worker. It re-reads the paused
 * queues from the store every {@link #INTERVAL} (so a pause applies within about a second even when
 * notifications are off or lost) and at once when a notification says a queue changed; such a
 * notification is only a hint, since anyone who can connect may send one: what is paused is what
 * the database says. At most one hinted read is queued at a time, however many hints arrive.
 */
final class PauseWatch {

    private static final Logger log = LoggerFactory.getLogger(PauseWatch.class);
    /** How often the paused queues are re-read without a hint. */
    static final Duration INTERVAL = Duration.ofSeconds(1);

    private final dev.pgqueue.spi.JobStore store;
    private final Fetcher fetcher;
    private final Vitals vitals;
    private final String workerId;
    private final AtomicBoolean readQueued = new AtomicBoolean();
    private volatile Set<String> paused = Set.of();
    private boolean failing;

    /**
     * @param store    reads the paused queues
     * @param fetcher  told the paused queues after every read
     * @param vitals   told whether each read reached the database
     * @param workerId for the log
     */
    PauseWatch(dev.pgqueue.spi.JobStore store, Fetcher fetcher, Vitals vitals, String workerId) {
        this.store = store;
        this.fetcher = fetcher;
        this.vitals = vitals;
        this.workerId = workerId;
    }

    /** True if a hinted read should be queued now (none is queued yet). */
    boolean markReadQueued() {
        return readQueued.compareAndSet(false, true);
    }

    /** Reads the paused queues and tells the fetcher; never throws (the previous answer stays). */
    synchronized void read() {
        readQueued.set(false);
        vitals.reading();
        try {
            Set<String> now = store.queuePausedList();
            vitals.reached();
            if (!now.equals(paused)) {
                log.info("worker {}: paused queues now {}", workerId, now);
            }
            paused = Set.copyOf(now);
            fetcher.paused(paused);
            if (failing) {
                failing = false;
                log.info("worker {} reads the paused queues again", workerId);
            }
        } catch (Throwable e) {
            vitals.unreachable(e);
            if (!failing) {
                failing = true;
                log.warn("worker {} could not read the paused queues ({}); keeping {} until it can",
                        workerId, LogText.of(e.getMessage()), paused);
            }
        } finally {
            vitals.readDone();
        }
    }

    /** {@return the queues paused at the last successful read} */
    Set<String> paused() {
        return paused;
    }
}
