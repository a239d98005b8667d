package dev.pgqueue.internal;

import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobStatus;
import dev.pgqueue.StoreException;
import dev.pgqueue.spi.JobStore;
import dev.pgqueue.spi.JobStore.Finish;
import dev.pgqueue.spi.JobStore.FinishKind;
import dev.pgqueue.spi.JobStore.FinishParams;
import dev.pgqueue.spi.JobStore.FinishedJob;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records outcomes off the handler threads, many jobs per statement. There is no timer: the first
 * outcome is written at once, and whatever arrives while that write is in flight forms the next
 * batch, so batches grow with load and an idle worker records within one round trip. Every outcome
 * stays fenced by its lease token; one that the store rejects (the lease was lost) is reported, never
 * forced.
 *
 * <p>When the database is unreachable the batch is kept and retried with backoff. When it rejects
 * the statement itself (a value it cannot store), the batch is recorded one job at a time so that
 * one bad outcome cannot hold up the others, and the job whose outcome cannot be stored is failed
 * with a message saying why. {@link #stop} records everything still queued before it returns.
 */
final class Completer implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(Completer.class);
    static final int MAX_BATCH = 1_000;

    /**
     * An outcome to record; {@code maybeRecorded} once a try to record it failed in a way that may
     * have committed (the connection broke before the reply came back).
     */
    private record Pending(RunningJob run, Finish finish, boolean maybeRecorded) {
        Pending(RunningJob run, Finish finish) {
            this(run, finish, false);
        }

        Pending mayHaveBeenRecorded() {
            return maybeRecorded ? this : new Pending(run, finish, true);
        }
    }

    private final JobStore store;
    private final StoreNow now;
    private final Leases leases;
    private final Events events;
    private final ClaimHints hints;
    private final String workerId;
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private volatile boolean running = true;
    private volatile long stopDeadlineNanos = Long.MAX_VALUE;

    /**
     * @param store    records the outcomes
     * @param now      "now" for the store (see {@link StoreNow})
     * @param leases   released once a job's outcome is recorded or rejected
     * @param events   told what was recorded
     * @param hints    told when a job it put back in the queue comes due (the fetcher)
     * @param workerId for the log
     */
    Completer(JobStore store, StoreNow now, Leases leases, Events events, ClaimHints hints, String workerId) {
        this.store = store;
        this.now = now;
        this.leases = leases;
        this.events = events;
        this.hints = hints;
        this.workerId = workerId;
    }

    void submit(RunningJob run, Finish finish) {
        queue.add(new Pending(run, finish));
    }

    /** The handler recorded its own outcome (transactional handler): report it and let go of the lease. */
    void recordedByHandler(RunningJob run) {
        FinishedJob finished = run.recordedByHandler();
        Finish finish = run.handlerFinish();
        leases.release(run);
        if (finished.status() == JobStatus.PENDING && finish != null) {
            hints.jobDueIn(run.claimed().queue(), finish.delay());
        }
        events.recorded(run, finish != null ? finish.kind() : FinishKind.COMPLETE, finished, finish);
    }

    /** Stops once everything queued is recorded, trying for at most until {@code deadlineNanos}. */
    void stop(long deadlineNanos) {
        stopDeadlineNanos = deadlineNanos;
        running = false;
    }

    @Override
    public void run() {
        List<Pending> batch = new ArrayList<>();
        List<Pending> next = new ArrayList<>();
        int failures = 0;
        while (running || !queue.isEmpty() || !batch.isEmpty()) {
            try {
                if (batch.isEmpty()) {
                    Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
                    if (first == null) {
                        continue;
                    }
                    batch.add(first);
                }
                queue.drainTo(batch, MAX_BATCH - batch.size());
                moveLaterOutcomesOfTheSameJob(batch, next);
                record(batch);
                batch.clear();
                batch.addAll(next);
                next.clear();
                failures = 0;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (StoreException e) {
                batch.addAll(next);
                next.clear();
                if (!e.isTransient()) {
                    log.warn("worker {} could not record {} outcomes ({}); recording them one at a time",
                            workerId, batch.size(), LogText.of(e.getMessage()));
                    recordOneByOne(batch);
                    batch.clear();
                    continue;
                }
                failures++;
                batch.replaceAll(Pending::mayHaveBeenRecorded);
                if (!retryLater(batch, failures, e)) {
                    return;
                }
            } catch (Throwable e) {
                batch.addAll(next);
                next.clear();
                failures++;
                batch.replaceAll(Pending::mayHaveBeenRecorded);
                if (!retryLater(batch, failures, e)) {
                    return;
                }
            }
        }
    }

    /**
     * Moves from {@code batch} to {@code later} every outcome of a job that has an earlier one in the
     * batch: two attempts of one job (the first one's outcome retried after a lost reply, the next
     * attempt's already finished) are recorded one batch after the other, because a batch's results
     * are matched to its outcomes by job id.
     */
    private static void moveLaterOutcomesOfTheSameJob(List<Pending> batch, List<Pending> later) {
        Set<UUID> seen = new HashSet<>(batch.size() * 2);
        for (Iterator<Pending> it = batch.iterator(); it.hasNext(); ) {
            Pending pending = it.next();
            if (!seen.add(pending.run().jobId())) {
                it.remove();
                later.add(pending);
            }
        }
    }

    /** Backs off before the batch is tried again; false when stopping and out of time. */
    private boolean retryLater(List<Pending> batch, int failures, Throwable e) {
        if (!running && System.nanoTime() > stopDeadlineNanos) {
            log.error("worker {} stopped with {} outcomes unrecorded ({}); those jobs will be rescued when their leases expire",
                    workerId, batch.size() + queue.size(), LogText.of(e.getMessage()));
            return false;
        }
        long backoff = Math.min(5_000, 50L << Math.min(failures, 7));
        log.warn("worker {} could not record {} outcomes ({}); retrying in about {} ms",
                workerId, batch.size(), LogText.of(e.getMessage()), backoff);
        sleep(backoff / 2 + ThreadLocalRandom.current().nextLong(backoff / 2 + 1));
        return true;
    }

    private void recordOneByOne(List<Pending> batch) {
        for (Pending pending : batch) {
            try {
                record(List.of(pending));
            } catch (StoreException e) {
                if (e.isTransient()) {
                    queue.add(pending.mayHaveBeenRecorded()); // the database went away meanwhile: later
                    continue;
                }
                failUnrecordable(pending, e);
            }
        }
    }

    private void failUnrecordable(Pending pending, StoreException e) {
        RunningJob run = pending.run();
        String message = Outcomes.truncate("pgqueue could not record this job's outcome ("
                + pending.finish().kind() + "): " + e.getMessage());
        try (JobMdc mdc = JobMdc.of(run)) {
            log.error("job {}: {}", run.name(), LogText.of(message));
        }
        try {
            record(List.of(new Pending(run, run.finish(FinishKind.FAIL, message, Duration.ZERO))));
        } catch (RuntimeException again) {
            try (JobMdc mdc = JobMdc.of(run)) {
                log.error("job {}: could not record its failure either ({}); it will be rescued when its lease expires",
                        run.name(), LogText.of(again.getMessage()));
            }
            leases.release(run);
        }
    }

    private void record(List<Pending> batch) {
        List<Finish> finishes = new ArrayList<>(batch.size());
        for (Pending pending : batch) {
            finishes.add(pending.finish());
        }
        List<FinishedJob> finished = store.jobFinishMany(new FinishParams(finishes, now.now()));
        Map<UUID, FinishedJob> byId = new HashMap<>(finished.size() * 2);
        for (FinishedJob f : finished) {
            byId.put(f.id(), f);
        }
        for (Pending pending : batch) {
            RunningJob run = pending.run();
            leases.release(run);
            FinishedJob result = byId.remove(run.jobId());
            if (result == null && pending.maybeRecorded()) {
                result = recordedByAnEarlierTry(pending);
            }
            if (result == null) {
                try (JobMdc mdc = JobMdc.of(run)) {
                    log.warn("outcome {} of job {} was rejected: this worker no longer held its lease (it expired and the job was rescued)",
                            pending.finish().kind(), run.name());
                }
                leases.reportLost(run);
                continue;
            }
            if (result.status() == JobStatus.PENDING && pending.finish().kind() != FinishKind.RELEASE) {
                hints.jobDueIn(run.claimed().queue(), pending.finish().delay());
            }
            events.recorded(run, pending.finish().kind(), result, pending.finish());
        }
    }

    /**
     * The job's row if it already carries this outcome of this attempt: an earlier try committed but
     * its reply was lost; also when that outcome made the job pending and its next attempt has been
     * claimed since. Told apart from a rescue (which counts a failure and writes its own message) and
     * from any other attempt by what the outcome itself writes.
     */
    private FinishedJob recordedByAnEarlierTry(Pending pending) {
        RunningJob run = pending.run();
        Finish finish = pending.finish();
        JobSnapshot row;
        try {
            row = store.jobGet(run.jobId()).orElse(null);
        } catch (RuntimeException e) {
            try (JobMdc mdc = JobMdc.of(run)) {
                log.warn("job {}: could not read its row to see whether its outcome was recorded ({})",
                        run.name(), LogText.of(e.getMessage()));
            }
            return null;
        }
        if (row == null) {
            return null;
        }
        boolean countsAFailure = finish.kind() == FinishKind.RETRY || finish.kind() == FinishKind.FAIL;
        int attempt = run.claimed().attempt() - (finish.kind() == FinishKind.RELEASE ? 1 : 0);
        int retryCount = run.claimed().retryCount() + (countsAFailure ? 1 : 0);
        boolean writesMessage = countsAFailure || finish.kind() == FinishKind.CANCEL;
        // An outcome that made the job pending again may have been followed by the next claim before
        // this check (a retry due at once): that claim counts one more attempt and keeps the retry count
        // and the message, where a rescue of this attempt would have counted a failure and written its own.
        boolean backToPending = finish.kind() == FinishKind.RETRY || finish.kind() == FinishKind.SNOOZE
                || finish.kind() == FinishKind.RELEASE;
        boolean claimedAgain = backToPending && row.attempt() == attempt + 1;
        if (row.status() == JobStatus.PROCESSING && !claimedAgain) {
            return null;
        }
        boolean ours = (row.attempt() == attempt || claimedAgain) && row.retryCount() == retryCount
                && (!writesMessage || java.util.Objects.equals(row.errorMessage(), finish.message()))
                && switch (finish.kind()) {
                    case COMPLETE -> row.status() == JobStatus.COMPLETED || row.status() == JobStatus.CANCELLED;
                    case FAIL -> row.status() == JobStatus.FAILED;
                    case CANCEL -> row.status() == JobStatus.CANCELLED;
                    case RETRY, SNOOZE, RELEASE -> row.status() != JobStatus.COMPLETED;
                };
        if (!ours) {
            return null;
        }
        try (JobMdc mdc = JobMdc.of(run)) {
            log.info("outcome {} of job {} had been recorded by an earlier try whose reply was lost", finish.kind(), run.name());
        }
        // What this outcome wrote: pending, whatever the next attempt has done since.
        return new FinishedJob(run.jobId(), claimedAgain ? JobStatus.PENDING : row.status(), row.retryCount());
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
