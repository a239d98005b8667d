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
 * worker down: whatever it throws, including an {@link Error}, ends as that job's outcome, and every
 * claimed job leaves this class with an outcome submitted or its lease given up.
 */
final class Dispatcher {

    private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);
    private static final Comparator<ClaimedJob> CLAIM_ORDER = Comparator.comparingInt(ClaimedJob::priority)
            .thenComparing(ClaimedJob::runAt)
            .thenComparing(ClaimedJob::id);

    private final WorkerRuntime runtime;
    private final ExecutorService executor;
    private final ScheduledExecutorService timer;
    private final Map<UUID, RunningJob> leased = new ConcurrentHashMap<>();
    /** Claimed jobs whose outcome is not yet submitted, per queue: the taken slots. */
    private final Map<String, AtomicInteger> busySlots = new HashMap<>();

    Dispatcher(WorkerRuntime runtime, ExecutorService executor, ScheduledExecutorService timer) {
        this.runtime = runtime;
        this.executor = executor;
        this.timer = timer;
        runtime.config().queues().keySet().forEach(queue -> busySlots.put(queue, new AtomicInteger()));
    }

    /** Slots of {@code queue} not taken by a claimed, unfinished job. */
    int freeSlots(String queue) {
        return runtime.config().queues().get(queue) - busySlots.get(queue).get();
    }

    /** Claimed jobs whose outcome has not been submitted yet (running or waiting for a thread). */
    int runningJobs() {
        return busySlots.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    /** Jobs this worker holds a lease on: running, or finished but not yet recorded. */
    Collection<RunningJob> leased() {
        return leased.values();
    }

    void dispatch(List<ClaimedJob> claimed) {
        List<ClaimedJob> ordered = new ArrayList<>(claimed);
        ordered.sort(CLAIM_ORDER);
        for (ClaimedJob job : ordered) {
            RunningJob run = new RunningJob(job, runtime.config().handlers().get(job.type()), runtime.host());
            RunningJob older = leased.put(job.id(), run);
            if (older != null) {
                // This worker claimed the job again while an older attempt of it still runs here
                // (its lease expired during a stall and the job was rescued): that attempt is fenced.
                log.warn("claimed job {} again while its attempt {} still runs here; that attempt lost its lease",
                        run.name(), older.attempt());
                leaseLost(older);
            }
            busySlots.get(job.queue()).incrementAndGet();
            try {
                executor.execute(() -> run(run));
            } catch (RejectedExecutionException e) {
                log.warn("the executor rejected job {}; handing it back", run.name());
                runtime.completer().submit(run, run.finish(FinishKind.RELEASE, null, Duration.ZERO));
                slotFreed(run);
            }
        }
    }

    /** Called by the completer once a job's outcome is recorded (or rejected): the lease is no longer ours. */
    void released(RunningJob run) {
        leased.remove(run.jobId(), run);
    }

    void cancelRequested(UUID jobId) {
        RunningJob run = leased.get(jobId);
        if (run != null && !run.isFinished() && run.stop(RunningJob.StopReason.CANCELLED)) {
            log.info("job {} was cancelled by a producer; interrupting its handler", run.name());
        }
    }

    /** The store says this worker's lease on {@code run} is gone: stop the handler, report once. */
    void leaseLost(RunningJob run) {
        run.markLeaseLost();
        if (run.markLeaseLossReported()) {
            runtime.events().leaseLost(run);
        }
    }

    /** Asks every unfinished job to stop: running handlers are interrupted, waiting ones will not start. */
    void stopAll(RunningJob.StopReason reason) {
        leased.values().stream().filter(run -> !run.isFinished()).forEach(run -> run.stop(reason));
    }

    private void run(RunningJob run) {
        Finish finish = null;
        try {
            finish = attempt(run);
        } catch (Throwable t) {
            // Only a bug of ours or a pathological throwable gets here; the job must still end.
            log.error("job {} ended abnormally inside the worker: {}", run.name(), Outcomes.headline(t));
            finish = run.isLeaseLost() ? null
                    : Outcomes.retry(run, "the worker could not complete this attempt: " + Outcomes.describe(t),
                            runtime.config().retryPolicy());
        } finally {
            run.end();
            Thread.interrupted(); // an interrupt meant for this job must not reach the next one
        }
        try {
            submit(run, finish);
        } finally {
            slotFreed(run); // after the submit, so that an idle worker has nothing left to record
        }
    }

    /** Runs the handler; returns what to record, or null if nothing may be (the lease is lost). */
    private Finish attempt(RunningJob run) {
        if (!run.begin(Thread.currentThread())) {
            return run.isLeaseLost() ? null : run.finish(FinishKind.RELEASE, null, Duration.ZERO);
        }
        Job<?> job = run.job();
        MDC.put("pgqueue.jobId", String.valueOf(job.id()));
        MDC.put("pgqueue.jobType", job.type());
        try {
            runtime.events().started(job);
            if (run.payloadError() != null) {
                log.warn("job {} cannot run: {}", run.name(), run.payloadError().getMessage());
                return run.finish(FinishKind.FAIL, Outcomes.truncate(run.payloadError().getMessage()), Duration.ZERO);
            }
            return handle(run, job);
        } finally {
            MDC.remove("pgqueue.jobId");
            MDC.remove("pgqueue.jobType");
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
            log.info("job {} attempt {} failed: {}", run.name(), run.attempt(), Outcomes.headline(error));
        }
        return Outcomes.decide(run, outcome, error, runtime.config().retryPolicy());
    }

    private void submit(RunningJob run, Finish finish) {
        if (run.recordedByHandler() != null) {
            runtime.completer().recordedByHandler(run);
        } else if (finish == null) {
            log.warn("job {} finished after its lease was lost; its outcome is discarded (the job was rescued)",
                    run.name());
            if (run.markLeaseLossReported()) {
                runtime.events().leaseLost(run);
            }
            released(run);
        } else {
            runtime.completer().submit(run, finish);
        }
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
