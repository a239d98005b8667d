package dev.pgqueue;

import dev.pgqueue.internal.Check;
import dev.pgqueue.internal.HandlerRegistration;
import dev.pgqueue.internal.PayloadCodec;
import dev.pgqueue.internal.RecurringJob;
import dev.pgqueue.internal.WorkerConfig;
import dev.pgqueue.internal.WorkerRuntime;
import dev.pgqueue.spi.JobStore;
import dev.pgqueue.spi.JobStore.QueuePolicy;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Runs jobs: embed one in any service. A worker serves named queues, each with its own
 * concurrency, and claims only the job types it has handlers for, so several services can share
 * one table.
 *
 * <pre>{@code
 * Worker worker = Worker.builder(store)
 *         .handler(GENERATE_IMAGE, (job, context) -> { render(job.payload()); return JobOutcome.done(); })
 *         .queue("default", 8)
 *         .build();
 * worker.start();
 * ...
 * worker.close(); // graceful: lets running jobs finish, hands the rest back
 * }</pre>
 *
 * <p><b>How it runs.</b> A fetcher claims batches sized to the free slots of each queue (plus a
 * few milliseconds of work ahead when handlers are fast, see {@link Builder#claimAhead}) in one
 * round trip, woken within milliseconds by the insert trigger's NOTIFY (or this process's own
 * enqueues), at the next known due time, or else every {@link Builder#pollInterval poll interval}.
 * Handlers run on the worker's executor. Outcomes are recorded by a completer, many jobs per
 * statement, off the handler threads. A heartbeat keeps running jobs' leases alive; a rescuer
 * returns jobs whose lease expired (a crashed worker's) to the queue; an optional pruner deletes
 * old finished jobs. A progress writer stores handlers' progress reports, throttled; with
 * {@link Builder#recurring recurring jobs}, a scheduler enqueues their ticks, each exactly once
 * across all workers.
 *
 * <p><b>Limits and fairness.</b> {@link Builder#globalConcurrency global concurrency limits},
 * {@link Builder#rateLimit rate limits} and {@link Builder#fairness fair queues} are stored in the
 * database, so that every worker of the table obeys them, and enforced by the claim itself.
 *
 * <p><b>Operations.</b> A queue paused for every worker ({@code job_queue_pause(queue)}, or
 * {@code JobAdmin.pause}) is not claimed from within about a second (the worker re-reads the paused
 * queues every second and at once on a notification); {@link #resize} changes a queue's concurrency
 * on this worker at runtime. The worker records itself in the worker registry at start, renews its
 * entry every {@link Builder#presenceInterval presence interval} and removes it on close; when a
 * worker's entry goes stale, the others rescue its jobs without waiting for their leases.
 * {@link #health()} is what a readiness or liveness probe reads. See docs/operations.md.
 *
 * <p><b>Guarantees.</b> At-least-once: a job runs again if its worker dies or loses its lease.
 * Outcomes are fenced: an attempt that lost its lease cannot overwrite a later attempt's outcome.
 * Database errors never stop a worker; it logs them and backs off with jitter.
 *
 * <p><b>Connections.</b> From the store's pool: one held for LISTEN while the worker runs (when
 * notifications are on), and up to four borrowed briefly at once (fetch, complete, heartbeat,
 * maintenance), plus one per running transactional handler: a pool of at least
 * {@code 1 + 4 + concurrency} when handlers are transactional. {@link #start()} warns, with these
 * numbers, when the store can tell that its pool is smaller (HikariCP).
 *
 * <p>Thread-safe. {@link #start()} once; {@link #close()} is idempotent.
 */
public final class Worker implements AutoCloseable {

    /** The queue a worker serves when none is configured: {@value}. */
    public static final String DEFAULT_QUEUE = EnqueueOptions.DEFAULT_QUEUE;
    /** Jobs a queue runs at once when not configured: {@value}. */
    public static final int DEFAULT_CONCURRENCY = 10;
    /** Most jobs claimed in one round trip by default: {@value}. */
    public static final int DEFAULT_BATCH_SIZE = 500;
    /** Default claim-ahead: 10 ms of work beyond the free slots. */
    public static final Duration DEFAULT_CLAIM_AHEAD = Duration.ofMillis(10);
    /** Default interval between polls of an idle worker: 2 s. */
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(2);
    /** Default lease of a claimed job: 60 s. */
    public static final Duration DEFAULT_LEASE_DURATION = Duration.ofSeconds(60);
    /** Default interval between lease extensions: 15 s. */
    public static final Duration DEFAULT_HEARTBEAT_INTERVAL = Duration.ofSeconds(15);
    /** Default interval between looks for expired leases: 30 s. */
    public static final Duration DEFAULT_RESCUE_INTERVAL = Duration.ofSeconds(30);
    /**
     * Default time {@link #close()} lets running jobs finish: 25 s, below the 30 s that Kubernetes
     * (and many other orchestrators) waits between SIGTERM and SIGKILL, so that the hand-back of
     * unfinished jobs is not cut off. Keep it below your platform's grace period.
     */
    public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(25);
    /** Default interval of the pruner when a retention is set: 1 min. */
    public static final Duration DEFAULT_PRUNE_INTERVAL = Duration.ofMinutes(1);
    /** Default interval between progress writes per running job: 1 s. */
    public static final Duration DEFAULT_PROGRESS_INTERVAL = Duration.ofSeconds(1);
    /**
     * Default interval at which a worker renews its entry in the worker registry: 3 s. A worker that
     * has not renewed it for {@value dev.pgqueue.spi.JobStore#WORKER_STALE_INTERVALS} intervals counts
     * as dead, and the others rescue its jobs then, long before their leases expire.
     */
    public static final Duration DEFAULT_PRESENCE_INTERVAL = Duration.ofSeconds(3);
    /**
     * Default time after which pending jobs that no live worker serves are reported in
     * {@link #health()} and the log: 5 min.
     */
    public static final Duration DEFAULT_UNSERVED_AFTER = Duration.ofMinutes(5);
    /** Default interval between table health checks: 1 min. */
    public static final Duration DEFAULT_TABLE_HEALTH_INTERVAL = Duration.ofMinutes(1);
    /** The shortest rate limit period; the database counts time in microseconds. */
    public static final Duration MIN_RATE_PERIOD = Duration.ofMillis(1);
    /** Longest {@code error_message} a worker stores; longer ones are cut and marked. */
    public static final int MAX_ERROR_MESSAGE_LENGTH = 8_000;
    /** How much longer than its shutdown timeout {@link #close()} may take, at most. */
    public static final long CLOSE_MARGIN_MILLIS = 500;
    /**
     * The SLF4J MDC key that holds the running job's id, {@value}, on the handler's thread while the
     * handler runs (removed when it returns), so that log lines written by handlers name their job.
     */
    public static final String MDC_JOB_ID = "pgqueue.jobId";
    /** The SLF4J MDC key that holds the running job's type name, {@value}, like {@link #MDC_JOB_ID}. */
    public static final String MDC_JOB_TYPE = "pgqueue.jobType";

    private final WorkerRuntime runtime;

    private Worker(WorkerRuntime runtime) {
        this.runtime = runtime;
    }

    /**
     * Starts configuring a worker over {@code store}.
     *
     * @param store the store to claim jobs from and record outcomes in; not null
     * @return a builder with every option at its default
     */
    public static Builder builder(JobStore store) {
        return new Builder(store);
    }

    /**
     * Starts claiming and running jobs.
     *
     * @throws IllegalStateException if started before or already closed
     */
    public void start() {
        runtime.start();
    }

    /**
     * Stops gracefully: stops claiming, lets running jobs finish until the shutdown timeout, then
     * interrupts the rest; an interrupted job goes back to {@code pending} without counting an
     * attempt, and jobs claimed ahead that never started go back the same way. Returns within the
     * shutdown timeout plus {@value #CLOSE_MARGIN_MILLIS} ms, whatever handlers and the database do:
     * <ul>
     *   <li>a handler that ignores its interrupt is not handed back while its thread still runs
     *       (another worker would run the job at the same time): its job stays {@code processing}
     *       under this worker's lease, which nothing extends once {@code close()} returns, and is
     *       rescued when the lease expires, counted as a failed attempt; its late outcome is fenced
     *       out;</li>
     *   <li>an outcome that cannot be recorded in time (the database is slow or unreachable) is left
     *       to its lease the same way.</li>
     * </ul>
     * Idempotent; concurrent callers all wait.
     */
    @Override
    public void close() {
        runtime.close();
    }

    /**
     * Whether the worker has started and not yet been closed: its lifecycle only. It stays true while
     * the database is unreachable (the worker keeps retrying and recovers by itself); a readiness or
     * liveness probe should read {@link #health()}, which says DOWN then.
     *
     * @return true between {@link #start()} and {@link #close()}
     */
    public boolean isRunning() {
        return runtime.isRunning();
    }

    /**
     * The worker's health, for a readiness or liveness probe: DOWN when it is not running, the latest
     * round trip to the database failed, or its once-a-second read of the paused queues has waited
     * more than 3 s for an answer (a pool may wait its whole connection timeout before failing), so
     * an outage shows within a few seconds, and its recovery as fast; DEGRADED, with a reason each, when its LISTEN
     * connection is down (it polls meanwhile), the job table's dead rows are not being cleaned up
     * ({@link WorkerListener#tableUnhealthy}), handlers run past their job type's timeout, or (on the
     * oldest live worker of the registry, which alone runs that check) pending jobs have waited longer
     * than {@link Builder#unservedAfter} with no live worker serving their queue and type; UP otherwise. Cheap: it reads what the worker's threads last saw, never the
     * database.
     *
     * @return the health now
     */
    public Health health() {
        return runtime.health();
    }

    /**
     * Changes how many jobs of {@code queue} this worker runs at once, at runtime and for this worker
     * only. Growing takes effect at once (waiting jobs start, the next claim takes more); shrinking
     * lets running jobs finish and claims nothing more from the queue until fewer than
     * {@code concurrency} of its jobs run. The worker's own handler pool grows and shrinks with it (an
     * executor given with {@link Builder#executor} is left as it is). The worker registry shows the new
     * number. For a limit across every worker, use {@link Builder#globalConcurrency} or change
     * {@code job_queue_policy.max_running} (docs/operations.md).
     *
     * @param queue       a queue this worker serves
     * @param concurrency jobs run at once, at least 1
     * @throws ValidationException if the worker does not serve {@code queue} or {@code concurrency} is below 1
     * @throws IllegalStateException if the worker is closing or closed
     */
    public void resize(String queue, int concurrency) {
        runtime.resize(queue, concurrency);
    }

    /** {@return this worker's id, recorded as {@code lease_owner} on the jobs it claims} */
    public String workerId() {
        return runtime.config().workerId();
    }

    /**
     * Jobs this worker is running right now.
     *
     * @return the number of jobs whose handlers are running, at least 0
     */
    public int runningJobs() {
        return runtime.runningJobs();
    }

    @Override
    public String toString() {
        return "Worker[" + workerId() + ", queues " + runtime.config().queues() + "]";
    }

    /**
     * Options for a {@link Worker}. The store and at least one handler are required; everything
     * else has a default (the public constants of {@link Worker}). Values are checked when set and
     * again by {@link #build()}, with messages of the form
     * {@code expected pollInterval to be > 0, got: PT0S}.
     */
    public static final class Builder {
        private final JobStore store;
        private final Map<String, HandlerRegistration<?>> handlers = new LinkedHashMap<>();
        private final Map<String, Integer> queues = new LinkedHashMap<>();
        private final Map<JobStatus, Duration> retention = new EnumMap<>(JobStatus.class);
        private int batchSize = DEFAULT_BATCH_SIZE;
        private Duration claimAhead = DEFAULT_CLAIM_AHEAD;
        private Duration pollInterval = DEFAULT_POLL_INTERVAL;
        private Duration leaseDuration = DEFAULT_LEASE_DURATION;
        private Duration heartbeatInterval = DEFAULT_HEARTBEAT_INTERVAL;
        private Duration rescueInterval = DEFAULT_RESCUE_INTERVAL;
        private Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;
        private Duration pruneInterval = DEFAULT_PRUNE_INTERVAL;
        private Duration progressInterval = DEFAULT_PROGRESS_INTERVAL;
        private final Map<String, PendingRecurring<?>> recurring = new LinkedHashMap<>();
        private Duration tableHealthInterval = DEFAULT_TABLE_HEALTH_INTERVAL;
        private Duration presenceInterval = DEFAULT_PRESENCE_INTERVAL;
        private Duration unservedAfter = DEFAULT_UNSERVED_AFTER;
        /** Declared limits and fairness by "queue/type" ("queue/" for the whole queue), merged. */
        private final Map<String, QueuePolicy> policies = new LinkedHashMap<>();
        private RetryPolicy retryPolicy = RetryPolicy.DEFAULT;
        private ExecutorService executor;
        private ThreadFactory threadFactory;
        private Clock clock;
        private String workerId;
        private final List<WorkerListener> listeners = new ArrayList<>();
        private final List<JobInterceptor> interceptors = new ArrayList<>();
        private boolean logPayloads;

        private Builder(JobStore store) {
            this.store = Check.notNull("store", store);
        }

        /**
         * Runs jobs of {@code type} with {@code handler}. One handler per type; the type's retry
         * policy and timeout apply to its jobs.
         *
         * @param <P> the payload type
         * @param type the job type; its name must be unique on this worker
         * @param handler runs the type's jobs; must be thread-safe
         * @return this builder
         */
        public <P> Builder handler(JobType<P> type, JobHandler<P> handler) {
            Check.notNull("type", type);
            Check.notNull("handler", handler);
            if (handlers.containsKey(type.name())) {
                throw new ValidationException("handler", "registered once per job type", type.name() + " (twice)");
            }
            handlers.put(type.name(), new HandlerRegistration<>(type, handler));
            return this;
        }

        /**
         * Serves {@code queue} with up to {@code concurrency} jobs at once. Call once per queue.
         * Default: the queue {@value Worker#DEFAULT_QUEUE} with {@value Worker#DEFAULT_CONCURRENCY}.
         * Naming any queue replaces that default: to keep serving {@value Worker#DEFAULT_QUEUE} (where
         * jobs go unless enqueued with {@link EnqueueOptions#queue}), name it too. A worker that does
         * not serve it warns at start. {@link Worker#resize} changes the concurrency at runtime.
         *
         * @param queue the queue's name
         * @param concurrency jobs run at once, at least 1
         * @return this builder
         */
        public Builder queue(String queue, int concurrency) {
            Check.queue("queue", queue);
            Check.atLeast("concurrency of queue " + queue, concurrency, 1);
            queues.put(queue, concurrency);
            return this;
        }

        /**
         * Most jobs claimed in one round trip. A claim never takes more than the queue's free slots
         * plus what {@link #claimAhead claim-ahead} allows. Default {@value Worker#DEFAULT_BATCH_SIZE}.
         *
         * @param batchSize jobs per claim, at least 1
         * @return this builder
         */
        public Builder batchSize(int batchSize) {
            this.batchSize = Check.atLeast("batchSize", batchSize, 1);
            return this;
        }

        /**
         * How much work a queue may claim beyond its free slots, as time: when its handlers are fast,
         * the worker claims enough extra jobs to keep every slot busy for about this long (by their
         * average run time so far, at most {@link #batchSize} extra), so that short jobs are claimed
         * many per round trip instead of one per free slot. Whatever the handlers' run time, at least
         * four claim round trips' worth of work (by the claims' average time) may wait, so that a freed
         * slot does not wait for the database even when a claim is slower than usual; handlers that
         * take longer than four round trips times the concurrency get none. Such a job holds its lease while it waits for a slot (the heartbeat
         * renews it; its timeout starts when it starts); it never waits for a slow job, since slow
         * handlers leave nothing to claim ahead. Jobs still waiting when the worker closes are handed
         * back at once. {@link Duration#ZERO} claims only free slots. Default 10 ms.
         *
         * @param claimAhead the claim-ahead time; zero or positive
         * @return this builder
         */
        public Builder claimAhead(Duration claimAhead) {
            this.claimAhead = Check.notNegative("claimAhead", claimAhead);
            return this;
        }

        /**
         * How often an idle worker looks for jobs when nothing woke it. NOTIFY wakes it at once, so
         * this only matters for missed notifications and with notifications off (then lower it).
         *
         * @param pollInterval the idle poll interval; positive
         * @return this builder
         */
        public Builder pollInterval(Duration pollInterval) {
            this.pollInterval = Check.positive("pollInterval", pollInterval);
            return this;
        }

        /**
         * How long a claimed job stays leased without a heartbeat. A crashed worker's jobs come back
         * this long after its last heartbeat; raise it if heartbeats may stall longer (long GC pauses).
         *
         * @param leaseDuration the lease length; positive
         * @return this builder
         */
        public Builder leaseDuration(Duration leaseDuration) {
            this.leaseDuration = Check.positive("leaseDuration", leaseDuration);
            return this;
        }

        /**
         * How often running jobs' leases are extended. Must be shorter than the lease; a third of it is good.
         *
         * @param heartbeatInterval the heartbeat interval; positive and shorter than the lease
         * @return this builder
         */
        public Builder heartbeatInterval(Duration heartbeatInterval) {
            this.heartbeatInterval = Check.positive("heartbeatInterval", heartbeatInterval);
            return this;
        }

        /**
         * How often this worker looks for expired leases to rescue (any worker may rescue any job).
         *
         * @param rescueInterval the rescue interval; positive
         * @return this builder
         */
        public Builder rescueInterval(Duration rescueInterval) {
            this.rescueInterval = Check.positive("rescueInterval", rescueInterval);
            return this;
        }

        /**
         * How long {@link Worker#close()} lets running jobs finish before interrupting them; close()
         * returns within this plus {@link Worker#CLOSE_MARGIN_MILLIS}. Handlers see
         * {@link JobContext#shouldStop()} turn true as soon as close() begins. Default 25 s: keep it
         * below the time your platform waits between SIGTERM and SIGKILL (Kubernetes'
         * {@code terminationGracePeriodSeconds}, 30 s by default), or the hand-back is cut off.
         *
         * @param shutdownTimeout the grace period; zero or positive
         * @return this builder
         */
        public Builder shutdownTimeout(Duration shutdownTimeout) {
            this.shutdownTimeout = Check.notNegative("shutdownTimeout", shutdownTimeout);
            return this;
        }

        /**
         * The retry policy of job types that have none of their own. Default {@link RetryPolicy#DEFAULT}.
         *
         * @param retryPolicy the fallback policy; not null
         * @return this builder
         */
        public Builder retryPolicy(RetryPolicy retryPolicy) {
            this.retryPolicy = Check.notNull("retryPolicy", retryPolicy);
            return this;
        }

        /**
         * Runs handlers on {@code executor}, which the worker does not shut down. It must run tasks
         * concurrently, up to the sum of the queues' concurrency. Default: a pool of that many
         * platform threads, owned and shut down by the worker.
         *
         * @param executor runs handlers; not shut down by the worker
         * @return this builder
         */
        public Builder executor(ExecutorService executor) {
            this.executor = Check.notNull("executor", executor);
            return this;
        }

        /**
         * Makes the handler threads of the default pool with {@code threadFactory}; on Java 21+
         * {@code Thread.ofVirtual().factory()} gives virtual threads.
         *
         * @param threadFactory makes the default pool's threads
         * @return this builder
         */
        public Builder threadFactory(ThreadFactory threadFactory) {
            this.threadFactory = Check.notNull("threadFactory", threadFactory);
            return this;
        }

        /**
         * The clock for "now" in leases and due times. Default: the database's clock, which is what
         * production should use; tests pass a settable clock to move time without sleeping.
         *
         * @param clock the source of "now"; not null
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Check.notNull("clock", clock);
            return this;
        }

        /**
         * This worker's id in {@code lease_owner} and logs. Default: host, process id and a random suffix.
         *
         * @param workerId the id; 1-200 characters, not blank
         * @return this builder
         */
        public Builder workerId(String workerId) {
            Check.notNull("workerId", workerId);
            if (workerId.isBlank() || workerId.length() > 200) {
                throw new ValidationException("workerId", "1-200 characters, not blank", workerId);
            }
            this.workerId = workerId;
            return this;
        }

        /**
         * Whether log lines may quote payload content: the part of a payload that does not map to its
         * class, which is often personal data. Default false: the log says which job and that its
         * payload does not map, and the full message is in the job's {@code error_message} only. Even
         * when true, logged text is escaped and cut to a kilobyte.
         *
         * @param logPayloads true to allow payload excerpts in log lines
         * @return this builder
         */
        public Builder logPayloads(boolean logPayloads) {
            this.logPayloads = logPayloads;
            return this;
        }

        /**
         * Adds a receiver of the worker's events (job outcomes, rescues, table health); its methods must
         * return quickly. Call once per listener (the application's own, a metrics module's, ...): each
         * hears every event, in the order added, and one that throws keeps none of the others from
         * hearing it. Default: none.
         *
         * @param listener the listener; not null
         * @return this builder
         */
        public Builder listener(WorkerListener listener) {
            listeners.add(Check.notNull("listener", listener));
            return this;
        }

        /**
         * Adds an interceptor that runs around every attempt, on the handler's thread (tracing,
         * timing). Call once per interceptor: they nest in the order added, the first outermost, the
         * handler innermost. Default: none, and then the handler is called directly.
         *
         * @param interceptor the interceptor; not null
         * @return this builder
         */
        public Builder interceptor(JobInterceptor interceptor) {
            interceptors.add(Check.notNull("interceptor", interceptor));
            return this;
        }

        /**
         * Deletes jobs that reached {@code status} (completed, failed or cancelled) longer than
         * {@code keepFor} ago, in small batches. Default: keep every job, as the seed does.
         *
         * @param status a final status
         * @param keepFor how long to keep such jobs; positive
         * @return this builder
         */
        public Builder retention(JobStatus status, Duration keepFor) {
            Check.notNull("status", status);
            if (!status.isFinal()) {
                throw new ValidationException("retention status", "completed, failed or cancelled", status);
            }
            retention.put(status, Check.notNegative("keepFor", keepFor));
            return this;
        }

        /**
         * How often the pruner runs when a retention is set.
         *
         * @param pruneInterval the pruner's interval; positive
         * @return this builder
         */
        public Builder pruneInterval(Duration pruneInterval) {
            this.pruneInterval = Check.positive("pruneInterval", pruneInterval);
            return this;
        }

        /**
         * How often running jobs' latest progress reports ({@link JobContext#reportProgress}) are
         * written: at most one row update per running job per interval. Default 1 s.
         *
         * @param progressInterval the interval; positive
         * @return this builder
         */
        public Builder progressInterval(Duration progressInterval) {
            this.progressInterval = Check.positive("progressInterval", progressInterval);
            return this;
        }

        /**
         * Enqueues a job of {@code type} with {@code payload} at every tick of {@code schedule}, with
         * default options. See {@link #recurring(String, JobType, Object, Schedule, EnqueueOptions)}.
         *
         * @param <P> the payload type
         * @param name a stable name for the schedule, unique on this worker
         * @param type the job type to enqueue
         * @param payload the payload of every tick's job
         * @param schedule when to enqueue
         * @return this builder
         */
        public <P> Builder recurring(String name, JobType<P> type, P payload, Schedule schedule) {
            return recurring(name, type, payload, schedule, EnqueueOptions.defaults());
        }

        /**
         * Enqueues a job of {@code type} with {@code payload} at every tick of {@code schedule}, due at
         * the tick, on the queue and with the priority, max retries and user of {@code options}.
         *
         * <p>Each tick is enqueued exactly once however many workers carry the same schedule (no
         * leader: the tick's job has the dedupe key {@code recurring:<name>@<tick in UTC>}, unique in
         * every status, so the database keeps one). The job then runs at least once, as every job.
         * Ticks missed while no worker ran follow the schedule's policy ({@link Schedule#catchUp}).
         * Schedules live in code only: changing or removing one takes effect as workers with the new
         * code start (at most the tick due within the next poll interval may already be enqueued).
         * This worker need not run {@code type} itself; whichever worker has its handler does.
         *
         * @param name a stable name for the schedule, unique on this worker: renaming it starts a new
         *             schedule (its first tick is the next one to come). Same rule as job type names
         * @param <P> the payload type
         * @param type the job type to enqueue
         * @param payload the payload of every tick's job
         * @param schedule when to enqueue
         * @param options the queue, priority, max retries and user of every tick's job
         * @return this builder
         * @throws ValidationException if the name is invalid or taken, or {@code options} set a due
         *     time, delay, dedupe key or uniqueness (the schedule decides those)
         */
        public <P> Builder recurring(String name, JobType<P> type, P payload, Schedule schedule, EnqueueOptions options) {
            RecurringJob.checkRegistration(name, options);
            Check.notNull("type", type);
            Check.notNull("payload", payload);
            Check.notNull("schedule", schedule);
            if (recurring.containsKey(name)) {
                throw new ValidationException("recurring job name", "unique on a worker", name + " (twice)");
            }
            recurring.put(name, new PendingRecurring<>(name, type, payload, schedule, options));
            return this;
        }

        /**
         * How often the worker checks that the job table's dead rows get cleaned up, and how long a
         * transaction elsewhere may hold back their cleanup before it is reported (see
         * {@link WorkerListener#tableUnhealthy}). Default one minute.
         *
         * @param tableHealthInterval the check interval; positive
         * @return this builder
         */
        public Builder tableHealthInterval(Duration tableHealthInterval) {
            this.tableHealthInterval = Check.positive("tableHealthInterval", tableHealthInterval);
            return this;
        }

        /**
         * How often the worker renews its entry in the worker registry (one small update). When a
         * worker has not renewed it for {@value dev.pgqueue.spi.JobStore#WORKER_STALE_INTERVALS}
         * intervals (it crashed, or is cut off from the database), any other worker rescues its jobs
         * at once, without waiting for their leases to expire: with the default 3 s, a killed worker's
         * jobs are pending again within about 12 s. Its late outcomes are fenced out, as after any
         * rescue. Raise it if a worker may stall longer than three intervals (long GC pauses) and a
         * second run of its jobs meanwhile is costly. Default 3 s.
         *
         * @param presenceInterval the renewal interval; positive
         * @return this builder
         */
        public Builder presenceInterval(Duration presenceInterval) {
            this.presenceInterval = Check.positive("presenceInterval", presenceInterval);
            return this;
        }

        /**
         * How long pending jobs may have been due, with no live worker serving their queue and type,
         * before {@link Worker#health()} reports them (DEGRADED) and the worker logs them. Checked every
         * {@link #tableHealthInterval} by the oldest live worker of the registry only (the check reads
         * the pending jobs due before the cut-off). Default 5 minutes.
         *
         * @param unservedAfter the time; positive
         * @return this builder
         */
        public Builder unservedAfter(Duration unservedAfter) {
            this.unservedAfter = Check.positive("unservedAfter", unservedAfter);
            return this;
        }

        /**
         * A global concurrency limit: at most {@code max} jobs of {@code queue} {@code processing} at
         * once, counted across every worker that claims from this table, not per worker. Enforced by
         * the database at claim time: claims for a limited queue take a transaction-scoped advisory
         * lock of that limit (other queues, and queues without limits, claim exactly as before), count
         * the jobs running under it, and claim no more than the rest. Jobs that were already running
         * when the limit was first set do not count toward it.
         *
         * <p>The limit is stored in the table {@code job_queue_policy}, written when this worker
         * starts; every worker reads that table at start and every few seconds (see
         * {@code JdbiJobStore.Builder.policyRefreshInterval}), so workers that do not declare it obey
         * it too. A worker never removes a stored limit: to lift one, change the table (docs/limits.md,
         * "Limits"). Combine with {@link #queue(String, int)}, which limits this worker alone.
         *
         * @param queue the queue's name
         * @param max jobs processing at once across all workers, at least 1
         * @return this builder
         * @throws ValidationException if the queue name is invalid or {@code max} is below 1
         */
        public Builder globalConcurrency(String queue, int max) {
            Check.queue("queue", queue);
            Check.atLeast("globalConcurrency of queue " + queue, max, 1);
            return policy(new QueuePolicy(queue, null, max, null, null, null));
        }

        /**
         * A global concurrency limit for the jobs of {@code type} in {@code queue}; see
         * {@link #globalConcurrency(String, int)}. Applies together with the queue's own limit, if any.
         *
         * @param queue the queue's name
         * @param type the job type
         * @param max jobs of the type processing at once across all workers, at least 1
         * @return this builder
         */
        public Builder globalConcurrency(String queue, JobType<?> type, int max) {
            Check.queue("queue", queue);
            Check.notNull("type", type);
            Check.atLeast("globalConcurrency of " + type.name() + " in queue " + queue, max, 1);
            return policy(new QueuePolicy(queue, type.name(), max, null, null, null));
        }

        /**
         * A rate limit: at most {@code starts} jobs of {@code queue} start (are claimed, retries
         * included) within any window of {@code period}, across every worker of the table. Enforced
         * and stored like {@link #globalConcurrency(String, int)}: each start under the limit is
         * recorded, and a claim takes no more than {@code starts} minus the starts of the last
         * {@code period} (by the database's clock, or the worker's {@link #clock}). A worker whose
         * claim the limit held back tries again when the window moves on.
         *
         * @param queue the queue's name
         * @param starts jobs started per window, at least 1
         * @param period the window
         * @return this builder
         * @throws ValidationException if {@code starts} is below 1 or {@code period} is shorter than
         *     {@link Worker#MIN_RATE_PERIOD} or longer than about 1,000 years
         */
        public Builder rateLimit(String queue, int starts, Duration period) {
            Check.queue("queue", queue);
            Check.atLeast("rateLimit starts of queue " + queue, starts, 1);
            ratePeriod("rateLimit period of queue " + queue, period);
            return policy(new QueuePolicy(queue, null, null, starts, period, null));
        }

        /**
         * A rate limit for the jobs of {@code type} in {@code queue}; see {@link #rateLimit(String, int, Duration)}.
         *
         * @param queue the queue's name
         * @param type the job type
         * @param starts jobs of the type started per window, at least 1
         * @param period the window
         * @return this builder
         */
        public Builder rateLimit(String queue, JobType<?> type, int starts, Duration period) {
            Check.queue("queue", queue);
            Check.notNull("type", type);
            Check.atLeast("rateLimit starts of " + type.name() + " in queue " + queue, starts, 1);
            ratePeriod("rateLimit period of " + type.name() + " in queue " + queue, period);
            return policy(new QueuePolicy(queue, type.name(), null, starts, period, null));
        }

        /**
         * Makes {@code queue} fair: claims take its jobs round-robin across partition keys (a job's
         * {@link EnqueueOptions#partitionKey partitionKey}, else its {@code user_id}) instead of in
         * priority order, so that one tenant with 100,000 queued jobs cannot starve another with 10.
         * Each claim serves the keys that have due jobs in turn (each key's first job, then each key's
         * second, ...), continuing from where this store's previous claim of the queue stopped. Within
         * a key, jobs keep priority and due-time order; jobs with neither key, and more jobs of the
         * keys that have many, fill what a round leaves. Stored and shared like
         * {@link #globalConcurrency(String, int)}; queues that are not fair claim exactly as before.
         *
         * @param queue the queue's name
         * @return this builder
         */
        public Builder fairness(String queue) {
            Check.queue("queue", queue);
            return policy(new QueuePolicy(queue, null, null, null, null, true));
        }

        private Builder policy(QueuePolicy declared) {
            String key = declared.queue() + "/" + (declared.type() == null ? "" : declared.type());
            QueuePolicy old = policies.get(key);
            policies.put(key, old == null ? declared : new QueuePolicy(declared.queue(), declared.type(),
                    declared.maxRunning() != null ? declared.maxRunning() : old.maxRunning(),
                    declared.maxStarts() != null ? declared.maxStarts() : old.maxStarts(),
                    declared.startsPeriod() != null ? declared.startsPeriod() : old.startsPeriod(),
                    declared.fair() != null ? declared.fair() : old.fair()));
            return this;
        }

        private static void ratePeriod(String field, Duration period) {
            if (period == null || period.compareTo(MIN_RATE_PERIOD) < 0 || period.compareTo(JobStore.MAX_DELAY) > 0) {
                throw new ValidationException(field, "between " + MIN_RATE_PERIOD + " and " + JobStore.MAX_DELAY, period);
            }
        }

        /**
         * Checks the options and makes the worker, not yet started.
         *
         * @return the worker; call {@link Worker#start()} to run it
         * @throws ValidationException if the options contradict each other or no handler is registered
         */
        public Worker build() {
            if (handlers.isEmpty()) {
                throw new ValidationException("handlers", "at least one (register with handler(type, handler))", "none");
            }
            if (heartbeatInterval.compareTo(leaseDuration) >= 0) {
                throw new ValidationException(
                        "heartbeatInterval", "< leaseDuration (" + leaseDuration + ")", heartbeatInterval);
            }
            if (claimAhead.compareTo(leaseDuration) >= 0) {
                throw new ValidationException("claimAhead", "< leaseDuration (" + leaseDuration + ")", claimAhead);
            }
            if (executor != null && threadFactory != null) {
                throw new ValidationException("threadFactory", "unset when an executor is given", threadFactory);
            }
            Map<String, Integer> served = queues.isEmpty() ? Map.of(DEFAULT_QUEUE, DEFAULT_CONCURRENCY) : queues;
            PayloadCodec codec = new PayloadCodec(store.objectMapper());
            List<RecurringJob> recurringJobs = new ArrayList<>();
            recurring.values().forEach(r -> recurringJobs.add(r.resolve(codec)));
            WorkerConfig config = new WorkerConfig(
                    store,
                    handlers,
                    served,
                    batchSize,
                    claimAhead,
                    pollInterval,
                    leaseDuration,
                    heartbeatInterval,
                    rescueInterval,
                    shutdownTimeout,
                    pruneInterval,
                    progressInterval,
                    tableHealthInterval,
                    presenceInterval,
                    unservedAfter,
                    retention,
                    retryPolicy,
                    executor,
                    threadFactory,
                    clock,
                    workerId != null ? workerId : defaultWorkerId(),
                    codec,
                    listeners,
                    interceptors,
                    recurringJobs,
                    List.copyOf(policies.values()),
                    logPayloads);
            return new Worker(new WorkerRuntime(config));
        }

        /** A recurring job as registered; its payload is encoded by build(), with the final mapper. */
        private record PendingRecurring<P>(
                String name, JobType<P> type, P payload, Schedule schedule, EnqueueOptions options) {
            RecurringJob resolve(PayloadCodec codec) {
                return new RecurringJob(name, type.name(), codec.encode(type, payload),
                        options.maxRetries().isPresent() ? options : options.maxRetries(type.maxRetries()), schedule);
            }
        }

        private static String defaultWorkerId() {
            String host;
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (Exception e) {
                host = "unknown-host";
            }
            long pid = ProcessHandle.current().pid();
            String suffix = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x10000, 0x100000));
            return host + "-" + pid + "-" + suffix;
        }
    }
}
