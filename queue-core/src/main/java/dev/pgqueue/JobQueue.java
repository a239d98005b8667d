package dev.pgqueue;

import dev.pgqueue.internal.StandardJobQueue;
import dev.pgqueue.spi.JobStore;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Puts jobs on the queue. Thread-safe; create one per application and share it.
 *
 * <p>Each call here runs in its own transaction and has committed when it returns. To enqueue in
 * the same transaction as your own writes (so that the job exists if and only if they commit), use
 * the storage module's transactional overloads, e.g. {@code JdbiJobQueue.enqueue(handle, …)}.
 *
 * <p>Payloads are written as JSON by Jackson. Arguments are validated before anything is written:
 * a bad argument throws {@link ValidationException} or {@link PayloadException} and leaves the
 * database unchanged; a database failure throws {@link StoreException}.
 */
public interface JobQueue {

    /**
     * The largest payload accepted by default: 1 MiB of JSON (UTF-8). Payloads should hold ids, not
     * documents; a bigger one is rejected at enqueue with a {@link ValidationException}. The SQL
     * function {@code job_queue_enqueue} enforces the same default (setting {@code pgqueue.max_payload_bytes}).
     */
    int DEFAULT_MAX_PAYLOAD_BYTES = 1_048_576;

    /** Enqueues one job with default options; returns its id. */
    <P> UUID enqueue(JobType<P> type, P payload);

    /** Enqueues one job; returns its id. */
    <P> UUID enqueue(JobType<P> type, P payload, EnqueueOptions options);

    /**
     * Enqueues many jobs of one type in one round trip and one transaction: all or none. Returns
     * their ids in the order of {@code payloads}.
     */
    <P> List<UUID> enqueueAll(JobType<P> type, List<? extends P> payloads, EnqueueOptions options);

    /**
     * Cancels a job. A {@code pending} job becomes {@code cancelled} at once; for a
     * {@code processing} job the request is recorded and its worker interrupts the handler and ends
     * the job {@code cancelled}.
     *
     * @return true if the job was pending or processing, false if it is unknown or already final
     */
    boolean cancel(UUID jobId);

    /** The job's current row, if it exists. */
    Optional<JobSnapshot> find(UUID jobId);

    /** A queue over {@code store} that maps payloads with pgqueue's default {@link ObjectMapper}. */
    static JobQueue create(JobStore store) {
        return builder(store).build();
    }

    static Builder builder(JobStore store) {
        return new Builder(store);
    }

    /** Options for {@link JobQueue}; all have defaults. */
    final class Builder {
        private final JobStore store;
        private ObjectMapper objectMapper;
        private Clock clock;
        private int maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES;

        private Builder(JobStore store) {
            this.store = dev.pgqueue.internal.Check.notNull("store", store);
        }

        /**
         * The mapper for payloads. Default: a plain {@link ObjectMapper} that fails on unknown and
         * missing properties. Register modules (e.g. JavaTimeModule) on yours as your payloads need.
         */
        public Builder objectMapper(ObjectMapper objectMapper) {
            this.objectMapper = dev.pgqueue.internal.Check.notNull("objectMapper", objectMapper);
            return this;
        }

        /**
         * The clock for "now" (due times of delayed jobs). Default: the database's clock, which is
         * what production should use; tests pass a settable clock to move time without sleeping.
         */
        public Builder clock(Clock clock) {
            this.clock = dev.pgqueue.internal.Check.notNull("clock", clock);
            return this;
        }

        /**
         * The largest payload to accept, in bytes of JSON (UTF-8). Default
         * {@value JobQueue#DEFAULT_MAX_PAYLOAD_BYTES}; a bigger payload throws {@link ValidationException}
         * and nothing is written.
         */
        public Builder maxPayloadBytes(int maxPayloadBytes) {
            this.maxPayloadBytes = dev.pgqueue.internal.Check.atLeast("maxPayloadBytes", maxPayloadBytes, 2);
            return this;
        }

        public JobQueue build() {
            return new StandardJobQueue(store, objectMapper, clock, maxPayloadBytes);
        }
    }
}
