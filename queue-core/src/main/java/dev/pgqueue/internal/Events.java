package dev.pgqueue.internal;

import dev.pgqueue.Job;
import dev.pgqueue.JobStatus;
import dev.pgqueue.WorkerListener;
import dev.pgqueue.spi.JobStore.Finish;
import dev.pgqueue.spi.JobStore.FinishKind;
import dev.pgqueue.spi.JobStore.FinishedJob;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the application's {@link WorkerListener} what happened, shielding the worker from it: a
 * listener that throws is logged, never allowed to affect a job.
 */
final class Events {

    private static final Logger log = LoggerFactory.getLogger(Events.class);

    /** The error_message of a job whose handler returned done() after a producer asked to cancel it. */
    static final String CANCEL_WON_OVER_DONE = "cancelled by a producer while running; the handler's result was dropped";

    private final List<WorkerListener> listeners;
    /** Of {@link #listeners}, those that hear {@code jobStarted} and {@code jobCompleted} (see {@link #overriding}). */
    private final List<WorkerListener> startListeners;
    private final List<WorkerListener> completionListeners;
    private final boolean logPayloads;

    Events(WorkerListener listener, boolean logPayloads) {
        this(List.of(listener), logPayloads);
    }

    Events(List<WorkerListener> listeners, boolean logPayloads) {
        this.listeners = List.copyOf(listeners);
        this.startListeners = overriding(this.listeners, "jobStarted", Job.class);
        this.completionListeners = overriding(this.listeners, "jobCompleted", Job.class, Duration.class);
        this.logPayloads = logPayloads;
    }

    /**
     * The listeners whose class overrides the named method of {@link WorkerListener}: the per-job
     * events go to those only, so that a listener of failures alone (a common one) costs completed
     * jobs nothing, not even the MDC set around its call.
     */
    private static List<WorkerListener> overriding(List<WorkerListener> listeners, String method, Class<?>... parameters) {
        List<WorkerListener> overriding = new java.util.ArrayList<>();
        for (WorkerListener listener : listeners) {
            try {
                if (listener.getClass().getMethod(method, parameters).getDeclaringClass() != WorkerListener.class) {
                    overriding.add(listener);
                }
            } catch (NoSuchMethodException | SecurityException e) {
                overriding.add(listener); // cannot tell: call it
            }
        }
        return List.copyOf(overriding);
    }

    /** Per job, on the handler's thread: a plain loop, so that a worker without listeners pays nothing. */
    void started(Job<?> job) {
        for (WorkerListener listener : startListeners) {
            try {
                listener.jobStarted(job);
            } catch (Throwable e) {
                log.warn("worker listener {} threw; ignored: {}", listener, LogText.of(e));
            }
        }
    }

    void leaseLost(RunningJob run) {
        call(l -> l.leaseLost(run.job()));
    }

    void rescued(UUID id, String type, String queue, JobStatus status) {
        call(l -> l.jobRescued(id, type, queue, status));
    }

    void tableUnhealthy(String report) {
        call(l -> l.tableUnhealthy(report));
    }

    /** An outcome was recorded as {@code result}; {@code finish} is null when the handler recorded it. */
    void recorded(RunningJob run, FinishKind kind, FinishedJob result, Finish finish) {
        if (result.status() == JobStatus.COMPLETED) {
            completed(run);
            return;
        }
        Job<?> job = run.job();
        // A cancel request wins over a later done(); the store says so in these words.
        String message = result.status() == JobStatus.CANCELLED && kind == FinishKind.COMPLETE ? CANCEL_WON_OVER_DONE
                : finish == null ? null : finish.message();
        // The job in the MDC for these lines and the listener's, whichever thread records the outcome.
        try (JobMdc mdc = JobMdc.of(run)) {
            switch (result.status()) {
                case FAILED -> {
                    log.warn("job {} failed for good after attempt {}: {}", run.name(), run.attempt(), loggable(run, message));
                    call(l -> l.jobFailed(job, message));
                }
                case CANCELLED -> {
                    log.info("job {} cancelled: {}", run.name(), LogText.of(message));
                    call(l -> l.jobCancelled(job, message));
                }
                case PENDING -> {
                    Duration delay = finish == null ? Duration.ZERO : finish.delay();
                    if (kind == FinishKind.RETRY) {
                        log.info("job {} will retry in {} (retry {} of {})", run.name(), delay, result.retryCount(), job.maxRetries());
                        call(l -> l.jobRetried(job, message, delay));
                    } else if (kind == FinishKind.SNOOZE) {
                        call(l -> l.jobSnoozed(job, delay));
                    } else {
                        log.info("job {} handed back unfinished", run.name());
                    }
                }
                default -> log.warn("job {} left in unexpected status {}", run.name(), result.status());
            }
        }
    }

    /**
     * The common case, once per job: nothing to do unless someone listens (a listener, or the debug
     * log), so that a worker without either sets no MDC and builds no log arguments.
     */
    private void completed(RunningJob run) {
        if (completionListeners.isEmpty() && !log.isDebugEnabled()) {
            return;
        }
        try (JobMdc mdc = JobMdc.of(run)) {
            Duration runTime = run.runTime();
            if (log.isDebugEnabled()) {
                log.debug("job {} completed in {}", run.name(), runTime);
            }
            Job<?> job = run.job();
            for (WorkerListener listener : completionListeners) {
                try {
                    listener.jobCompleted(job, runTime);
                } catch (Throwable e) {
                    log.warn("worker listener {} threw; ignored: {}", listener, LogText.of(e));
                }
            }
        }
    }

    /** Tells each listener in turn; one that throws is logged and does not keep the others from hearing it. */
    private void call(Consumer<WorkerListener> event) {
        for (WorkerListener listener : listeners) {
            try {
                event.accept(listener);
            } catch (Throwable e) {
                log.warn("worker listener {} threw; ignored: {}", listener, LogText.of(e));
            }
        }
    }

    /** The message's first line for the log; not a payload's content unless the application asked for it. */
    private String loggable(RunningJob run, String message) {
        if (message != null && !logPayloads && run.payloadError() != null) {
            return "its payload cannot be read (the job's error_message says why)";
        }
        return LogText.of(firstLine(message));
    }

    private static String firstLine(String message) {
        if (message == null) {
            return null;
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
