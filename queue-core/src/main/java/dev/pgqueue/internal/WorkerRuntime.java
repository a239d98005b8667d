package dev.pgqueue.internal;

import dev.pgqueue.spi.JobStore.StoreListener;
import dev.pgqueue.spi.JobStore.Subscription;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires a worker's components together and runs their lifecycle: start, and the graceful close
 * (stop claiming, let running jobs finish until the deadline, interrupt and hand back the rest,
 * record every outcome, then stop the maintenance tasks).
 */
public final class WorkerRuntime {

    private static final Logger log = LoggerFactory.getLogger(WorkerRuntime.class);
    /** How long interrupted handlers get to return before their jobs are handed back regardless. */
    private static final Duration INTERRUPT_GRACE = Duration.ofSeconds(2);
    /** How long close() keeps trying to record outcomes while the database is unreachable. */
    private static final Duration FLUSH_GRACE = Duration.ofSeconds(10);

    private enum State { NEW, RUNNING, CLOSING, CLOSED }

    private final WorkerConfig config;
    private final Events events;
    private final AtomicReference<State> state = new AtomicReference<>(State.NEW);
    private final CountDownLatch closed = new CountDownLatch(1);

    private ExecutorService handlerExecutor;
    private ScheduledExecutorService scheduler;
    private Dispatcher dispatcher;
    private Fetcher fetcher;
    private Completer completer;
    private Heartbeat heartbeat;
    private Thread fetcherThread;
    private Thread completerThread;
    private Subscription subscription;
    /** Handlers blocked in System.exit (see {@link #failJobsExitingTheJvm()}): they never free their slot. */
    private int exitingJobs;

    public WorkerRuntime(WorkerConfig config) {
        this.config = config;
        this.events = new Events(config.listener());
    }

    public WorkerConfig config() {
        return config;
    }

    public boolean isRunning() {
        return state.get() == State.RUNNING;
    }

    public int runningJobs() {
        return dispatcher == null ? 0 : dispatcher.runningJobs();
    }

    public void start() {
        if (!state.compareAndSet(State.NEW, State.RUNNING)) {
            throw new IllegalStateException("worker " + config.workerId() + " was already started");
        }
        String id = config.workerId();
        scheduler = new ScheduledThreadPoolExecutor(2, threads("pgqueue-maintenance-" + id, true));
        handlerExecutor = config.executor() != null ? config.executor() : newHandlerPool();
        dispatcher = new Dispatcher(this, handlerExecutor, scheduler);
        fetcher = new Fetcher(this);
        completer = new Completer(this);
        heartbeat = new Heartbeat(this);
        Rescuer rescuer = new Rescuer(this);

        completerThread = threads("pgqueue-completer-" + id, true).newThread(completer);
        completerThread.start();
        subscription = config.store().subscribe(new StoreListener() {
            @Override
            public void jobsAvailable(String queue) {
                fetcher.jobsAvailable(queue);
            }

            @Override
            public void cancelRequested(UUID jobId) {
                dispatcher.cancelRequested(jobId);
            }

            @Override
            public void reconnected() {
                fetcher.reconnected();
            }
        });
        // Not a daemon: a running worker keeps the JVM alive, as a server would, until closed.
        fetcherThread = threads("pgqueue-fetcher-" + id, false).newThread(fetcher);
        fetcherThread.start();

        long beat = config.heartbeatInterval().toNanos();
        scheduler.scheduleWithFixedDelay(heartbeat::beat, beat, beat, TimeUnit.NANOSECONDS);
        long rescue = config.rescueInterval().toNanos();
        scheduler.scheduleWithFixedDelay(
                rescuer::rescue, ThreadLocalRandom.current().nextLong(rescue / 2 + 1), rescue, TimeUnit.NANOSECONDS);
        if (!config.retention().isEmpty()) {
            Pruner pruner = new Pruner(this);
            long prune = config.pruneInterval().toNanos();
            scheduler.scheduleWithFixedDelay(
                    pruner::prune, ThreadLocalRandom.current().nextLong(prune / 2 + 1), prune, TimeUnit.NANOSECONDS);
        }
        TableHealthCheck health = new TableHealthCheck(this);
        long check = config.tableHealthInterval().toNanos();
        scheduler.scheduleWithFixedDelay(health::check, check, check, TimeUnit.NANOSECONDS);
        log.info("worker {} started: queues {}, job types {}", id, config.queues(), config.types());
    }

    public void close() {
        if (state.compareAndSet(State.NEW, State.CLOSED)) {
            closed.countDown();
            return;
        }
        if (!state.compareAndSet(State.RUNNING, State.CLOSING)) {
            awaitClosed();
            return;
        }
        try {
            shutDown();
        } finally {
            state.set(State.CLOSED);
            closed.countDown();
        }
    }

    private void shutDown() {
        long started = System.nanoTime();
        log.info("worker {} stopping: no new claims, waiting up to {} for {} running jobs",
                config.workerId(), config.shutdownTimeout(), dispatcher.runningJobs());
        fetcher.stop();
        join(fetcherThread);
        failJobsExitingTheJvm();
        if (!awaitIdle(started + config.shutdownTimeout().toNanos())) {
            log.warn("worker {} shutdown timeout passed with {} jobs running; interrupting them and handing them back",
                    config.workerId(), dispatcher.runningJobs());
            dispatcher.stopAll(RunningJob.StopReason.SHUTDOWN);
            if (!awaitIdle(System.nanoTime() + INTERRUPT_GRACE.toNanos())) {
                handBackStuckJobs();
            }
        }
        subscription.close();
        completer.stop(System.nanoTime() + FLUSH_GRACE.toNanos());
        join(completerThread);
        scheduler.shutdownNow();
        if (config.executor() == null) {
            handlerExecutor.shutdownNow();
        }
        log.info("worker {} stopped in {} ms", config.workerId(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    }

    /**
     * A handler that called {@code System.exit} is why we are closing (from a shutdown hook), and it
     * never returns. Handing its job back would make it a poison pill that kills every worker that
     * claims it, forever, without ever counting an attempt; it counts as a failed attempt instead.
     */
    private void failJobsExitingTheJvm() {
        for (RunningJob run : dispatcher.leased()) {
            if (!run.isLeaseLost() && run.isExitingJvm()) {
                log.error("job {}'s handler called System.exit; recording the attempt as failed", run.name());
                completer.submit(run, Outcomes.retry(run,
                        "the handler called System.exit: the worker's JVM shut down during this attempt", config.retryPolicy()));
                run.markLeaseLost();
                exitingJobs++;
            }
        }
    }

    /** Handlers that ignore interruption: give their jobs back now; whatever they do later is fenced out. */
    private void handBackStuckJobs() {
        for (RunningJob run : dispatcher.leased()) {
            if (run.isRunning() && !run.isLeaseLost()) {
                log.warn("job {}'s handler ignores interruption; handing the job back while it still runs", run.name());
                completer.submit(run, run.finish(dev.pgqueue.spi.JobStore.FinishKind.RELEASE, null, Duration.ZERO));
                run.markLeaseLost();
            }
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

    private static void join(Thread thread) {
        try {
            thread.join();
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

    private static ThreadFactory threads(String prefix, boolean daemon) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + "-" + count.incrementAndGet());
            thread.setDaemon(daemon);
            return thread;
        };
    }

    Events events() {
        return events;
    }

    Dispatcher dispatcher() {
        return dispatcher;
    }

    Fetcher fetcher() {
        return fetcher;
    }

    Completer completer() {
        return completer;
    }

    Heartbeat heartbeat() {
        return heartbeat;
    }
}
