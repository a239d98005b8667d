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
 * cancellation, timeout, shutdown) and read by the handler's thread, hence volatile.
 */
public final class RunningJob implements JobContext, Attempt {

    /** Why the worker asked the handler to stop; the first reason wins. */
    enum StopReason { CANCELLED, TIMED_OUT, SHUTDOWN, LEASE_LOST }

    private final ClaimedJob claimed;
    private final HandlerRegistration<?> registration;
    private final Job<?> job;
    private final PayloadException payloadError;
    private final WorkerRuntime runtime;

    private volatile Thread thread;
    private volatile StopReason stopReason;
    private volatile boolean cancelRequested;
    private volatile boolean leaseLost;
    /** False once the attempt timed out: its lease is left to run out if the handler ignores that. */
    private volatile boolean heartbeating = true;
    private volatile FinishedJob recordedByHandler;
    private volatile long startedNanos;
    private volatile long stoppedNanos;
    private volatile boolean reportedStuck;
    /** The outcome is with the completer (or recorded): a lease the store no longer confirms may be our own doing. */
    private volatile boolean outcomeSubmitted;

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

    synchronized void begin(Thread handlerThread) {
        startedNanos = System.nanoTime();
        thread = handlerThread;
        if (stopReason != null) {
            handlerThread.interrupt();
        }
    }

    /**
     * Synchronized with {@link #stop}: once this returns, no stop can interrupt the thread any more,
     * so the caller's {@code Thread.interrupted()} clears every interrupt meant for this job.
     */
    synchronized void end() {
        thread = null;
    }

    Duration runTime() {
        return Duration.ofNanos(System.nanoTime() - startedNanos);
    }

    boolean isRunning() {
        return thread != null;
    }

    /**
     * Whether the handler is inside {@code System.exit}: it will never return, since the JVM waits
     * for its shutdown hooks (a worker's {@code close()} among them) while the handler waits for it.
     */
    boolean isExitingJvm() {
        Thread running = thread;
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
        if (stopReason != null) {
            return false;
        }
        stopReason = reason;
        stoppedNanos = System.nanoTime();
        if (reason == StopReason.CANCELLED) {
            cancelRequested = true;
        }
        if (reason == StopReason.LEASE_LOST) {
            leaseLost = true;
        }
        if (reason == StopReason.TIMED_OUT || reason == StopReason.LEASE_LOST) {
            heartbeating = false;
        }
        Thread running = thread;
        if (running != null) {
            running.interrupt();
        }
        return true;
    }

    /** The lease is gone even if the handler was asked to stop for another reason first. */
    void markLeaseLost() {
        leaseLost = true;
        heartbeating = false;
        stop(StopReason.LEASE_LOST);
    }

    StopReason stopReason() {
        return stopReason;
    }

    boolean heartbeating() {
        return heartbeating;
    }

    /** How long the handler has ignored a stop request, or zero. */
    Duration ignoredStopFor() {
        return stopReason == null || thread == null ? Duration.ZERO : Duration.ofNanos(System.nanoTime() - stoppedNanos);
    }

    boolean markReportedStuck() {
        boolean first = !reportedStuck;
        reportedStuck = true;
        return first;
    }

    void outcomeSubmitted() {
        outcomeSubmitted = true;
    }

    boolean isOutcomeSubmitted() {
        return outcomeSubmitted || recordedByHandler != null;
    }

    FinishedJob recordedByHandler() {
        return recordedByHandler;
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
        return stopReason != null;
    }

    @Override
    public void extendLease() {
        runtime.heartbeat().extendNow(this);
    }

    // ---- Attempt (SPI) ---------------------------------------------------------------------------

    @Override
    public Finish finishFor(JobOutcome outcome) {
        return Outcomes.finish(this, outcome);
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
