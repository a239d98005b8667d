package dev.pgqueue.bench;

import com.zaxxer.hikari.HikariDataSource;
import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.Job;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobStatus;
import dev.pgqueue.JobHandler;
import dev.pgqueue.JobType;
import dev.pgqueue.RetryPolicy;
import dev.pgqueue.Worker;
import dev.pgqueue.WorkerListener;
import dev.pgqueue.jdbi.JdbiJobQueue;
import dev.pgqueue.jdbi.JdbiJobStore;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.jdbi.v3.core.Jdbi;

/**
 * pgqueue as an application runs it: a HikariCP pool, {@link Jdbi#create}, a {@link JdbiJobStore}
 * (which migrates the schema), a {@link JdbiJobQueue} and a {@link Worker} with a no-op handler.
 */
final class PgQueueSubject implements Subject {

    static final JobType<Stamp> NOOP = JobType.of("bench-noop", Stamp.class);
    /** W5's and W5R's job: retried at once after a failure (no backoff). */
    static final JobType<Work> WORK = JobType.of("bench-work", Work.class).withRetryPolicy(RetryPolicy.noBackoff());
    /** The default queue's concurrency in W5 and W5R, as the harness configured it: {@code queue("default", 10)}. */
    static final int WORK_CONCURRENCY = 10;
    /** The worker's pool: its LISTEN connection and the up to three it borrows at once, with room to spare. */
    static final int WORKER_POOL_SIZE = 10;
    /** W5's result row: one per job done. */
    private static final String INSERT_RESULT = "INSERT INTO bench_result (job_id) VALUES (?)";
    /** W4's retention: shorter than the age of the prefilled completed jobs. */
    static final Duration RETENTION = Duration.ofHours(1);
    /** Prune interval of the pruning configurations: the first prune runs within half of it. */
    static final Duration PRUNE_INTERVAL = Duration.ofSeconds(1);

    /** Where producers enqueue from. */
    enum Producer {
        /** Through the worker's own store: its in-process wake-up shortcut applies. */
        SHARED,
        /** Through a pool, Jdbi, store and queue of its own: the worker learns of jobs by NOTIFY only. */
        SEPARATE
    }

    /**
     * How pgqueue is set up.
     *
     * @param concurrency the default queue's concurrency; 0 for {@link Worker#DEFAULT_CONCURRENCY}
     * @param batchSize   the worker's batch size; 0 for {@link Worker#DEFAULT_BATCH_SIZE}
     * @param producer    where enqueues come from
     * @param poolSize    connections of the worker's (and shared producer's) pool
     * @param retention   how long the worker keeps completed jobs before its pruner deletes them (every
     *                    {@link #PRUNE_INTERVAL}); null: kept, no pruner (the worker's default)
     * @param globalLimit a global concurrency limit on the default queue ({@link Worker.Builder#globalConcurrency});
     *                    0 for none
     * @param fairKeys    0: the default queue is not fair; otherwise it is ({@link Worker.Builder#fairness}),
     *                    and each {@link #enqueueStamped} call's jobs get the next of this many partition keys,
     *                    round-robin
     * @param handlerUsesJdbc W5: the transactional handler writes its result row through the JDBC connection of
     *                    its JDBI handle ({@code handle.getConnection()}) instead of {@code handle.execute}
     */
    record Config(int concurrency, int batchSize, Producer producer, int poolSize, Duration retention, int globalLimit,
                  int fairKeys, boolean handlerUsesJdbc) {

        /** Worker defaults throughout; enqueues through the worker's store. */
        static Config defaults() {
            return new Config(0, 0, Producer.SHARED, WORKER_POOL_SIZE, null, 0, 0, false);
        }

        Config concurrencyAndBatch(int concurrency, int batchSize) {
            return new Config(concurrency, batchSize, producer, poolSize, retention, globalLimit, fairKeys, handlerUsesJdbc);
        }

        Config producer(Producer producer) {
            return new Config(concurrency, batchSize, producer, poolSize, retention, globalLimit, fairKeys, handlerUsesJdbc);
        }

        Config poolSize(int poolSize) {
            return new Config(concurrency, batchSize, producer, poolSize, retention, globalLimit, fairKeys, handlerUsesJdbc);
        }

        Config pruned(Duration keepFor) {
            return new Config(concurrency, batchSize, producer, poolSize, keepFor, globalLimit, fairKeys, handlerUsesJdbc);
        }

        Config globalLimit(int max) {
            return new Config(concurrency, batchSize, producer, poolSize, retention, max, fairKeys, handlerUsesJdbc);
        }

        Config fair(int keys) {
            return new Config(concurrency, batchSize, producer, poolSize, retention, globalLimit, keys, handlerUsesJdbc);
        }

        Config jdbcInHandler() {
            return new Config(concurrency, batchSize, producer, poolSize, retention, globalLimit, fairKeys, true);
        }
    }

    private final Config config;
    /** Closed last first. */
    private final List<AutoCloseable> resources = new ArrayList<>();
    private final JdbiJobStore store;
    private final JdbiJobQueue producerQueue;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private Worker worker;
    /** How many {@link #enqueueStamped} calls came before: the next call's partition key, with {@link Config#fairKeys}. */
    private final AtomicLong stampedCalls = new AtomicLong();

    PgQueueSubject(String url, Config config) throws InterruptedException {
        this.config = config;
        HikariDataSource pool = Server.pool(url, config.poolSize(), "pgqueue-worker");
        resources.add(pool);
        store = JdbiJobStore.builder(Jdbi.create(pool)).build(); // migrates the fresh database
        if (config.producer() == Producer.SEPARATE) {
            HikariDataSource producerPool = Server.pool(url, 1, "pgqueue-producer");
            resources.add(producerPool);
            producerQueue = JdbiJobQueue.create(JdbiJobStore.builder(Jdbi.create(producerPool)).build());
        } else {
            producerQueue = JdbiJobQueue.create(store);
        }
    }

    @Override
    public void enqueueOne(long stamp) {
        producerQueue.enqueue(NOOP, new Stamp(stamp));
    }

    @Override
    public void enqueueStamped(int jobs, long stamp) {
        EnqueueOptions options = EnqueueOptions.defaults();
        if (config.fairKeys() > 0) {
            options = options.partitionKey("tenant-" + stampedCalls.getAndIncrement() % config.fairKeys());
        }
        producerQueue.enqueueAll(NOOP, Collections.nCopies(jobs, new Stamp(stamp)), options);
    }

    @Override
    public void enqueueWork(List<Work> jobs) {
        producerQueue.enqueueAll(WORK, jobs, EnqueueOptions.defaults());
    }

    /**
     * The README's transactional handler ({@link JdbiJobStore#transactional}), registered as a user
     * would, wrapped only to record the job once its transaction has committed.
     */
    @Override
    public void startWork(Completions completions) {
        JobHandler<Work> transactional = store.transactional((job, context, handle) -> {
            completions.attempted();
            Work.spin();
            if (config.handlerUsesJdbc()) {
                try (PreparedStatement insert = handle.getConnection().prepareStatement(INSERT_RESULT)) {
                    insert.setObject(1, job.id());
                    insert.executeUpdate();
                }
            } else {
                handle.execute(INSERT_RESULT, job.id());
            }
            if (job.payload().failsOn(job.attempt())) {
                throw new Work.PlannedFailure();
            }
            return JobOutcome.done();
        });
        worker = Worker.builder(store)
                .queue(Worker.DEFAULT_QUEUE, WORK_CONCURRENCY)
                .handler(WORK, (job, context) -> {
                    JobOutcome outcome = transactional.handle(job, context);
                    completions.done(job.payload().ts());
                    return outcome;
                })
                .listener(new FailureListener())
                .build();
        resources.add(worker);
        worker.start();
    }

    @Override
    public String idType() {
        return "uuid";
    }

    @Override
    public String attemptColumn() {
        return "attempt";
    }

    @Override
    public void startWorker(Recorder recorder) {
        Worker.Builder builder = Worker.builder(store)
                .handler(NOOP, (job, context) -> {
                    recorder.jobStarted(job.payload().ts());
                    return JobOutcome.done();
                })
                .listener(new FailureListener());
        if (config.concurrency() > 0) {
            builder.queue(Worker.DEFAULT_QUEUE, config.concurrency());
        }
        if (config.batchSize() > 0) {
            builder.batchSize(config.batchSize());
        }
        if (config.retention() != null) {
            builder.retention(JobStatus.COMPLETED, config.retention()).pruneInterval(PRUNE_INTERVAL);
        }
        if (config.globalLimit() > 0) {
            builder.globalConcurrency(Worker.DEFAULT_QUEUE, config.globalLimit());
        }
        if (config.fairKeys() > 0) {
            builder.fairness(Worker.DEFAULT_QUEUE);
        }
        worker = builder.build();
        resources.add(worker);
        worker.start();
    }

    @Override
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure.get());
    }

    @Override
    public void close() throws Exception {
        Exception first = null;
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /**
     * A handler that fails other than by W5's planned failure is a broken benchmark: remember it, so
     * that the wait ends at once.
     */
    private final class FailureListener implements WorkerListener {
        @Override
        public void jobRetried(Job<?> job, String error, Duration delay) {
            if (error == null || !error.contains("planned failure")) {
                failure.compareAndSet(null, new IllegalStateException(job + " failed: " + error));
            }
        }

        @Override
        public void jobFailed(Job<?> job, String error) {
            failure.compareAndSet(null, new IllegalStateException(job + " failed: " + error));
        }
    }
}
