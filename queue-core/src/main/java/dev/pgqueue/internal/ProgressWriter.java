package dev.pgqueue.internal;

import dev.pgqueue.spi.JobStore;
import dev.pgqueue.spi.JobStore.ProgressParams;
import dev.pgqueue.spi.JobStore.ProgressUpdate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the progress that running handlers report, throttled: a handler's report only lands in
 * memory ({@link RunningJob#reportProgress}); every progress interval this writes the latest
 * unwritten report of each running job, all in one statement, fenced by lease token. A handler that
 * reports a thousand times a second costs one row update per interval. The last report of an attempt
 * travels with its outcome instead (see {@link RunningJob#finish}), so it is never lost.
 */
final class ProgressWriter {

    private static final Logger log = LoggerFactory.getLogger(ProgressWriter.class);
    private static final int MAX_BATCH = 1_000;

    private final JobStore store;
    private final StoreNow now;
    private final Leases leases;
    private final Duration interval;
    private final String workerId;

    /**
     * @param store    writes the progress
     * @param now      "now" for the store (see {@link StoreNow})
     * @param leases   the jobs whose progress it writes
     * @param interval how often it writes (for the log)
     * @param workerId for the log
     */
    ProgressWriter(JobStore store, StoreNow now, Leases leases, Duration interval, String workerId) {
        this.store = store;
        this.now = now;
        this.leases = leases;
        this.interval = interval;
        this.workerId = workerId;
    }

    void write() {
        try {
            List<RunningJob> runs = new ArrayList<>();
            List<RunningJob.UnwrittenProgress> unwritten = new ArrayList<>();
            for (RunningJob run : leases.all()) {
                RunningJob.UnwrittenProgress progress = run.isRunning() && !run.isLeaseLost() ? run.unwrittenProgress() : null;
                if (progress != null) {
                    runs.add(run);
                    unwritten.add(progress);
                }
            }
            for (int from = 0; from < runs.size(); from += MAX_BATCH) {
                int to = Math.min(runs.size(), from + MAX_BATCH);
                write(runs.subList(from, to), unwritten.subList(from, to));
            }
        } catch (Throwable e) {
            log.warn("worker {} could not write progress ({}); trying again in {}",
                    workerId, LogText.of(e.getMessage()), interval);
        }
    }

    private void write(List<RunningJob> runs, List<RunningJob.UnwrittenProgress> unwritten) {
        List<ProgressUpdate> updates = new ArrayList<>(unwritten.size());
        unwritten.forEach(u -> updates.add(u.update()));
        Set<UUID> held = new HashSet<>(store.jobProgressMany(new ProgressParams(updates, now.now())));
        for (int i = 0; i < runs.size(); i++) {
            if (held.contains(runs.get(i).jobId())) {
                runs.get(i).progressWritten(unwritten.get(i).sequence());
            }
        }
    }
}
