package dev.pgqueue.internal;

import dev.pgqueue.spi.JobStore;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.FinishKind;
import dev.pgqueue.spi.JobStore.PolicyParams;
import dev.pgqueue.spi.JobStore.StoreListener;
import dev.pgqueue.spi.JobStore.Subscription;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds a worker's parts, each with exactly what it uses, and runs their lifecycle: start, and the
 * graceful close (stop claiming, let running jobs finish until the deadline, interrupt the rest,
 * record the outcomes, then stop the maintenance tasks), which never takes longer than the shutdown
 * timeout plus {@link #CLOSE_MARGIN}: what cannot be recorded by then is left to the jobs' leases.
 * No part is handed this class. The data path:
 *
 * <pre>
 *   producer → store ─claim→ Fetcher ─jobs→ Dispatcher ─outcomes→ Completer ─finish→ store
 *                              ↑               │ slot freed           │ retry due
 *                              └───────────────┴───── ClaimHints ─────┘
 * </pre>
 *
 * Beside it, {@link Leases} holds each job from the dispatcher's claim to the completer's release;
 * the {@link Heartbeat} renews those leases and the {@link ProgressWriter} writes their progress;
 * the {@link Rescuer}, {@link Pruner}, {@link TableHealthCheck} and {@link RecurringScheduler} keep
 * the table.
 *
 * <p>Threads: one fetcher, one completer, one heartbeat (alone, so that slow maintenance never
 * delays a lease renewal), one timer for handler timeouts, one for rescue and pruning, and the
 * handler executor.
 */
public final class WorkerRuntime {

    private static final Logger log = LoggerFactory.getLogger(WorkerRuntime.class);
    /** How much longer than its shutdown timeout close() may take, whatever handlers and the database do. */
    public static final Duration CLOSE_MARGIN = Duration.ofMillis(dev.pgqueue.Worker.CLOSE_MARGIN_MILLIS);
    /** After the shutdown timeout: how long interrupted handlers get to return. */
    private static final Duration INTERRUPT_GRACE = Duration.ofMillis(200);
    /** After the shutdown timeout: until when the completer keeps trying to record outcomes. */
    private static final Duration FLUSH_GRACE = Duration.ofMillis(300);
    /** After the shutdown timeout: until when close() waits for its threads; the rest of the margin stops them. */
    private static final Duration JOIN_GRACE = Duration.ofMillis(350);

    /** How long the once-a-second read of the paused queues may wait for the database before health says DOWN. */
    static final Duration UNANSWERED = Duration.ofSeconds(3);

    /** Connections a worker's own threads may hold at once: fetcher, completer, heartbeat, maintenance. */
    static final int BACKGROUND_CONNECTIONS = 4;

    private enum State { NEW, RUNNING, CLOSING, CLOSED }

    private final WorkerConfig config;
    private final Events events;
    private final Object lifecycle = new Object();
    private final CountDownLatch closed = new CountDownLatch(1);
    private volatile State state = State.NEW;

    // Set by start() before any thread that reads them is started.
    private ExecutorService handlerExecutor;
    private ScheduledThreadPoolExecutor heartbeatThread;
    private ScheduledThreadPoolExecutor timer;
    private ScheduledThreadPoolExecutor maintenance;
    private Leases leases;
    private Dispatcher dispatcher;
    private Fetcher fetcher;
    private Completer completer;
    private Heartbeat heartbeat;
    private Thread fetcherThread;
    private Thread completerThread;
    private Subscription subscription;
    private final Vitals vitals = new Vitals();
    private PauseWatch pauseWatch;
    private Presence presence;
    private Rescuer rescuer;
    private TableHealthCheck tableHealth;
    private UnservedCheck unserved;
    /** A rescue asked for by the presence beat is queued and has not started yet. */
    private final java.util.concurrent.atomic.AtomicBoolean rescueQueued = new java.util.concurrent.atomic.AtomicBoolean();
    private final Object resizing = new Object();
    /** Cached at start: looking the host name up may be slow. */
    private String hostName;
    /** Handlers blocked in System.exit (see {@link #failJobsExitingTheJvm()}): they never free their slot. */
    private int exitingJobs;

    public WorkerRuntime(WorkerConfig config) {
        this.config = config;
        this.events = new Events(config.listeners(), config.logPayloads());
    }

    public WorkerConfig config() {
        return config;
    }

    public boolean isRunning() {
        return state == State.RUNNING;
    }

    public int runningJobs() {
        Dispatcher current = dispatcher;
        return current == null ? 0 : current.runningJobs();
    }

    public void start() {
        synchronized (lifecycle) {
            if (state != State.NEW) {
                throw new IllegalStateException("worker " + config.workerId() + " was already started");
            }
            try {
                startComponents();
            } catch (RuntimeException | Error e) {
                state = State.CLOSED;
                closed.countDown();
                if (subscription != null) {
                    subscription.close();
                }
                if (presence != null) {
                    presence.unregister();
                }
                if (completer != null) {
                    completer.stop(System.nanoTime());
                }
                stopThreads();
                throw e;
            }
            state = State.RUNNING;
        }
        log.info("worker {} started: queues {}, job types {}{}{}", config.workerId(), config.queues(), config.types(),
                config.recurring().isEmpty() ? "" : ", recurring " + config.recurring().stream()
                        .map(r -> r.name() + " (" + r.schedule() + ")").toList(),
                config.policies().isEmpty() ? "" : ", policies " + config.policies());
    }

    /**
     * Warns when the store's pool is smaller than what this worker may use at once: a claim, an
     * outcome batch, a heartbeat and a maintenance task (each on its own thread), and one per
     * running handler that holds a connection (a transactional one). With fewer they queue for
     * connections: transactional handlers run fewer at a time, and leases may be renewed late.
     */
    private void warnIfThePoolIsTooSmall() {
        Optional<Integer> limit = config.store().connectionLimit();
        if (limit.isEmpty()) {
            return;
        }
        boolean transactional = config.handlers().values().stream().anyMatch(r -> config.store().holdsConnection(r.handler()));
        int handlers = transactional ? config.totalConcurrency() : 0;
        int needed = BACKGROUND_CONNECTIONS + handlers;
        if (limit.get() < needed) {
            log.warn("worker {}: its store can lend it {} connections at once (its pool's maximum size, less the one "
                    + "held for LISTEN), but it may use {}: {} for claiming, recording outcomes, heartbeats and "
                    + "maintenance, and {} for transactional handlers (concurrency {}). With fewer, transactional "
                    + "handlers run fewer at a time and leases may be renewed late: make the pool at least {} larger",
                    config.workerId(), limit.get(), needed, BACKGROUND_CONNECTIONS, handlers, config.totalConcurrency(),
                    needed - limit.get());
        }
    }

    private void startComponents() {
        warnIfThePoolIsTooSmall();
        String id = config.workerId();
        JobStore store = config.store();
        StoreNow now = StoreNow.of(config.clock());
        heartbeatThread = scheduler("pgqueue-heartbeat-" + id);
        timer = scheduler("pgqueue-timeouts-" + id);
        maintenance = scheduler("pgqueue-maintenance-" + id);
        handlerExecutor = config.executor() != null ? config.executor() : newHandlerPool();

        leases = new Leases(events);
        heartbeat = new Heartbeat(store, now, config.leaseDuration(), config.heartbeatInterval(), leases, id);
        AttemptHost host = attemptHost(config.codec(), now, heartbeat, () -> state != State.RUNNING);
        // The one cycle, bound late: the completer and the dispatcher wake the fetcher, which is built
        // after them since it needs the dispatcher. This forwarder reads the fetcher field, which is
        // set below, before any thread that could call it is started; nothing sets it again.
        ClaimHints toFetcher = new ClaimHints() {
            @Override
            public void slotFreed() {
                fetcher.slotFreed();
            }

            @Override
            public void jobDueIn(String queue, Duration delay) {
                fetcher.jobDueIn(queue, delay);
            }
        };
        completer = new Completer(store, now, leases, events, toFetcher, id);
        dispatcher = new Dispatcher(config.queues(), config.claimAhead(), config.batchSize(),
                config.handlers(), config.interceptors(), host, config.retryPolicy(), config.logPayloads(),
                handlerExecutor, timer, leases, events, completer, toFetcher);
        fetcher = new Fetcher(store, now, config.queues().keySet(), config.types(), config.batchSize(),
                config.leaseDuration(), config.pollInterval(), id, dispatcher, vitals);
        rescuer = new Rescuer(store, now, heartbeat, fetcher, events, config.rescueInterval(), id);
        pauseWatch = new PauseWatch(store, fetcher, vitals, id);
        hostName = hostName();
        presence = new Presence(store, now, this::registryRecord, dispatcher::runningJobs, this::rescueSoon, vitals,
                config.presenceInterval(), id);

        if (!config.policies().isEmpty()) {
            // Before the first claim, and failing start() if it cannot be written: a limit is a promise.
            store.policyPutMany(new PolicyParams(config.policies()));
        }
        // Before the first claim: a queue paused before this worker started is never claimed from.
        pauseWatch.read();
        presence.register();
        warmUp(handlerExecutor, host);
        completerThread = threads("pgqueue-completer-" + id, true).newThread(completer);
        completerThread.start();
        subscription = store.subscribe(new StoreListener() {
            @Override
            public void jobsAvailable(String queue) {
                fetcher.jobsAvailable(queue);
            }

            @Override
            public void cancelRequested(UUID jobId) {
                cancelHinted(jobId);
            }

            @Override
            public void reconnected() {
                fetcher.reconnected();
            }

            @Override
            public void queuesChanged() {
                readPausedSoon();
            }
        });
        // Not a daemon: a running worker keeps the JVM alive, as a server would, until closed.
        fetcherThread = threads("pgqueue-fetcher-" + id, false).newThread(fetcher);
        fetcherThread.start();

        long beat = config.heartbeatInterval().toNanos();
        heartbeatThread.scheduleWithFixedDelay(heartbeat::beat, beat, beat, TimeUnit.NANOSECONDS);
        // On the heartbeat thread too: slow maintenance must not delay a pause or make this worker look dead.
        long pauseEvery = PauseWatch.INTERVAL.toNanos();
        heartbeatThread.scheduleWithFixedDelay(pauseWatch::read, pauseEvery, pauseEvery, TimeUnit.NANOSECONDS);
        long presenceEvery = config.presenceInterval().toNanos();
        heartbeatThread.scheduleWithFixedDelay(presence::beat, presenceEvery, presenceEvery, TimeUnit.NANOSECONDS);
        long rescue = config.rescueInterval().toNanos();
        maintenance.scheduleWithFixedDelay(() -> {
            rescuer.rescue();
            pruneDeadWorkers();
        }, ThreadLocalRandom.current().nextLong(rescue / 2 + 1), rescue, TimeUnit.NANOSECONDS);
        ProgressWriter progress = new ProgressWriter(store, now, leases, config.progressInterval(), id);
        long progressEvery = config.progressInterval().toNanos();
        maintenance.scheduleWithFixedDelay(progress::write, progressEvery, progressEvery, TimeUnit.NANOSECONDS);
        if (!config.recurring().isEmpty()) {
            RecurringScheduler recurring =
                    new RecurringScheduler(store, config.recurring(), config.clock(), config.pollInterval());
            recurring.round(); // before start() returns: missed ticks are decided before anything else happens
            long round = config.pollInterval().toNanos();
            maintenance.scheduleWithFixedDelay(recurring::round, round, round, TimeUnit.NANOSECONDS);
        }
        if (!config.retention().isEmpty()) {
            Pruner pruner = new Pruner(store, now, config.retention(), this::isRunning, config.pruneInterval(), id);
            long prune = config.pruneInterval().toNanos();
            maintenance.scheduleWithFixedDelay(
                    pruner::prune, ThreadLocalRandom.current().nextLong(prune / 2 + 1), prune, TimeUnit.NANOSECONDS);
        }
        tableHealth = new TableHealthCheck(store, events, config.tableHealthInterval());
        long check = config.tableHealthInterval().toNanos();
        maintenance.scheduleWithFixedDelay(tableHealth::check, check, check, TimeUnit.NANOSECONDS);
        unserved = new UnservedCheck(store, now, config.unservedAfter(), id);
        maintenance.scheduleWithFixedDelay(unserved::check, check, check, TimeUnit.NANOSECONDS);
        maintenance.execute(() -> warnAboutUnservedTypes(store, now));
    }

    /** This worker's registry record as of {@code now}: what it serves now (resize changes it). */
    private JobStore.WorkerParams registryRecord(Instant now) {
        List<JobStore.RecurringRecord> recurring = config.recurring().stream()
                .map(r -> new JobStore.RecurringRecord(r.name(), r.type(), r.options().queue(), r.schedule().toString()))
                .toList();
        return new JobStore.WorkerParams(config.workerId(), hostName, ProcessHandle.current().pid(), dispatcher.concurrency(),
                config.types(), recurring, PgQueueVersion.get(), config.presenceInterval(), now);
    }

    /** A dead worker holds jobs: rescue them now, on the maintenance thread, one rescue queued at a time. */
    private void rescueSoon() {
        if (!rescueQueued.compareAndSet(false, true)) {
            return;
        }
        try {
            maintenance.execute(() -> {
                rescueQueued.set(false);
                rescuer.rescue();
                pruneDeadWorkers();
            });
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            rescueQueued.set(false);
        }
    }

    private void pruneDeadWorkers() {
        try {
            int deleted = config.store().workerPrune(config.now());
            if (deleted > 0) {
                log.info("worker {} deleted {} dead workers' entries from the worker registry", config.workerId(), deleted);
            }
        } catch (RuntimeException e) {
            log.debug("could not delete dead workers' entries ({})", LogText.of(e.getMessage()));
        }
    }

    /** A notification says a queue was paused or resumed: re-read, on the heartbeat thread, once per burst. */
    private void readPausedSoon() {
        if (!pauseWatch.markReadQueued()) {
            return;
        }
        try {
            heartbeatThread.execute(pauseWatch::read);
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            // closing: nothing more is claimed anyway
        }
    }

    /**
     * Warns when jobs of this worker's types can never be claimed by it: it does not serve the queue
     * jobs go to by default, or pending jobs of its types wait in queues no live worker serves.
     */
    private void warnAboutUnservedTypes(JobStore store, StoreNow now) {
        if (!config.queues().containsKey(dev.pgqueue.EnqueueOptions.DEFAULT_QUEUE)) {
            log.warn("worker {} serves queues {} but not \"{}\", where jobs go unless enqueued with "
                    + "EnqueueOptions.queue(...): its job types {} enqueued without a queue will not be claimed by it. "
                    + "Add .queue(\"{}\", n) to serve that queue too", config.workerId(), config.queues().keySet(),
                    dev.pgqueue.EnqueueOptions.DEFAULT_QUEUE, config.types(), dev.pgqueue.EnqueueOptions.DEFAULT_QUEUE);
        }
        try {
            for (JobStore.UnservedJobs group : store.jobUnservedList(
                    new JobStore.UnservedParams(Duration.ZERO, UnservedCheck.LIMIT, null, now.now()))) {
                if (config.types().contains(group.type())) {
                    log.warn("worker {} has a handler for {}, but {} pending jobs of it wait in queue {}, which no live "
                            + "worker serves: they will not run until one does (add .queue(\"{}\", n))",
                            config.workerId(), group.type(), group.count(), group.queue(), group.queue());
                }
            }
        } catch (RuntimeException e) {
            log.debug("could not look for pending jobs no worker serves ({})", LogText.of(e.getMessage()));
        }
    }

    /** See {@link dev.pgqueue.Worker#health()}. */
    public dev.pgqueue.Health health() {
        List<String> down = new ArrayList<>();
        List<String> degraded = new ArrayList<>();
        State current = state;
        boolean listening = false;
        int pastTimeout = 0;
        if (current != State.RUNNING) {
            down.add("the worker is " + switch (current) {
                case NEW -> "not started";
                case CLOSING -> "shutting down";
                default -> "closed";
            });
        } else {
            Duration waiting = vitals.waiting();
            if (!vitals.reachable()) {
                down.add("the database is unreachable: " + vitals.lastFailure());
            } else if (waiting.compareTo(UNANSWERED) > 0) {
                down.add("the database has not answered for " + waiting.toSeconds() + " s");
            }
            JobStore.ListenState listen = subscription.listenState();
            listening = listen == JobStore.ListenState.UP;
            if (listen == JobStore.ListenState.DOWN) {
                degraded.add("the LISTEN connection is down; polling every " + config.pollInterval() + " until it is back");
            }
            String table = tableHealth.problem();
            if (table != null) {
                degraded.add("job table: " + table);
            }
            pastTimeout = jobsPastTimeout();
            if (pastTimeout > 0) {
                degraded.add(pastTimeout + " jobs have run longer than their job type's timeout (their handlers "
                        + "ignore the interrupt)");
            }
            for (JobStore.UnservedJobs group : unserved.found()) {
                degraded.add(UnservedCheck.describe(group, config.unservedAfter()) + " and no live worker serves them");
            }
        }
        List<String> reasons = new ArrayList<>(down);
        reasons.addAll(degraded);
        dev.pgqueue.Health.Status status = !down.isEmpty() ? dev.pgqueue.Health.Status.DOWN
                : !degraded.isEmpty() ? dev.pgqueue.Health.Status.DEGRADED : dev.pgqueue.Health.Status.UP;
        return new dev.pgqueue.Health(status, reasons, vitals.lastClaim(), current == State.RUNNING && down.isEmpty(),
                listening, pastTimeout);
    }

    private int jobsPastTimeout() {
        int count = 0;
        for (RunningJob run : leases.all()) {
            Optional<Duration> timeout = run.registration() == null ? Optional.empty() : run.registration().type().timeout();
            if (run.isRunning() && timeout.isPresent() && run.runTime().compareTo(timeout.get()) > 0) {
                count++;
            }
        }
        return count;
    }

    /** See {@link dev.pgqueue.Worker#resize(String, int)}. */
    public void resize(String queue, int concurrency) {
        Check.notNull("queue", queue);
        if (!config.queues().containsKey(queue)) {
            throw new dev.pgqueue.ValidationException("queue to resize", "one this worker serves " + config.queues().keySet(), queue);
        }
        Check.atLeast("concurrency of queue " + queue, concurrency, 1);
        synchronized (resizing) {
            if (state != State.RUNNING) {
                throw new IllegalStateException("worker " + config.workerId() + " is not running; resize applies to a running worker");
            }
            Map<String, Integer> sizes = new java.util.HashMap<>(dispatcher.concurrency());
            sizes.put(queue, concurrency);
            int total = sizes.values().stream().mapToInt(Integer::intValue).sum();
            if (config.executor() == null && handlerExecutor instanceof ThreadPoolExecutor pool) {
                if (total > pool.getMaximumPoolSize()) {
                    pool.setMaximumPoolSize(total);
                    pool.setCorePoolSize(total);
                } else {
                    pool.setCorePoolSize(total);
                    pool.setMaximumPoolSize(total);
                }
            }
            int previous = dispatcher.resize(queue, concurrency);
            log.info("worker {}: queue {} now runs {} jobs at once (was {})", config.workerId(), queue, concurrency, previous);
        }
        maintenance.execute(presence::register); // the registry shows the new number
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "unknown-host";
        }
    }

    /**
     * What a fresh JVM would otherwise do while the first jobs wait (their handlers' threads, Jackson's
     * introspection of each payload class, decoding a payload as a claimed job's is decoded on its
     * handler's thread, the logging context, the store's first claims and outcome statements), done
     * before the first claim: without it a service that had just started ran its first jobs 85–700 ms
     * late, all of them waiting for the first one's JSON mapping. The sample payload is {@code {}}; a
     * type it does not map to loads the error path instead, and nothing is reported.
     */
    private void warmUp(ExecutorService executor, AttemptHost host) {
        if (executor instanceof ThreadPoolExecutor pool) {
            pool.prestartAllCoreThreads();
        }
        Instant now = Instant.now();
        for (HandlerRegistration<?> registration : config.handlers().values()) {
            config.codec().warm(registration.type());
            ClaimedJob sample = new ClaimedJob(UUID.randomUUID(), registration.type().name(), "warm-up", "{}", 1, 0, 0, 0,
                    now, now, null, UUID.randomUUID(), now, now, Map.of());
            new RunningJob(sample, registration, host).job();
        }
        org.slf4j.MDC.put(dev.pgqueue.Worker.MDC_JOB_ID, "");
        org.slf4j.MDC.remove(dev.pgqueue.Worker.MDC_JOB_ID);
        config.store().warmUp(config.types());
    }

    /**
     * A notification says a producer cancelled {@code jobId}. Any role that can connect can send one,
     * so it only makes this worker check the job's row, on the heartbeat thread, at most one check
     * queued per job it holds; a notification about any other job costs nothing.
     */
    private void cancelHinted(UUID jobId) {
        RunningJob run = leases.get(jobId);
        if (run == null || run.isFinished() || !run.heartbeating() || run.isCancellationRequested()
                || !run.markCancelCheckQueued()) {
            return;
        }
        try {
            heartbeatThread.execute(() -> heartbeat.checkCancel(run));
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            run.cancelCheckStarted();
        }
    }

    public void close() {
        boolean mine;
        synchronized (lifecycle) {
            switch (state) {
                case NEW -> {
                    state = State.CLOSED;
                    closed.countDown();
                    return;
                }
                case RUNNING -> {
                    state = State.CLOSING;
                    mine = true;
                }
                default -> mine = false;
            }
        }
        if (!mine) {
            awaitClosed(); // another caller is closing; wait for it to finish
            return;
        }
        try {
            shutDown();
        } finally {
            state = State.CLOSED;
            closed.countDown();
        }
    }

    private void shutDown() {
        long started = System.nanoTime();
        long deadline = started + config.shutdownTimeout().toNanos();
        log.info("worker {} stopping: no new claims, waiting up to {} for {} unfinished jobs",
                config.workerId(), config.shutdownTimeout(), dispatcher.runningJobs());
        fetcher.stop();
        // Closing the subscription waits for the listening thread; it must not delay anything else.
        Thread unsubscribe = threads("pgqueue-unsubscribe-" + config.workerId(), true).newThread(subscription::close);
        unsubscribe.start();
        join(fetcherThread, deadline);
        dispatcher.handBackWaiting();
        failJobsExitingTheJvm();
        if (!awaitIdle(deadline)) {
            log.warn("worker {} shutdown timeout passed with {} jobs unfinished; interrupting them",
                    config.workerId(), dispatcher.runningJobs());
            leases.stopAll(RunningJob.StopReason.SHUTDOWN);
            if (!awaitIdle(deadline + INTERRUPT_GRACE.toNanos())) {
                leaveStuckJobsToTheirLeases();
            }
        }
        completer.stop(deadline + FLUSH_GRACE.toNanos());
        join(completerThread, deadline + JOIN_GRACE.toNanos());
        // After the outcomes, so that no other worker takes this one for gone while they are written; on a
        // thread of its own, so that a registry row another session holds locked (or a database that does
        // not answer) cannot hold close() past its margin: left behind, it deletes the row later, or the
        // row ages out.
        Thread unregister = threads("pgqueue-unregister-" + config.workerId(), true).newThread(presence::unregister);
        unregister.start();
        join(unregister, deadline + JOIN_GRACE.toNanos());
        join(unsubscribe, deadline + JOIN_GRACE.toNanos());
        stopThreads();
        log.info("worker {} stopped in {} ms", config.workerId(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    }

    /**
     * A handler that called {@code System.exit} is why we are closing (from a shutdown hook), and it
     * never returns. Handing its job back would make it a poison pill that kills every worker that
     * claims it, forever, without ever counting an attempt; it counts as a failed attempt instead.
     */
    private void failJobsExitingTheJvm() {
        for (RunningJob run : leases.all()) {
            if (!run.isLeaseLost() && run.isExitingJvm()) {
                try (JobMdc mdc = JobMdc.of(run)) {
                    log.error("job {}'s handler called System.exit; recording the attempt as failed", run.name());
                }
                completer.submit(run, Outcomes.retry(run,
                        "the handler called System.exit: the worker's JVM shut down during this attempt", config.retryPolicy()));
                run.markLeaseLost();
                exitingJobs++;
            }
        }
    }

    /**
     * Jobs still unfinished after the interrupt grace. One that a foreign executor never started is
     * handed back: it never ran. One whose handler still runs (it ignores interruption) is not, since
     * another worker could then run it at the same time: it stays {@code processing} under this
     * worker's lease, which nothing extends once close() returns, and is rescued when that expires
     * (counted as a failed attempt). Whatever the handler does later is fenced out.
     */
    private void leaveStuckJobsToTheirLeases() {
        for (RunningJob run : leases.all()) {
            if (run.isFinished() || run.isLeaseLost()) {
                continue;
            }
            if (run.isRunning()) {
                try (JobMdc mdc = JobMdc.of(run)) {
                    log.warn("job {}'s handler ignored its interrupt; leaving the job to its lease, which is no longer "
                            + "extended: it is rescued when the lease expires", run.name());
                }
            } else {
                try (JobMdc mdc = JobMdc.of(run)) {
                    log.warn("job {} never started; handing it back", run.name());
                }
                completer.submit(run, run.finish(FinishKind.RELEASE, null, Duration.ZERO));
                run.markLeaseLost();
            }
        }
    }

    private void stopThreads() {
        for (ScheduledThreadPoolExecutor scheduler : new ScheduledThreadPoolExecutor[] {heartbeatThread, timer, maintenance}) {
            if (scheduler != null) {
                scheduler.shutdownNow();
            }
        }
        if (config.executor() == null && handlerExecutor != null) {
            handlerExecutor.shutdownNow();
        }
        if (fetcher != null) {
            fetcher.stop();
        }
    }

    private boolean awaitIdle(long deadlineNanos) {
        while (dispatcher.runningJobs() > exitingJobs) {
            if (System.nanoTime() >= deadlineNanos) {
                return false;
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    private void awaitClosed() {
        try {
            closed.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits for {@code thread} until {@code deadlineNanos} at the latest; one stuck in a database call is left behind. */
    private void join(Thread thread, long deadlineNanos) {
        try {
            long millis = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
            if (millis > 0) {
                thread.join(millis);
            }
            if (thread.isAlive()) {
                log.warn("worker {}: {} did not stop in time (stuck in a database call?); moving on, "
                        + "what it has not recorded is left to the jobs' leases", config.workerId(), thread.getName());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private ExecutorService newHandlerPool() {
        int threads = config.totalConcurrency();
        ThreadFactory factory = config.threadFactory() != null
                ? config.threadFactory()
                : threads("pgqueue-handler-" + config.workerId(), true);
        return new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), factory);
    }

    private static ScheduledThreadPoolExecutor scheduler(String name) {
        ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1, threads(name, true));
        scheduler.setRemoveOnCancelPolicy(true); // cancelled timeouts must not pile up until their delay
        return scheduler;
    }

    private static ThreadFactory threads(String prefix, boolean daemon) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + "-" + count.incrementAndGet());
            thread.setDaemon(daemon);
            return thread;
        };
    }

    /** What a running attempt asks of this worker: the codec, "now" for the store, and extending its lease now. */
    private static AttemptHost attemptHost(PayloadCodec codec, StoreNow now, Heartbeat heartbeat,
            java.util.function.BooleanSupplier closing) {
        return new AttemptHost() {
            @Override
            public boolean closing() {
                return closing.getAsBoolean();
            }

            @Override
            public PayloadCodec codec() {
                return codec;
            }

            @Override
            public Instant now() {
                return now.now();
            }

            @Override
            public void extendLease(RunningJob run) {
                heartbeat.extendNow(run);
            }
        };
    }
}
