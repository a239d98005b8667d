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
    private final Job<?> job;
    private final PayloadException payloadError;
    private final WorkerRuntime runtime;

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
    private volatile long startedNanos;
    private volatile long stoppedNanos;
    private volatile boolean reportedStuck;

    RunningJob(ClaimedJob claimed, HandlerRegistration<?> registration, WorkerRuntime runtime) {
        this.claimed = claimed;
        this.registration = registration;
        this.runtime = runtime;
        Object payload = null;
        PayloadException error = null;
        try {
            payload = runtime.config().codec().decode(registration.type(), claimed.id(), claimed.payloadJson());
        } catch (PayloadException e) {
            error = e;
        }
        this.payloadError = error;
        this.job = new Job<>(claimed.id(), claimed.type(), claimed.queue(), payload, claimed.attempt(),
                claimed.retryCount(), claimed.maxRetries(), claimed.priority(), claimed.runAt(),
                claimed.createdAt(), claimed.userId());
    }

    ClaimedJob claimed() {
        return claimed;
    }

    HandlerRegistration<?> registration() {
        return registration;
    }

    Job<?> job() {
        return job;
    }

    PayloadException payloadError() {
        return payloadError;
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
        return stopReason != null || leaseLost;
    }

    @Override
    public void extendLease() {
        runtime.heartbeat().extendNow(this);
    }

    // ---- Attempt (SPI) ---------------------------------------------------------------------------

    @Override
    public Finish finishFor(JobOutcome outcome) {
        Finish finish = Outcomes.finish(this, outcome);
        handlerFinish = finish;
        return finish;
    }

    @Override
    public Instant now() {
        return runtime.config().now();
    }

    @Override
    public void recorded(FinishedJob finished) {
        recordedByHandler = finished;
    }

    Finish finish(FinishKind kind, String message, Duration delay) {
        return new Finish(claimed.id(), claimed.leaseToken(), kind, message, delay);
    }

    @Override
    public String toString() {
        return "RunningJob[" + name() + ", attempt " + claimed.attempt() + "]";
    }
}
