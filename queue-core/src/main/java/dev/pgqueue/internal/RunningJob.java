package dev.pgqueue.internal;

import dev.pgqueue.Job;
import dev.pgqueue.JobContext;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.PayloadException;
import dev.pgqueue.spi.Attempt;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.Finish;
import dev.pgqueue.spi.JobStore.FinishKind;
import dev.pgqueue.spi.JobStore.FinishedJob;
import dev.pgqueue.spi.JobStore.ProgressUpdate;
import dev.pgqueue.spi.JobStore.ReportedProgress;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

/**
 * One claimed job while this worker holds its lease: from claim until its outcome is recorded. It
 * is also the handler's {@link JobContext}. Flags are set by other threads (heartbeat, producer
 * cancellation, timeout, shutdown) and read by the handler's thread, hence volatile; the handler
 * thread and interruption are guarded by this object's monitor, so that no interrupt meant for this
 * job can reach the next job run on the same pooled thread.
 */
public final class RunningJob implements JobContext, Attempt {

    /** Why the worker asked the handler to stop; the first reason wins. */
    enum StopReason { CANCELLED, TIMED_OUT, SHUTDOWN, LEASE_LOST }

    private final ClaimedJob claimed;
    private final HandlerRegistration<?> registration;
    private final AttemptHost host;
    /** The job with its payload decoded, or why it cannot be; decoded on first use (see {@link #decoded()}). */
    private volatile Decoded decoded;

    private Thread thread; // guarded by this
    private volatile StopReason stopReason;
    private volatile boolean cancelRequested;
    private volatile boolean leaseLost;
    private volatile boolean leaseLossReported;
    /** The handler has ended and its outcome is on its way to the store. */
    private volatile boolean finished;
    /** False while an attempt that timed out still runs: its lease is left to run out. */
    private volatile boolean heartbeating = true;
    private volatile Finish handlerFinish;
    private volatile FinishedJob recordedByHandler;
    /** The handler's own transaction, which records the outcome, is committing (see {@link #committing()}). */
    private volatile boolean committingOutcome;
    private volatile long startedNanos;
    private volatile long stoppedNanos;
    private volatile boolean reportedStuck;
    /** A cancellation hint (a notification) is waiting to be checked against the database. */
    private final java.util.concurrent.atomic.AtomicBoolean cancelCheckQueued = new java.util.concurrent.atomic.AtomicBoolean();
    /** The latest progress report and how many reports there were; guarded by this. */
    private ReportedProgress progress;
    private long progressReports;
    /** How many reports had been made when the latest one known to be written was taken; guarded by this. */
    private long progressWritten;

    RunningJob(ClaimedJob claimed, HandlerRegistration<?> registration, AttemptHost host) {
        this.claimed = claimed;
        this.registration = registration;
        this.host = host;
    }

    private record Decoded(Job<?> job, PayloadException error) {}

    /**
     * Decodes the payload the first time it is needed, normally on the handler's thread, so that the
     * fetcher hands a claim of hundreds of jobs over without decoding any. Two threads asking at once
     * may both decode; both get equal results, and either may be kept.
     */
    private Decoded decoded() {
        Decoded d = decoded;
        if (d == null) {
            Object payload = null;
            PayloadException error = null;
            try {
                payload = host.codec().decode(registration.type(), claimed.id(), claimed.payloadJson());
            } catch (PayloadException e) {
                error = e;
            }
            d = new Decoded(new Job<>(claimed.id(), claimed.type(), claimed.queue(), payload, claimed.attempt(),
                    claimed.retryCount(), claimed.maxRetries(), claimed.priority(), claimed.runAt(),
                    claimed.createdAt(), claimed.userId()), error);
            decoded = d;
        }
        return d;
    }

    ClaimedJob claimed() {
        return claimed;
    }

    HandlerRegistration<?> registration() {
        return registration;
    }

    Job<?> job() {
        return decoded().job();
    }

    PayloadException payloadError() {
        return decoded().error();
    }

    UUID leaseToken() {
        return claimed.leaseToken();
    }

    /** "type/id", the way every log line names a job. */
    String name() {
        return claimed.type() + "/" + claimed.id();
    }

    /**
     * Binds the handler thread. Returns false, and binds nothing, when the job must not run any more
     * (it was handed back or lost its lease while it waited for a thread).
     */
    synchronized boolean begin(Thread handlerThread) {
        if (leaseLost || stopReason == StopReason.SHUTDOWN) {
            return false;
        }
        startedNanos = System.nanoTime();
        thread = handlerThread;
        if (stopReason != null) {
            handlerThread.interrupt();
        }
        return true;
    }

    /**
     * Unbinds the handler thread. Synchronized with {@link #stop}: once this returns, no stop can
     * interrupt the thread any more, so the caller's {@code Thread.interrupted()} clears every
     * interrupt meant for this job.
     */
    synchronized void end() {
        thread = null;
        finished = true;
        heartbeating = !leaseLost; // keep the lease until the outcome is recorded
    }

    Duration runTime() {
        return startedNanos == 0 ? Duration.ZERO : Duration.ofNanos(System.nanoTime() - startedNanos);
    }

    synchronized boolean isRunning() {
        return thread != null;
    }

    boolean isFinished() {
        return finished;
    }

    /**
     * Whether the handler is inside {@code System.exit}: it will never return, since the JVM waits
     * for its shutdown hooks (a worker's {@code close()} among them) while the handler waits for it.
     */
    boolean isExitingJvm() {
        Thread running;
        synchronized (this) {
            running = thread;
        }
        if (running == null) {
            return false;
        }
        for (StackTraceElement frame : running.getStackTrace()) {
            if (frame.getClassName().equals("java.lang.Shutdown") && frame.getMethodName().equals("exit")) {
                return true;
            }
        }
        return false;
    }

    /** Asks the handler to stop (flag and interrupt). Returns false if another reason came first. */
    synchronized boolean stop(StopReason reason) {
        if (reason == StopReason.CANCELLED) {
            cancelRequested = true;
        }
        if (reason == StopReason.LEASE_LOST) {
            leaseLost = true;
            heartbeating = false;
        }
        if (stopReason != null) {
            return false;
        }
        stopReason = reason;
        stoppedNanos = System.nanoTime();
        if (reason == StopReason.TIMED_OUT) {
            heartbeating = false;
        }
        if (thread != null) {
            thread.interrupt();
        }
        return true;
    }

    /** The lease is gone, whatever else was asked of the handler before. */
    void markLeaseLost() {
        stop(StopReason.LEASE_LOST);
    }

    /** True the first time only, so that a lost lease is reported once. */
    boolean markLeaseLossReported() {
        boolean first = !leaseLossReported;
        leaseLossReported = true;
        return first;
    }

    StopReason stopReason() {
        return stopReason;
    }

    boolean heartbeating() {
        return heartbeating;
    }

    /** How long the running handler has ignored a stop request, or zero. */
    Duration ignoredStopFor() {
        return stopReason == null || !isRunning() ? Duration.ZERO : Duration.ofNanos(System.nanoTime() - stoppedNanos);
    }

    /** True if no cancellation check of this job is queued yet: the caller queues one. */
    boolean markCancelCheckQueued() {
        return cancelCheckQueued.compareAndSet(false, true);
    }

    /** The queued cancellation check is about to ask the database: a later hint queues another. */
    void cancelCheckStarted() {
        cancelCheckQueued.set(false);
    }

    boolean markReportedStuck() {
        boolean first = !reportedStuck;
        reportedStuck = true;
        return first;
    }

    FinishedJob recordedByHandler() {
        return recordedByHandler;
    }

    /** What the handler recorded itself (transactional handlers), as it asked the store. */
    Finish handlerFinish() {
        return handlerFinish;
    }

    // ---- JobContext ----------------------------------------------------------------------------

    @Override
    public UUID jobId() {
        return claimed.id();
    }

    @Override
    public int attempt() {
        return claimed.attempt();
    }

    @Override
    public boolean isCancellationRequested() {
        return cancelRequested;
    }

    @Override
    public boolean isLeaseLost() {
        return leaseLost;
    }

    @Override
    public boolean shouldStop() {
        return stopReason != null || leaseLost || host.closing();
    }

    @Override
    public void extendLease() {
        host.extendLease(this);
    }

    @Override
    public void reportProgress(int percent, String message) {
        Check.between("progress percent", percent, 0, 100);
        Check.text("progress message", message, MAX_PROGRESS_MESSAGE_LENGTH);
        synchronized (this) {
            progress = new ReportedProgress(percent, message);
            progressReports++;
        }
    }

    /** The latest progress report if it has not been written yet, with its sequence number; else null. */
    synchronized UnwrittenProgress unwrittenProgress() {
        return progressReports > progressWritten
                ? new UnwrittenProgress(new ProgressUpdate(claimed.id(), claimed.leaseToken(), progress), progressReports)
                : null;
    }

    /** The report with sequence number {@code sequence} (and every earlier one) is in the database. */
    synchronized void progressWritten(long sequence) {
        progressWritten = Math.max(progressWritten, sequence);
    }

    /** A progress report waiting to be written, and its sequence number among this attempt's reports. */
    record UnwrittenProgress(ProgressUpdate update, long sequence) {}

    // ---- Attempt (SPI) ---------------------------------------------------------------------------

    @Override
    public Finish finishFor(JobOutcome outcome) {
        Finish finish = Outcomes.finish(this, outcome);
        handlerFinish = finish;
        return finish;
    }

    @Override
    public Instant now() {
        return host.now();
    }

    @Override
    public void committing() {
        committingOutcome = true;
    }

    /** Whether the handler's own transaction has recorded (or is committing) this attempt's outcome. */
    boolean isCommittingOutcome() {
        return committingOutcome;
    }

    @Override
    public void recorded(FinishedJob finished) {
        recordedByHandler = finished;
    }

    Finish finish(FinishKind kind, String message, Duration delay) {
        return finish(kind, message, delay, null);
    }

    /** The outcome to record, carrying the last progress report if it is not written yet. */
    Finish finish(FinishKind kind, String message, Duration delay, String resultJson) {
        UnwrittenProgress unwritten = unwrittenProgress();
        return new Finish(claimed.id(), claimed.leaseToken(), kind, message, delay, resultJson,
                unwritten == null ? null : unwritten.update().progress());
    }

    PayloadCodec codec() {
        return host.codec();
    }

    @Override
    public String toString() {
        return "RunningJob[" + name() + ", attempt " + claimed.attempt() + "]";
    }
}
