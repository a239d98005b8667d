package dev.pgqueue.jdbi;

import dev.pgqueue.Batch;
import dev.pgqueue.EnqueueInterceptor;
import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.EnqueueResult;
import dev.pgqueue.JobQueue;
import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobType;
import dev.pgqueue.ValidationException;
import dev.pgqueue.internal.Check;
import dev.pgqueue.internal.StandardJobQueue;
import dev.pgqueue.spi.JobStore;
import java.sql.Connection;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.jdbi.v3.core.Handle;

/**
 * The {@link JobQueue} for PostgreSQL, and the one way to make a queue: {@link #create(JdbiJobStore)}
 * or {@link #builder(JdbiJobStore)}, over the store that holds the jobs. Each call commits on its own;
 * {@link #in(Handle)} and {@link #in(Connection)} give the same {@link JobQueue} bound to a caller's
 * transaction, so that a job exists if and only if the caller's own writes commit:
 *
 * <pre>{@code
 * jdbi.useTransaction(handle -> {
 *     handle.execute("UPDATE projects SET status = 'PROCESSING' WHERE id = ?", projectId);
 *     queue.in(handle).enqueue(GENERATE_PACK, new GeneratePack(projectId));
 * }); // both or neither
 * }</pre>
 *
 * A job enqueued in a transaction may depend on jobs enqueued earlier in it
 * ({@link EnqueueOptions#dependsOn}); {@code enqueueBatch} does that for a fan-out and its callback.
 * Workers in this process are woken when that transaction commits (and other processes by the
 * insert trigger's NOTIFY, which PostgreSQL delivers at commit). Thread-safe; a bound view is as
 * thread-safe as the handle or connection it is bound to. Validation, errors and payload mapping are
 * as described on {@link JobQueue}.
 */
public final class JdbiJobQueue implements JobQueue {

    private final JdbiJobStore store;
    private final Clock clock;
    private final int maxPayloadBytes;
    private final List<EnqueueInterceptor> interceptors;
    private final JobQueue queue;

    private JdbiJobQueue(JdbiJobStore store, Clock clock, int maxPayloadBytes, List<EnqueueInterceptor> interceptors) {
        this.store = store;
        this.clock = clock;
        this.maxPayloadBytes = maxPayloadBytes;
        this.interceptors = List.copyOf(interceptors);
        this.queue = new StandardJobQueue(store, clock, maxPayloadBytes, this.interceptors);
    }

    /**
     * A queue over {@code store} with the database's clock; payloads are mapped by the store's
     * {@link JdbiJobStore#objectMapper() mapper}.
     *
     * @param store the store to enqueue into
     * @return the queue
     */
    public static JdbiJobQueue create(JdbiJobStore store) {
        return builder(store).build();
    }

    /**
     * Options for a queue over {@code store}; see {@link Builder}.
     *
     * @param store the store to enqueue into
     * @return a builder
     */
    public static Builder builder(JdbiJobStore store) {
        return new Builder(store);
    }

    /**
     * This queue, running every operation on {@code handle}'s connection and in its transaction (if
     * one is open): what it enqueues commits or rolls back with the caller's own writes. A job holding
     * a dedupe key that another transaction has not committed yet makes {@code enqueueUnique} wait for
     * that transaction's end. Valid while the handle is open; as thread-safe as the handle. Reads
     * ({@link JobQueue#dependencies}, {@link JobQueue#find}) see the transaction's own writes and
     * borrow no second connection from the pool.
     *
     * @param handle an open handle, in a transaction or not
     * @return the bound view
     */
    public JobQueue in(Handle handle) {
        return bound(store.bound(Check.notNull("handle", handle)));
    }

    /**
     * This queue, running every operation on {@code connection} and in its current transaction: for
     * applications that manage transactions themselves (a Spring-managed {@code Connection}, say).
     * The connection is neither committed nor closed here.
     *
     * @param connection an open connection
     * @return the bound view
     */
    public JobQueue in(Connection connection) {
        return bound(store.bound(Check.notNull("connection", connection)));
    }

    @Override
    public <P> UUID enqueue(JobType<P> type, P payload) {
        return queue.enqueue(type, payload);
    }

    @Override
    public <P> UUID enqueue(JobType<P> type, P payload, EnqueueOptions options) {
        return queue.enqueue(type, payload, options);
    }

    @Override
    public <P> EnqueueResult enqueueUnique(JobType<P> type, P payload, EnqueueOptions options) {
        return queue.enqueueUnique(type, payload, options);
    }

    @Override
    public <P> List<UUID> enqueueAll(JobType<P> type, List<? extends P> payloads, EnqueueOptions options) {
        return queue.enqueueAll(type, payloads, options);
    }

    @Override
    public <P> Map<String, EnqueueResult> enqueueAllUnique(
            JobType<P> type, Map<String, ? extends P> payloadsByDedupeKey, EnqueueOptions options) {
        return queue.enqueueAllUnique(type, payloadsByDedupeKey, options);
    }

    @Override
    public <P, C> Batch enqueueBatch(JobType<P> type, List<? extends P> payloads, EnqueueOptions options,
            JobType<C> callbackType, C callbackPayload, EnqueueOptions callbackOptions) {
        return queue.enqueueBatch(type, payloads, options, callbackType, callbackPayload, callbackOptions);
    }

    @Override
    public List<JobSnapshot> dependencies(UUID jobId) {
        return queue.dependencies(jobId);
    }

    @Override
    public boolean cancel(UUID jobId) {
        return queue.cancel(jobId);
    }

    @Override
    public Optional<JobSnapshot> find(UUID jobId) {
        return queue.find(jobId);
    }

    @Override
    public <R> Optional<R> result(UUID jobId, Class<R> resultType) {
        return queue.result(jobId, resultType);
    }

    private JobQueue bound(JobStore bound) {
        return new StandardJobQueue(bound, clock, maxPayloadBytes, interceptors);
    }

    /** Options for {@link JdbiJobQueue}; all have defaults. */
    public static final class Builder {
        private final JdbiJobStore store;
        private Clock clock;
        /** Null: the database's limit (job_queue_setting.max_payload_bytes), read at build. */
        private Integer maxPayloadBytes;
        private final List<EnqueueInterceptor> interceptors = new ArrayList<>();

        private Builder(JdbiJobStore store) {
            this.store = Check.notNull("store", store);
        }

        /**
         * The clock for "now" (due times of delayed jobs). Default: the database's clock, which is
         * what production should use; tests pass a settable clock to move time without sleeping.
         *
         * @param clock the source of "now"
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Check.notNull("clock", clock);
            return this;
        }

        /**
         * The largest payload to accept, in bytes of JSON (UTF-8); a bigger payload throws
         * {@link ValidationException} and nothing is written. Default: the database's limit
         * ({@code job_queue_setting.max_payload_bytes}, which every insert is checked against), read
         * once when the queue is built, so that a payload over it fails early.
         *
         * @param maxPayloadBytes the limit in bytes; positive
         * @return this builder
         */
        public Builder maxPayloadBytes(int maxPayloadBytes) {
            this.maxPayloadBytes = Check.atLeast("maxPayloadBytes", maxPayloadBytes, 2);
            return this;
        }

        /**
         * Adds an interceptor that runs around every enqueue of the queue and of its bound views
         * ({@link JdbiJobQueue#in(Handle)}), on the caller's thread, and may record a context with the
         * jobs (tracing). Call once per interceptor: they nest in the order added, the first
         * outermost. Default: none, and then nothing is recorded ({@code trace_context} stays NULL).
         *
         * @param interceptor the interceptor; not null
         * @return this builder
         */
        public Builder interceptor(EnqueueInterceptor interceptor) {
            interceptors.add(Check.notNull("interceptor", interceptor));
            return this;
        }

        /** {@return the queue} */
        public JdbiJobQueue build() {
            int limit = maxPayloadBytes != null ? maxPayloadBytes : store.maxPayloadBytes();
            return new JdbiJobQueue(store, clock, limit, interceptors);
        }
    }
}
