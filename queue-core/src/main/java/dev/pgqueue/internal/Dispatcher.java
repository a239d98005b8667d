package dev.pgqueue.internal;

import dev.pgqueue.Job;
import dev.pgqueue.JobHandler;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.Finish;
import dev.pgqueue.spi.JobStore.FinishKind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Runs claimed jobs on the worker's executor, one slot of their queue each, and hands each outcome
 * to the {@link Completer}. Keeps the jobs this worker holds a lease on, from claim until their
 * outcome is recorded, for the heartbeat, cancellation and shutdown. A handler can never take the
 * worker down: whatever it throws, including an {@link Error}, ends as that job's outcome.
 */
final class Dispatcher {

    private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);
    private static final Comparator<ClaimedJob> CLAIM_ORDER = Comparator.comparingInt(ClaimedJob::priority)
            .thenComparing(ClaimedJob::runAt)
            .thenComparing(ClaimedJob::id);

    private final WorkerRuntime runtime;
    private final ExecutorService executor;
    private final ScheduledExecutorService timer;
    /**
     * Every attempt this worker holds, by identity: one job can have two here at once (an attempt
     * that lost its lease and has not returned yet, and the same worker's next attempt of it).
     */
    private final java.util.Set<RunningJob> leased = ConcurrentHashMap.newKeySet();
    private final Map<String, AtomicInteger> busySlots = new HashMap<>();

    Dispatcher(WorkerRuntime runtime, ExecutorService executor, ScheduledExecutorService timer) {
        this.runtime = runtime;
        this.executor = executor;
        this.timer = timer;
        runtime.config().queues().keySet().forEach(queue -> busySlots.put(queue, new AtomicInteger()));
    }

    /** Slots of {@code queue} not taken by a running handler. */
    int freeSlots(String queue) {
        return runtime.config().queues().get(queue) - busySlots.get(queue).get();
    }

    int runningJobs() {
        return busySlots.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    /** Jobs this worker holds a lease on: running, or finished but not yet recorded. */
    Collection<RunningJob> leased() {
        return leased;
    }

    void dispatch(List<ClaimedJob> claimed) {
        List<ClaimedJob> ordered = new ArrayList<>(claimed);
        ordered.sort(CLAIM_ORDER);
        for (ClaimedJob job : ordered) {
            RunningJob run = new RunningJob(job, runtime.config().handlers().get(job.type()), runtime);
            for (RunningJob earlier : leased) {
                if (earlier.jobId().equals(job.id()) && !earlier.isLeaseLost()) {
                    // The job was rescued from under an attempt of ours that has not returned yet
                    // (it ignores interrupts, or this process was paused): that attempt is fenced out.
                    log.warn("job {} was claimed again (attempt {}) while its attempt {} still runs here; that attempt lost its lease",
                            run.name(), job.attempt(), earlier.attempt());
                    earlier.markLeaseLost();
                    runtime.events().leaseLost(earlier);
                }
            }
            leased.add(run);
            busySlots.get(job.queue()).incrementAndGet();
            try {
                executor.execute(() -> run(run));
            } catch (RejectedExecutionException e) {
                log.warn("executor rejected job {}; handing it back", run.name());
                slotFreed(run);
                runtime.completer().submit(run, run.finish(FinishKind.RELEASE, null, Duration.ZERO));
            }
        }
    }

    /** Called by the completer once a job's outcome is recorded (or rejected): the lease is no longer ours. */
    void released(RunningJob run) {
        leased.remove(run);
    }

    void cancelRequested(UUID jobId) {
        for (RunningJob run : leased) {
            if (run.jobId().equals(jobId) && !run.isLeaseLost() && run.isRunning()
                    && run.stop(RunningJob.StopReason.CANCELLED)) {
                log.info("job {} was cancelled by a producer; interrupting its handler", run.name());
            }
        }
    }

    /** Asks every running handler to stop (shutdown deadline passed). */
    void stopAll(RunningJob.StopReason reason) {
        leased.stream().filter(RunningJob::isRunning).forEach(run -> run.stop(reason));
    }

    private void run(RunningJob run) {
        Job<?> job = run.job();
        run.begin(Thread.currentThread());
        MDC.put("pgqueue.jobId", String.valueOf(job.id()));
        MDC.put("pgqueue.jobType", job.type());
        Finish finish;
        try {
            runtime.events().started(job);
            if (run.payloadError() != null) {
                log.warn("job {} cannot run: {}", run.name(), run.payloadError().getMessage());
                finish = run.finish(FinishKind.FAIL, Outcomes.truncate(run.payloadError().getMessage()), Duration.ZERO);
            } else {
                finish = handle(run, job);
            }
        } finally {
            run.end();
            Thread.interrupted(); // an interrupt meant for this job must not reach the next one
            MDC.remove("pgqueue.jobId");
            MDC.remove("pgqueue.jobType");
            slotFreed(run);
        }
        if (run.recordedByHandler() != null) {
            runtime.completer().recordedByHandler(run);
        } else if (finish == null) {
            log.warn("job {} finished after its lease was lost; its outcome is discarded (the job was rescued)",
                    run.name());
            runtime.events().leaseLost(run);
            released(run);
        } else {
            runtime.completer().submit(run, finish);
        }
    }

    @SuppressWarnings("unchecked")
    private Finish handle(RunningJob run, Job<?> job) {
        JobHandler<Object> handler = (JobHandler<Object>) run.registration().handler();
        ScheduledFuture<?> timeout = run.registration().type().timeout()
                .map(limit -> timer.schedule(() -> timeOut(run, limit), limit.toNanos(), TimeUnit.NANOSECONDS))
                .orElse(null);
        JobOutcome outcome = null;
        Throwable error = null;
        try {
            outcome = handler.handle((Job<Object>) job, run);
        } catch (Throwable t) {
            error = t;
        } finally {
            if (timeout != null) {
                timeout.cancel(false);
            }
        }
        if (error != null && run.stopReason() == null) {
            log.info("job {} attempt {} failed: {}", run.name(), run.attempt(), error.toString());
        }
        return Outcomes.decide(run, outcome, error, runtime.config().retryPolicy());
    }

    private void timeOut(RunningJob run, Duration limit) {
        if (run.isRunning() && run.stop(RunningJob.StopReason.TIMED_OUT)) {
            log.warn("job {} timed out after {}; interrupting its handler", run.name(), limit);
        }
    }

    private void slotFreed(RunningJob run) {
        busySlots.get(run.claimed().queue()).decrementAndGet();
        runtime.fetcher().slotFreed();
    }
}
