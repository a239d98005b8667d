package dev.pgqueue.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobQueue;
import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobType;
import dev.pgqueue.spi.JobStore;
import dev.pgqueue.spi.JobStore.CancelParams;
import dev.pgqueue.spi.JobStore.CancelResult;
import dev.pgqueue.spi.JobStore.InsertParams;
import dev.pgqueue.spi.JobStore.NewJob;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The {@link JobQueue} over any {@link JobStore}: validates and encodes everything before the store
 * is called, so that bad input never reaches the database.
 */
public final class StandardJobQueue implements JobQueue {

    private final JobStore store;
    private final PayloadCodec codec;
    private final Clock clock;
    private final int maxPayloadBytes;

    public StandardJobQueue(JobStore store, ObjectMapper mapper, Clock clock) {
        this(store, mapper, clock, JobQueue.DEFAULT_MAX_PAYLOAD_BYTES);
    }

    public StandardJobQueue(JobStore store, ObjectMapper mapper, Clock clock, int maxPayloadBytes) {
        this.store = Check.notNull("store", store);
        this.codec = new PayloadCodec(mapper);
        this.clock = clock;
        this.maxPayloadBytes = Check.atLeast("maxPayloadBytes", maxPayloadBytes, 2);
    }

    @Override
    public <P> UUID enqueue(JobType<P> type, P payload) {
        return enqueue(type, payload, EnqueueOptions.defaults());
    }

    @Override
    public <P> UUID enqueue(JobType<P> type, P payload, EnqueueOptions options) {
        Check.notNull("type", type);
        Check.notNull("options", options);
        return store.jobInsertMany(new InsertParams(List.of(newJob(type, payload, options)), now())).get(0);
    }

    @Override
    public <P> List<UUID> enqueueAll(JobType<P> type, List<? extends P> payloads, EnqueueOptions options) {
        Check.notNull("type", type);
        Check.notNull("payloads", payloads);
        Check.notNull("options", options);
        if (payloads.isEmpty()) {
            return List.of();
        }
        List<NewJob> jobs = new ArrayList<>(payloads.size());
        for (int i = 0; i < payloads.size(); i++) {
            P payload = payloads.get(i);
            if (payload == null) {
                throw new dev.pgqueue.ValidationException("payloads[" + i + "]", "non-null", null);
            }
            jobs.add(newJob(type, payload, options));
        }
        return store.jobInsertMany(new InsertParams(jobs, now()));
    }

    @Override
    public boolean cancel(UUID jobId) {
        Check.notNull("jobId", jobId);
        return store.jobCancel(new CancelParams(jobId, now())) != CancelResult.NOT_CANCELLABLE;
    }

    @Override
    public Optional<JobSnapshot> find(UUID jobId) {
        return store.jobGet(Check.notNull("jobId", jobId));
    }

    private NewJob newJob(JobType<?> type, Object payload, EnqueueOptions options) {
        String json = codec.encode(type, payload);
        long bytes = PayloadCodec.utf8Length(json);
        if (bytes > maxPayloadBytes) {
            throw new dev.pgqueue.ValidationException("payload of job type " + type.name(),
                    "at most " + maxPayloadBytes + " bytes of JSON (JobQueue.Builder.maxPayloadBytes)", bytes);
        }
        return new NewJob(
                UuidV7.next(),
                type.name(),
                options.queue(),
                json,
                options.priority(),
                options.runAt(),
                options.delay(),
                options.maxRetries(),
                options.userId());
    }

    private Instant now() {
        return clock == null ? null : clock.instant();
    }
}
