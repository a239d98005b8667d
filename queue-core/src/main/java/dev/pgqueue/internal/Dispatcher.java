package dev.pgqueue.internal;

import dev.pgqueue.Job;
import dev.pgqueue.JobContext;
import dev.pgqueue.JobHandler;
import dev.pgqueue.JobInterceptor;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.RetryPolicy;
import dev.pgqueue.Worker;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.Finish;
import dev.pgqueue.spi.JobStore.FinishKind;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 * Runs claimed jobs on the worker's executor, one slot of their queue each, in claim order, and
 * hands each outcome to the {@link Completer}; jobs claimed ahead wait here for a slot. Each claimed
 * job is held in {@link Leases} (for the heartbeat, cancellation and shutdown) until the completer
 * releases it. A handler can never take the worker down: whatever it throws, including
 * an {@link Error}, ends as that job's outcome, and every claimed job leaves this class with an
 * outcome submitted or its lease given up.
 */
final class Dispatcher {

    private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);
    /** Priority, then due time, then id: the order the claim statement takes jobs in. */
    private static final Comparator<ClaimedJob> CLAIM_ORDER = Dispatcher::claimOrder;
    /** The claim round trips' worth of work that may wait for a slot, whatever the claim-ahead time. */
    static final int CLAIM_ROUND_TRIPS_AHEAD = 4;

    private final Duration claimAhead;
    private final int batchSize;
    private final Map<String, HandlerRegistration<?>> handlers;
    private final List<JobInterceptor> interceptors;
    private final AttemptHost host;
    private final RetryPolicy retryPolicy;
    private final boolean logPayloads;
    private final ExecutorService executor;
    private final ScheduledExecutorService timer;
    private final Leases leases;
    private final Events events;
    private final Completer completer;
    private final ClaimHints hints;
    private final Map<String, Lane> lanes = new HashMap<>();
    /** The worker is closing: jobs a late claim brings are handed back, never started. */
    private volatile boolean closing;

    /**
     * One served queue: its claimed jobs waiting for a slot, in claim order, and the runners that
     * take them. A runner is one task on the executor that runs waiting jobs one after another until
     * none is left; a queue has at most {@code concurrency} runners, so no more of its jobs run at
     * once, whatever the executor (a virtual-thread executor included).
     */
    private static final class Lane {
        /** Its slots; changed at runtime by {@link Dispatcher#resize}. */
        volatile int concurrency;
        /** Claimed jobs whose outcome is not yet submitted, running or waiting: the taken slots. */
        final AtomicInteger held = new AtomicInteger();
        private final ArrayDeque<RunningJob> waiting = new ArrayDeque<>(); // guarded by this
        private int runners; // guarded by this
        /** Handlers' average run time in nanoseconds, exponentially weighted; -1 until one has run. */
        private volatile long averageNanos = -1;
        /** A claim's average round trip for this queue in nanoseconds, exponentially weighted; -1 until one. */
        private volatile long claimNanos = -1;

        Lane(int concurrency) {
            this.concurrency = concurrency;
        }

        synchronized void ran(long nanos) {
            averageNanos = averageNanos < 0 ? nanos : averageNanos + (nanos - averageNanos) / 8;
        }

        synchronized void claimed(long nanos) {
            claimNanos = claimNanos < 0 ? nanos : claimNanos + (nanos - claimNanos) / 8;
        }
    }

    /**
     * @param concurrency each served queue's slots
     * @param claimAhead  how much work may wait for a slot, in handler run time
     * @param batchSize   the most jobs one claim brings, and so the most that may wait for a slot
     * @param handlers    by job type
     * @param interceptors run around every attempt, the first outermost; empty to call handlers directly
     * @param host        what a running attempt asks of the worker (codec, now, extending its lease)
     * @param retryPolicy the worker's default
     * @param logPayloads whether a payload that does not map may be logged
     * @param executor    runs the handlers
     * @param timer       fires handler timeouts
     * @param leases      where each claimed job is held until the completer releases it
     * @param events      told when a job starts and when a lease is lost
     * @param completer   records each outcome
     * @param hints       told when a freed slot makes a queue worth a claim (the fetcher)
     */
    Dispatcher(Map<String, Integer> concurrency, Duration claimAhead, int batchSize,
            Map<String, HandlerRegistration<?>> handlers, List<JobInterceptor> interceptors, AttemptHost host, RetryPolicy retryPolicy, boolean logPayloads,
            ExecutorService executor, ScheduledExecutorService timer,
            Leases leases, Events events, Completer completer, ClaimHints hints) {
        this.claimAhead = claimAhead;
        this.batchSize = batchSize;
        this.handlers = handlers;
        this.interceptors = List.copyOf(interceptors);
        this.host = host;
        this.retryPolicy = retryPolicy;
        this.logPayloads = logPayloads;
        this.executor = executor;
        this.timer = timer;
        this.leases = leases;
        this.events = events;
        this.completer = completer;
        this.hints = hints;
        concurrency.forEach((queue, slots) -> lanes.put(queue, new Lane(slots)));
    }

    /**
     * How many jobs of {@code queue} the fetcher may claim now: its free slots, plus the jobs that
     * {@linkplain dev.pgqueue.Worker.Builder#claimAhead claim-ahead} lets wait for one. While more
     * than half of that allowance is still waiting, none: one large claim beats one per finished job.
     */
    int claimable(String queue) {
        return claimable(lanes.get(queue));
    }

    private int claimable(Lane lane) {
        int held = lane.held.get();
        int ahead = ahead(lane);
        int free = lane.concurrency + ahead - held;
        if (held > lane.concurrency && free < (ahead + 1) / 2) {
            return 0;
        }
        return Math.max(0, free);
    }

    /**
     * How many jobs may wait for a slot: the claim-ahead time's worth at the handlers' average speed,
     * and at least {@value #CLAIM_ROUND_TRIPS_AHEAD} claim round trips' worth, so that the half of it
     * left when the next claim is sent (see {@link #claimable}) keeps every slot busy until that claim's
     * jobs arrive even when the claim takes twice its average (a loaded machine, a wait for a pooled
     * connection), whatever the handlers' run time. Jobs that take longer than that many round trips
     * times the slots get none from the round-trip floor: a freed slot then idles one round trip, a
     * small part of such a job's time.
     */
    private int ahead(Lane lane) {
        return aheadJobs(claimAhead.toNanos(), lane.concurrency, lane.averageNanos, lane.claimNanos, batchSize);
    }

    /**
     * {@link #ahead}'s arithmetic: the jobs that may wait for a slot, given the claim-ahead time, the
     * slots, the handlers' average run time and a claim's average round trip (both -1 while unknown),
     * and the batch size.
     */
    static int aheadJobs(long budgetNanos, int concurrency, long averageNanos, long claimNanos, int batchSize) {
        if (budgetNanos == 0 || averageNanos < 0) {
            return 0;
        }
        long average = Math.max(averageNanos, 1_000);
        // Multiplied before dividing: budget / average alone truncates to 0 once a handler takes longer
        // than the claim-ahead time (a 1 ms job on a busy machine, 10 threads: 12 ms), and each freed
        // slot then cost a claim round trip of one or two jobs while the slot's thread waited for it.
        long jobs = budgetNanos * concurrency / average;
        if (claimNanos > 0) {
            // The claim-ahead time alone was not enough when a claim took longer than half of it (a
            // W5 worker on a loaded machine claimed 3.4 jobs per round trip, each freed slot waiting
            // for one): the jobs the slots finish while a claim is on its way, four times. Twice was
            // not enough either: the next claim goes out when half is left, one average round trip's
            // worth, and in a W5 drain the runners ran dry on 27 % of the finished jobs (handler
            // threads idle 17 % of the drain, JFR) whenever a claim took longer than its average.
            jobs = Math.max(jobs, CLAIM_ROUND_TRIPS_AHEAD * claimNanos * concurrency / average);
        }
        return (int) Math.min(jobs, batchSize);
    }

    /** A claim of {@code queue} took {@code nanos}, from sending it to its jobs waiting here. */
    void claimed(String queue, long nanos) {
        Lane lane = lanes.get(queue);
        if (lane != null) {
            lane.claimed(nanos);
        }
    }

    /**
     * Changes how many jobs of {@code queue} run at once. Growing starts waiting jobs at once; shrinking
     * lets running jobs finish, and runners beyond the new number end after their current job, so no
     * job is interrupted and the queue claims nothing until it is below the new number.
     *
     * @return the previous concurrency
     */
    int resize(String queue, int concurrency) {
        Lane lane = lanes.get(queue);
        int previous;
        synchronized (lane) {
            previous = lane.concurrency;
            lane.concurrency = concurrency;
        }
        if (!closing) {
            startRunners(lane);
        }
        if (claimable(lane) > 0) {
            hints.slotFreed();
        }
        return previous;
    }

    /** {@return each served queue's concurrency now} */
    Map<String, Integer> concurrency() {
        Map<String, Integer> now = new java.util.TreeMap<>();
        lanes.forEach((queue, lane) -> now.put(queue, lane.concurrency));
        return now;
    }

    /** Claimed jobs whose outcome has not been submitted yet (running or waiting for a slot). */
    int runningJobs() {
        return lanes.values().stream().mapToInt(lane -> lane.held.get()).sum();
    }

    private static int claimOrder(ClaimedJob a, ClaimedJob b) {
        int order = Integer.compare(a.priority(), b.priority());
        if (order == 0) {
            order = a.runAt().compareTo(b.runAt());
        }
        return order != 0 ? order : a.id().compareTo(b.id());
    }

    void dispatch(List<ClaimedJob> claimed) {
        List<ClaimedJob> ordered = new ArrayList<>(claimed);
        ordered.sort(CLAIM_ORDER);
        Set<Lane> touched = new LinkedHashSet<>();
        Lane last = null;
        for (ClaimedJob job : ordered) {
            RunningJob run = new RunningJob(job, handlers.get(job.type()), host);
            RunningJob older = leases.hold(run);
            // An older attempt whose handler has returned is the completer's to judge: its outcome may
            // be what made the job claimable again (a retry due at once, recorded though its reply was
            // lost), and the completer reports the lease lost only if the outcome was rejected.
            if (older != null && !older.isFinished()) {
                // This worker claimed the job again while an older attempt of it still runs here
                // (its lease expired during a stall and the job was rescued): that attempt is fenced.
                try (JobMdc mdc = JobMdc.of(run)) {
                    log.warn("claimed job {} again while its attempt {} still runs here; that attempt lost its lease",
                            run.name(), older.attempt());
                }
                leases.lost(older);
            }
            Lane lane = lanes.get(job.queue());
            lane.held.incrementAndGet();
            synchronized (lane) {
                lane.waiting.add(run);
            }
            if (lane != last) { // a claim is of one queue: one set operation per claim, not per job
                touched.add(lane);
                last = lane;
            }
        }
        if (closing) {
            handBackWaiting();
        } else {
            touched.forEach(this::startRunners);
        }
    }

    /** Hands back the claimed jobs that have not started (the worker is closing): they never ran. */
    void handBackWaiting() {
        closing = true;
        for (Lane lane : lanes.values()) {
            List<RunningJob> waiting;
            synchronized (lane) {
                waiting = new ArrayList<>(lane.waiting);
                lane.waiting.clear();
            }
            waiting.forEach(run -> handBack(lane, run));
        }
    }

    private void startRunners(Lane lane) {
        int start;
        synchronized (lane) {
            start = Math.max(0, Math.min(lane.waiting.size(), lane.concurrency - lane.runners));
            lane.runners += start;
        }
        for (int k = 0; k < start; k++) {
            try {
                executor.execute(() -> runWaiting(lane));
            } catch (RejectedExecutionException e) {
                runnerRejected(lane);
            }
        }
    }

    /** A runner: runs the lane's waiting jobs one after another until none is left. */
    private void runWaiting(Lane lane) {
        while (true) {
            RunningJob run;
            synchronized (lane) {
                // Beyond the concurrency after a resize down: end, leaving the waiting jobs to the rest.
                run = lane.runners > lane.concurrency ? null : lane.waiting.poll();
                if (run == null) {
                    lane.runners--;
                    return;
                }
            }
            run(lane, run);
        }
    }

    /** The executor would not take a runner: the last runner gone leaves the waiting jobs to hand back. */
    private void runnerRejected(Lane lane) {
        List<RunningJob> orphans = new ArrayList<>();
        synchronized (lane) {
            lane.runners--;
            if (lane.runners == 0) {
                orphans.addAll(lane.waiting);
                lane.waiting.clear();
            }
        }
        if (!orphans.isEmpty()) {
            log.warn("the executor rejected the worker's task; handing back {} jobs", orphans.size());
        }
        orphans.forEach(run -> handBack(lane, run));
    }

    private void handBack(Lane lane, RunningJob run) {
        run.end();
        try {
            completer.submit(run, run.finish(FinishKind.RELEASE, null, Duration.ZERO));
        } finally {
            slotFreed(lane);
        }
    }

    private void run(Lane lane, RunningJob run) {
        Finish finish = null;
        long started = System.nanoTime();
        try {
            finish = attempt(run);
        } catch (Throwable t) {
            // Only a bug of ours or a pathological throwable gets here; the job must still end.
            try (JobMdc mdc = JobMdc.of(run)) {
                log.error("job {} ended abnormally inside the worker: {}", run.name(), LogText.of(t));
            }
            finish = run.isLeaseLost() ? null
                    : Outcomes.retry(run, "the worker could not complete this attempt: " + Outcomes.describe(t),
                            retryPolicy);
        } finally {
            run.end();
            Thread.interrupted(); // an interrupt meant for this job must not reach the next one
            lane.ran(System.nanoTime() - started);
        }
        try {
            submit(run, finish);
        } finally {
            slotFreed(lane); // after the submit, so that an idle worker has nothing left to record
        }
    }

    /** Runs the handler; returns what to record, or null if nothing may be (the lease is lost). */
    private Finish attempt(RunningJob run) {
        if (!run.begin(Thread.currentThread())) {
            return run.isLeaseLost() ? null : run.finish(FinishKind.RELEASE, null, Duration.ZERO);
        }
        Job<?> job = run.job();
        MDC.put(Worker.MDC_JOB_ID, String.valueOf(job.id()));
        MDC.put(Worker.MDC_JOB_TYPE, job.type());
        try {
            events.started(job);
            if (run.payloadError() != null && interceptors.isEmpty()) {
                return payloadError(run);
            }
            return handle(run, job);
        } finally {
            MDC.remove(Worker.MDC_JOB_ID);
            MDC.remove(Worker.MDC_JOB_TYPE);
        }
    }

    private Finish payloadError(RunningJob run) {
        if (logPayloads) {
            log.warn("job {} cannot run: {}", run.name(), LogText.of(run.payloadError().getMessage()));
        } else {
            log.warn("job {} cannot run: its payload cannot be read as {} (the job's error_message says why; "
                    + "Worker.Builder.logPayloads(true) logs it too)", run.name(),
                    run.registration().type().payloadType().getSimpleName());
        }
        return Outcomes.payloadError(run, retryPolicy);
    }

    private Finish handle(RunningJob run, Job<?> job) {
        Duration limit = run.registration().type().timeout().orElse(null);
        ScheduledFuture<?> timeout = limit == null ? null
                : timer.schedule(() -> timeOut(run, limit), limit.toNanos(), TimeUnit.NANOSECONDS);
        JobOutcome outcome = null;
        Throwable error = null;
        try {
            outcome = interceptors.isEmpty() ? callHandler(run, job) : new Invocation(run, job, 0).run();
        } catch (Throwable t) {
            error = t;
        } finally {
            if (timeout != null) {
                timeout.cancel(false);
            }
        }
        if (error != null && error == run.payloadError()) {
            return payloadError(run); // the innermost proceed() threw it, and the interceptors let it through
        }
        if (error != null && run.stopReason() == null) {
            log.info("job {} attempt {} failed: {}", run.name(), run.attempt(), LogText.of(error));
        }
        return Outcomes.decide(run, outcome, error, retryPolicy);
    }

    @SuppressWarnings("unchecked")
    private static JobOutcome callHandler(RunningJob run, Job<?> job) throws Exception {
        if (run.payloadError() != null) {
            throw run.payloadError();
        }
        return ((JobHandler<Object>) run.registration().handler()).handle((Job<Object>) job, run);
    }

    /** The chain from interceptor {@code index} to the handler, for one attempt. */
    private final class Invocation implements JobInterceptor.Invocation {
        private final RunningJob run;
        private final Job<?> job;
        private final int index;
        private boolean proceeded;

        Invocation(RunningJob run, Job<?> job, int index) {
            this.run = run;
            this.job = job;
            this.index = index;
        }

        JobOutcome run() throws Exception {
            return interceptors.get(index).intercept(this);
        }

        @Override
        public Job<?> job() {
            return job;
        }

        @Override
        public JobContext context() {
            return run;
        }

        @Override
        public Map<String, String> traceContext() {
            return run.claimed().traceContext();
        }

        @Override
        public Instant claimedAt() {
            return run.claimed().claimedAt();
        }

        @Override
        public JobOutcome proceed() throws Exception {
            if (proceeded) {
                throw new IllegalStateException("proceed() called twice for job " + run.name() + " by interceptor "
                        + interceptors.get(index));
            }
            proceeded = true;
            return index + 1 < interceptors.size() ? new Invocation(run, job, index + 1).run() : callHandler(run, job);
        }
    }

    private void submit(RunningJob run, Finish finish) {
        if (run.recordedByHandler() != null) {
            completer.recordedByHandler(run);
        } else if (finish == null) {
            try (JobMdc mdc = JobMdc.of(run)) {
                log.warn("job {} finished after its lease was lost; its outcome is discarded (the job was rescued)",
                        run.name());
            }
            leases.reportLost(run);
            leases.release(run);
        } else {
            completer.submit(run, finish);
        }
    }

    private void timeOut(RunningJob run, Duration limit) {
        if (run.isRunning() && run.stop(RunningJob.StopReason.TIMED_OUT)) {
            try (JobMdc mdc = JobMdc.of(run)) {
                log.warn("job {} timed out after {}; interrupting its handler", run.name(), limit);
            }
        }
    }

    /** Wakes the fetcher only when the queue has become worth a claim, not on every finished job. */
    private void slotFreed(Lane lane) {
        lane.held.decrementAndGet();
        if (claimable(lane) > 0) {
            hints.slotFreed();
        }
    }
}
