package dev.pgqueue.jdbi;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgqueue.Batch;
import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.EnqueueResult;
import dev.pgqueue.JobQueue;
import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobType;
import dev.pgqueue.internal.Check;
import dev.pgqueue.internal.StandardJobQueue;
import dev.pgqueue.spi.JobStore;
import java.sql.Connection;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.jdbi.v3.core.Handle;

/**
 * The {@link JobQueue} for PostgreSQL, with transactional twins: every {@code enqueue} also takes a
 * JDBI {@link Handle} or a plain JDBC {@link Connection}, and then runs in that connection's
 * current transaction, so that the job exists if and only if the caller's own writes commit.
 *
 * <pre>{@code
 * jdbi.useTransaction(handle -> {
 *     handle.execute("UPDATE projects SET status = 'PROCESSING' WHERE id = ?", projectId);
 *     queue.enqueue(handle, GENERATE_PACK, new GeneratePack(projectId));
 * }); // both or neither
 * }</pre>
 *
 * A job enqueued in a transaction may depend on jobs enqueued earlier in it
 * ({@link EnqueueOptions#dependsOn}); {@code enqueueBatch} does that for a fan-out and its callback.
 * Workers in this process are woken when that transaction commits (and other processes by the
 * insert trigger's NOTIFY, which PostgreSQL delivers at commit). Thread-safe; the twins are as
 * thread-safe as the handle or connection passed in. Validation, errors and payload mapping are
 * as described on {@link JobQueue}.
 */
public final class JdbiJobQueue implements JobQueue {

    private final JdbiJobStore store;
    private final ObjectMapper objectMapper;
    private final Clock clock;
    private final int maxPayloadBytes;
    private final JobQueue queue;

    private JdbiJobQueue(JdbiJobStore store, ObjectMapper objectMapper, Clock clock, int maxPayloadBytes) {
        this.store = store;
        this.objectMapper = objectMapper;
        this.clock = clock;
        this.maxPayloadBytes = maxPayloadBytes;
        this.queue = new StandardJobQueue(store, objectMapper, clock, maxPayloadBytes);
    }

    /** A queue over {@code store} with pgqueue's default {@link ObjectMapper} and the database's clock. */
    public static JdbiJobQueue create(JdbiJobStore store) {
        return builder(store).build();
    }

    public static Builder builder(JdbiJobStore store) {
        return new Builder(store);
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

    /** Enqueues one job in {@code handle}'s transaction; returns its id. */
    public <P> UUID enqueue(Handle handle, JobType<P> type, P payload) {
        return in(store.bound(Check.notNull("handle", handle))).enqueue(type, payload);
    }

    /** Enqueues one job in {@code handle}'s transaction; returns its id. */
    public <P> UUID enqueue(Handle handle, JobType<P> type, P payload, EnqueueOptions options) {
        return in(store.bound(Check.notNull("handle", handle))).enqueue(type, payload, options);
    }

    /** Enqueues many jobs in one round trip, in {@code handle}'s transaction; returns their ids in order. */
    public <P> List<UUID> enqueueAll(Handle handle, JobType<P> type, List<? extends P> payloads, EnqueueOptions options) {
        return in(store.bound(Check.notNull("handle", handle))).enqueueAll(type, payloads, options);
    }

    /**
     * Enqueues one job in {@code handle}'s transaction unless a job of the same type holds its dedupe
     * key; see {@link JobQueue#enqueueUnique}. A job holding the key that another transaction has not
     * committed yet makes this call wait for that transaction's end.
     */
    public <P> EnqueueResult enqueueUnique(Handle handle, JobType<P> type, P payload, EnqueueOptions options) {
        return in(store.bound(Check.notNull("handle", handle))).enqueueUnique(type, payload, options);
    }

    /** Enqueues unique jobs in {@code handle}'s transaction; see {@link JobQueue#enqueueAllUnique}. */
    public <P> Map<String, EnqueueResult> enqueueAllUnique(
            Handle handle, JobType<P> type, Map<String, ? extends P> payloadsByDedupeKey, EnqueueOptions options) {
        return in(store.bound(Check.notNull("handle", handle))).enqueueAllUnique(type, payloadsByDedupeKey, options);
    }

    /**
     * Enqueues a batch and its callback in {@code handle}'s transaction; see {@link JobQueue#enqueueBatch}.
     * The batch exists, and its jobs can run, once that transaction commits.
     */
    public <P, C> Batch enqueueBatch(Handle handle, JobType<P> type, List<? extends P> payloads, EnqueueOptions options,
            JobType<C> callbackType, C callbackPayload, EnqueueOptions callbackOptions) {
        return in(store.bound(Check.notNull("handle", handle)))
                .enqueueBatch(type, payloads, options, callbackType, callbackPayload, callbackOptions);
    }

    /** Enqueues one job in {@code connection}'s current transaction; returns its id. */
    public <P> UUID enqueue(Connection connection, JobType<P> type, P payload) {
        return in(store.bound(Check.notNull("connection", connection))).enqueue(type, payload);
    }

    /** Enqueues one job in {@code connection}'s current transaction; returns its id. */
    public <P> UUID enqueue(Connection connection, JobType<P> type, P payload, EnqueueOptions options) {
        return in(store.bound(Check.notNull("connection", connection))).enqueue(type, payload, options);
    }

    /** Enqueues many jobs in one round trip, in {@code connection}'s current transaction. */
    public <P> List<UUID> enqueueAll(
            Connection connection, JobType<P> type, List<? extends P> payloads, EnqueueOptions options) {
        return in(store.bound(Check.notNull("connection", connection))).enqueueAll(type, payloads, options);
    }

    /**
     * Enqueues one job in {@code connection}'s current transaction unless a job of the same type holds
     * its dedupe key; see {@link JobQueue#enqueueUnique}.
     */
    public <P> EnqueueResult enqueueUnique(Connection connection, JobType<P> type, P payload, EnqueueOptions options) {
        return in(store.bound(Check.notNull("connection", connection))).enqueueUnique(type, payload, options);
    }

    /** Enqueues unique jobs in {@code connection}'s current transaction; see {@link JobQueue#enqueueAllUnique}. */
    public <P> Map<String, EnqueueResult> enqueueAllUnique(Connection connection, JobType<P> type,
            Map<String, ? extends P> payloadsByDedupeKey, EnqueueOptions options) {
        return in(store.bound(Check.notNull("connection", connection))).enqueueAllUnique(type, payloadsByDedupeKey, options);
    }

    /** Enqueues a batch and its callback in {@code connection}'s current transaction; see {@link JobQueue#enqueueBatch}. */
    public <P, C> Batch enqueueBatch(Connection connection, JobType<P> type, List<? extends P> payloads,
            EnqueueOptions options, JobType<C> callbackType, C callbackPayload, EnqueueOptions callbackOptions) {
        return in(store.bound(Check.notNull("connection", connection)))
                .enqueueBatch(type, payloads, options, callbackType, callbackPayload, callbackOptions);
    }

    /**
     * The jobs {@code jobId} depends on, read on {@code handle}'s connection and in its transaction:
     * for a batch's callback that decides inside {@code completeInTransaction} or a transactional
     * handler without borrowing a second connection from the pool.
     */
    public List<JobSnapshot> dependencies(Handle handle, UUID jobId) {
        return in(store.bound(Check.notNull("handle", handle))).dependencies(jobId);
    }

    private JobQueue in(JobStore bound) {
        return new StandardJobQueue(bound, objectMapper, clock, maxPayloadBytes);
    }

    /** Options for {@link JdbiJobQueue}; all have defaults. */
    public static final class Builder {
        private final JdbiJobStore store;
        private ObjectMapper objectMapper;
        private Clock clock;
        /** Null: the database's limit (job_queue_setting.max_payload_bytes), read at build. */
        private Integer maxPayloadBytes;

        private Builder(JdbiJobStore store) {
            this.store = Check.notNull("store", store);
        }

        /** See {@link JobQueue.Builder#objectMapper(ObjectMapper)}. */
        public Builder objectMapper(ObjectMapper objectMapper) {
            this.objectMapper = Check.notNull("objectMapper", objectMapper);
            return this;
        }

        /** See {@link JobQueue.Builder#clock(Clock)}. */
        public Builder clock(Clock clock) {
            this.clock = Check.notNull("clock", clock);
            return this;
        }

        /**
         * See {@link JobQueue.Builder#maxPayloadBytes(int)}. Default: the database's limit
         * ({@code job_queue_setting.max_payload_bytes}, which every insert is checked against), read
         * once when the queue is built, so that a payload over it fails early with a
         * {@code ValidationException}.
         */
        public Builder maxPayloadBytes(int maxPayloadBytes) {
            this.maxPayloadBytes = Check.atLeast("maxPayloadBytes", maxPayloadBytes, 2);
            return this;
        }

        public JdbiJobQueue build() {
            int limit = maxPayloadBytes != null ? maxPayloadBytes : store.maxPayloadBytes();
            return new JdbiJobQueue(store, objectMapper, clock, limit);
        }
    }
}
