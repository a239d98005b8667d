package dev.pgqueue.micrometer;

import dev.pgqueue.JobStatus;
import dev.pgqueue.admin.JobAdmin;
import dev.pgqueue.admin.QueueStats;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.TimeGauge;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gauges of every queue's depth and age, sampled from the database at an interval by one call of
 * {@link JobAdmin#queueStats()} (a few index reads, see its documentation), so that reading the
 * gauges (a Prometheus scrape, say) never touches the database:
 * <ul>
 *   <li>{@value #QUEUE_DEPTH}: the queue's jobs per status, tagged {@value #TAG_QUEUE} and
 *       {@value #TAG_STATUS} ({@code waiting}, {@code pending}, {@code processing}, {@code completed},
 *       {@code failed}, {@code cancelled}; the finished ones as long as the table keeps them). The
 *       waiting, pending and processing values are exact; on a large table (more rows than
 *       {@code JdbiJobAdmin}'s exact-count limit, 100,000 by default) the completed and cancelled ones,
 *       and the failed ones beyond that limit, are the planner's estimates, refreshed by ANALYZE: alert
 *       on pending, processing and the recent failure rate, not on a finished total;</li>
 *   <li>{@value #QUEUE_OLDEST_PENDING_AGE}: how long the queue's oldest due pending job has been due,
 *       in seconds (0 when none waits), tagged {@value #TAG_QUEUE};</li>
 *   <li>{@value #QUEUE_PAUSED}: 1 while the queue is paused, else 0.</li>
 * </ul>
 * A queue that no longer appears in the statistics reads 0 everywhere. If a sample fails (the
 * database is unreachable), the gauges keep their last values and the failure is logged.
 *
 * <pre>{@code
 * PgQueueGauges gauges = PgQueueGauges.builder(JdbiJobAdmin.create(store), registry).build();
 * gauges.start();
 * ...
 * gauges.close();
 * }</pre>
 *
 * <p><b>One sampler per cluster.</b> The numbers are the database's, the same whichever process reads
 * them, so one process should sample: the service that serves the admin API or dashboard, or one
 * designated worker replica (an environment flag decides where to call {@link #start()}). If every
 * replica samples, each adds one statistics read per interval to the database and reports the same
 * values: aggregate them with {@code max}, never {@code sum}.
 *
 * <p>Thread-safe. Samples on a daemon thread of its own from {@link #start()} until {@link #close()}.
 */
public final class PgQueueGauges implements AutoCloseable {

    /** Gauge of a queue's jobs per status: {@value}. */
    public static final String QUEUE_DEPTH = "pgqueue.queue.depth";
    /** Time gauge of how long a queue's oldest due pending job has been due: {@value}. */
    public static final String QUEUE_OLDEST_PENDING_AGE = "pgqueue.queue.oldest.pending.age";
    /** Gauge that is 1 while a queue is paused: {@value}. */
    public static final String QUEUE_PAUSED = "pgqueue.queue.paused";
    /** The tag holding the queue's name: {@value}. */
    public static final String TAG_QUEUE = PgQueueMetrics.TAG_QUEUE;
    /** The tag of {@value #QUEUE_DEPTH} holding the status: {@value}. */
    public static final String TAG_STATUS = "status";
    /** Default interval between samples: 15 s. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(15);

    private static final Logger log = LoggerFactory.getLogger(PgQueueGauges.class);

    private final JobAdmin admin;
    private final MeterRegistry registry;
    private final Duration interval;
    /** One queue's latest numbers, held strongly: Micrometer's gauges hold their state weakly. */
    private final Map<String, QueueState> queues = new ConcurrentHashMap<>();
    private final Object lifecycle = new Object();
    private ScheduledExecutorService sampler; // guarded by lifecycle
    private boolean closed; // guarded by lifecycle

    /** The latest sample of one queue, read by its gauges. */
    private static final class QueueState {
        final Map<JobStatus, AtomicLong> counts = new EnumMap<>(JobStatus.class);
        final AtomicLong oldestPendingNanos = new AtomicLong();
        final AtomicLong paused = new AtomicLong();

        QueueState() {
            for (JobStatus status : JobStatus.values()) {
                counts.put(status, new AtomicLong());
            }
        }
    }

    private PgQueueGauges(Builder builder) {
        this.admin = builder.admin;
        this.registry = builder.registry;
        this.interval = builder.interval;
    }

    /**
     * Starts configuring gauges read through {@code admin} into {@code registry}.
     *
     * @param admin reads the queue statistics; not null
     * @param registry where the gauges are registered; not null
     * @return a builder with every option at its default
     */
    public static Builder builder(JobAdmin admin, MeterRegistry registry) {
        return new Builder(admin, registry);
    }

    /**
     * Samples now, then every interval, on a daemon thread of its own.
     *
     * @throws IllegalStateException if started before or already closed
     */
    public void start() {
        synchronized (lifecycle) {
            if (sampler != null || closed) {
                throw new IllegalStateException("expected PgQueueGauges to be started once and not closed");
            }
            sampler = Executors.newSingleThreadScheduledExecutor(task -> {
                Thread thread = new Thread(task, "pgqueue-gauges");
                thread.setDaemon(true);
                return thread;
            });
            sampler.scheduleWithFixedDelay(this::sampleQuietly, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** Stops sampling; the gauges stay registered with their last values. Idempotent. */
    @Override
    public void close() {
        synchronized (lifecycle) {
            closed = true;
            if (sampler != null) {
                sampler.shutdownNow();
            }
        }
    }

    private void sampleQuietly() {
        try {
            sample();
        } catch (RuntimeException e) {
            log.warn("could not sample the queue statistics for the gauges; they keep their last values: {}",
                    e.toString());
        }
    }

    /** Reads the statistics once and updates every gauge; registers the gauges of queues seen first. */
    void sample() {
        List<QueueStats> stats = admin.queueStats();
        Set<String> seen = new HashSet<>();
        for (QueueStats queue : stats) {
            seen.add(queue.queue());
            QueueState state = queues.computeIfAbsent(queue.queue(), this::register);
            for (JobStatus status : JobStatus.values()) {
                state.counts.get(status).set(queue.count(status));
            }
            state.oldestPendingNanos.set(queue.oldestPendingAge().toNanos());
            state.paused.set(queue.paused() ? 1 : 0);
        }
        queues.forEach((name, state) -> {
            if (!seen.contains(name)) {
                state.counts.values().forEach(count -> count.set(0));
                state.oldestPendingNanos.set(0);
                state.paused.set(0);
            }
        });
    }

    private QueueState register(String queue) {
        QueueState state = new QueueState();
        state.counts.forEach((status, count) -> Gauge.builder(QUEUE_DEPTH, count, AtomicLong::doubleValue)
                .description("Jobs of the queue per status, sampled from the database")
                .tag(TAG_QUEUE, queue)
                .tag(TAG_STATUS, status.sqlValue())
                .register(registry));
        TimeGauge.builder(QUEUE_OLDEST_PENDING_AGE, state.oldestPendingNanos, TimeUnit.NANOSECONDS, AtomicLong::doubleValue)
                .description("How long the queue's oldest due pending job has been due, sampled from the database")
                .tag(TAG_QUEUE, queue)
                .register(registry);
        Gauge.builder(QUEUE_PAUSED, state.paused, AtomicLong::doubleValue)
                .description("1 while the queue is paused, else 0")
                .tag(TAG_QUEUE, queue)
                .register(registry);
        return state;
    }

    @Override
    public String toString() {
        return "PgQueueGauges[every " + interval + "]";
    }

    /** Options for {@link PgQueueGauges}; all have defaults. Not thread-safe. */
    public static final class Builder {
        private final JobAdmin admin;
        private final MeterRegistry registry;
        private Duration interval = DEFAULT_INTERVAL;

        private Builder(JobAdmin admin, MeterRegistry registry) {
            this.admin = Objects.requireNonNull(admin, "admin");
            this.registry = Objects.requireNonNull(registry, "registry");
        }

        /**
         * How often the statistics are read: one query per interval. Default 15 s, a typical scrape
         * interval; shorter makes the gauges fresher and costs the database more.
         *
         * @param interval the interval between samples; at least 100 ms
         * @return this builder
         * @throws dev.pgqueue.ValidationException if {@code interval} is null or shorter than 100 ms
         */
        public Builder interval(Duration interval) {
            if (interval == null || interval.compareTo(Duration.ofMillis(100)) < 0) {
                throw new dev.pgqueue.ValidationException("interval", ">= PT0.1S", interval);
            }
            this.interval = interval;
            return this;
        }

        /** {@return the gauges, not yet sampling; call {@link PgQueueGauges#start()}} */
        public PgQueueGauges build() {
            return new PgQueueGauges(this);
        }
    }
}
