package dev.pgqueue.internal;

import dev.pgqueue.Batch;
import dev.pgqueue.EnqueueInterceptor;
import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.EnqueueResult;
import dev.pgqueue.JobQueue;
import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobStatus;
import dev.pgqueue.JobType;
import dev.pgqueue.Uniqueness;
import dev.pgqueue.ValidationException;
import dev.pgqueue.spi.JobStore;
import dev.pgqueue.spi.JobStore.CancelParams;
import dev.pgqueue.spi.JobStore.CancelResult;
import dev.pgqueue.spi.JobStore.InsertParams;
import dev.pgqueue.spi.JobStore.NewJob;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
    private final List<EnqueueInterceptor> interceptors;

    /** A queue over {@code store} that maps payloads with the store's {@link JobStore#objectMapper()}. */
    public StandardJobQueue(JobStore store, Clock clock, int maxPayloadBytes) {
        this(store, clock, maxPayloadBytes, List.of());
    }

    /**
     * A queue over {@code store} whose inserts go through {@code interceptors}, the first outermost;
     * payloads are mapped with the store's {@link JobStore#objectMapper()}.
     */
    public StandardJobQueue(JobStore store, Clock clock, int maxPayloadBytes, List<EnqueueInterceptor> interceptors) {
        this.store = Check.notNull("store", store);
        this.codec = new PayloadCodec(store.objectMapper());
        this.clock = clock;
        this.maxPayloadBytes = Check.atLeast("maxPayloadBytes", maxPayloadBytes, 2);
        this.interceptors = List.copyOf(interceptors);
    }

    @Override
    public <P> UUID enqueue(JobType<P> type, P payload) {
        return enqueue(type, payload, EnqueueOptions.defaults());
    }

    @Override
    public <P> UUID enqueue(JobType<P> type, P payload, EnqueueOptions options) {
        Check.notNull("type", type);
        Check.notNull("options", options);
        requireKeyWithUniqueness(options);
        NewJob job = newJob(type, payload, options, options.dedupeKey());
        return insert(List.of(job)).get(0).jobId();
    }

    @Override
    public <P> EnqueueResult enqueueUnique(JobType<P> type, P payload, EnqueueOptions options) {
        Check.notNull("type", type);
        Check.notNull("options", options);
        if (options.dedupeKey() == null) {
            throw new ValidationException("options.dedupeKey", "set for enqueueUnique (EnqueueOptions.dedupeKey(key))", null);
        }
        requireDependenciesWithPolicy(options);
        NewJob job = newJob(type, payload, options, options.dedupeKey());
        return insert(List.of(job)).get(0);
    }

    @Override
    public <P> List<UUID> enqueueAll(JobType<P> type, List<? extends P> payloads, EnqueueOptions options) {
        Check.notNull("type", type);
        Check.notNull("payloads", payloads);
        Check.notNull("options", options);
        if (options.dedupeKey() != null) {
            throw new ValidationException("options.dedupeKey",
                    "unset for enqueueAll (jobs cannot share one key; use enqueueAllUnique with a key per job)",
                    options.dedupeKey());
        }
        requireKeyWithUniqueness(options);
        if (payloads.isEmpty()) {
            return List.of();
        }
        List<NewJob> jobs = new ArrayList<>(payloads.size());
        for (int i = 0; i < payloads.size(); i++) {
            P payload = payloads.get(i);
            if (payload == null) {
                throw new ValidationException("payloads[" + i + "]", "non-null", null);
            }
            jobs.add(newJob(type, payload, options, null));
        }
        List<EnqueueResult> results = insert(jobs);
        List<UUID> ids = new ArrayList<>(results.size());
        results.forEach(r -> ids.add(r.jobId()));
        return Collections.unmodifiableList(ids);
    }

    @Override
    public <P> Map<String, EnqueueResult> enqueueAllUnique(
            JobType<P> type, Map<String, ? extends P> payloadsByDedupeKey, EnqueueOptions options) {
        Check.notNull("type", type);
        Check.notNull("payloadsByDedupeKey", payloadsByDedupeKey);
        Check.notNull("options", options);
        if (options.dedupeKey() != null) {
            throw new ValidationException("options.dedupeKey",
                    "unset for enqueueAllUnique (the map's keys are the dedupe keys)", options.dedupeKey());
        }
        requireDependenciesWithPolicy(options);
        List<String> keys = new ArrayList<>(payloadsByDedupeKey.size());
        List<NewJob> jobs = new ArrayList<>(payloadsByDedupeKey.size());
        for (Map.Entry<String, ? extends P> entry : payloadsByDedupeKey.entrySet()) {
            String key = Check.dedupeKey("dedupe key", entry.getKey());
            if (entry.getValue() == null) {
                throw new ValidationException("payload of dedupe key " + key, "non-null", null);
            }
            keys.add(key);
            jobs.add(newJob(type, entry.getValue(), options, key));
        }
        if (jobs.isEmpty()) {
            return Map.of();
        }
        List<EnqueueResult> results = insert(jobs);
        Map<String, EnqueueResult> byKey = new LinkedHashMap<>(keys.size() * 2);
        for (int i = 0; i < keys.size(); i++) {
            byKey.put(keys.get(i), results.get(i));
        }
        return Collections.unmodifiableMap(byKey);
    }

    @Override
    public <P, C> Batch enqueueBatch(JobType<P> type, List<? extends P> payloads, EnqueueOptions options,
            JobType<C> callbackType, C callbackPayload, EnqueueOptions callbackOptions) {
        Check.notNull("type", type);
        Check.notNull("payloads", payloads);
        Check.notNull("options", options);
        Check.notNull("callbackType", callbackType);
        Check.notNull("callbackPayload", callbackPayload);
        Check.notNull("callbackOptions", callbackOptions);
        if (options.dedupeKey() != null || options.uniqueness() != null) {
            throw new ValidationException("options.dedupeKey", "unset for enqueueBatch (a batch's jobs are not unique)",
                    options.dedupeKey());
        }
        if (callbackOptions.dedupeKey() != null || callbackOptions.uniqueness() != null) {
            throw new ValidationException("callbackOptions.dedupeKey",
                    "unset for enqueueBatch (a batch's callback is not unique)", callbackOptions.dedupeKey());
        }
        requireDependenciesWithPolicy(options);
        List<NewJob> jobs = new ArrayList<>(payloads.size() + 1);
        List<UUID> ids = new ArrayList<>(payloads.size() + callbackOptions.dependsOn().size());
        for (int i = 0; i < payloads.size(); i++) {
            P payload = payloads.get(i);
            if (payload == null) {
                throw new ValidationException("payloads[" + i + "]", "non-null", null);
            }
            NewJob job = newJob(type, payload, options, null);
            jobs.add(job);
            ids.add(job.id());
        }
        List<UUID> children = List.copyOf(ids);
        ids.addAll(callbackOptions.dependsOn());
        NewJob callback = newJob(callbackType, callbackPayload, callbackOptions.dependsOn(ids), null);
        jobs.add(callback);
        insert(jobs);
        return new Batch(children, callback.id());
    }

    @Override
    public List<JobSnapshot> dependencies(UUID jobId) {
        return store.jobDependencies(Check.notNull("jobId", jobId));
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

    @Override
    public <R> Optional<R> result(UUID jobId, Class<R> resultType) {
        Check.notNull("jobId", jobId);
        Check.notNull("resultType", resultType);
        return store.jobGet(jobId)
                .filter(job -> job.status() == JobStatus.COMPLETED && job.resultJson() != null)
                .map(job -> codec.decodeResult(job, resultType));
    }

    /** Inserts the jobs through the interceptors, if any: one interception per enqueue call. */
    private List<EnqueueResult> insert(List<NewJob> jobs) {
        if (interceptors.isEmpty()) {
            return store.jobInsertMany(new InsertParams(jobs, now()));
        }
        List<EnqueueInterceptor.NewJobRef> refs = new ArrayList<>(jobs.size());
        jobs.forEach(job -> refs.add(new EnqueueInterceptor.NewJobRef(job.id(), job.type(), job.queue())));
        return new Interception(jobs, List.copyOf(refs), 0, Map.of()).run();
    }

    /** The rest of the chain from interceptor {@code index}, with the context merged so far. */
    private final class Interception implements EnqueueInterceptor.Enqueue {
        private final List<NewJob> jobs;
        private final List<EnqueueInterceptor.NewJobRef> refs;
        private final int index;
        private final Map<String, String> outer;
        private boolean proceeded;

        Interception(List<NewJob> jobs, List<EnqueueInterceptor.NewJobRef> refs, int index, Map<String, String> outer) {
            this.jobs = jobs;
            this.refs = refs;
            this.index = index;
            this.outer = outer;
        }

        List<EnqueueResult> run() {
            List<EnqueueResult> results = interceptors.get(index).intercept(this);
            if (!proceeded) {
                throw new IllegalStateException("enqueue interceptor " + interceptors.get(index)
                        + " returned without calling proceed(); nothing was enqueued");
            }
            return results;
        }

        @Override
        public List<EnqueueInterceptor.NewJobRef> jobs() {
            return refs;
        }

        @Override
        public List<EnqueueResult> proceed(Map<String, String> context) {
            if (proceeded) {
                throw new IllegalStateException("proceed() called twice by enqueue interceptor " + interceptors.get(index));
            }
            Check.notNull("context", context);
            Map<String, String> merged = context;
            if (!outer.isEmpty()) {
                merged = new LinkedHashMap<>(outer);
                merged.putAll(context);
            }
            merged = Check.traceContext("trace context", merged);
            proceeded = true;
            if (index + 1 < interceptors.size()) {
                return new Interception(jobs, refs, index + 1, merged).run();
            }
            List<NewJob> withContext = jobs;
            if (!merged.isEmpty()) {
                withContext = new ArrayList<>(jobs.size());
                for (NewJob job : jobs) {
                    withContext.add(job.toBuilder().traceContext(merged).build());
                }
            }
            return store.jobInsertMany(new InsertParams(withContext, now()));
        }
    }

    private static void requireKeyWithUniqueness(EnqueueOptions options) {
        if (options.uniqueness() != null && options.dedupeKey() == null) {
            throw new ValidationException("options.dedupeKey", "set when options.uniqueness is", null);
        }
        requireDependenciesWithPolicy(options);
    }

    private static void requireDependenciesWithPolicy(EnqueueOptions options) {
        if (options.onDependencyFailure() != null && options.dependsOn().isEmpty()) {
            throw new ValidationException("options.dependsOn", "set when options.onDependencyFailure is",
                    options.dependsOn());
        }
    }

    private NewJob newJob(JobType<?> type, Object payload, EnqueueOptions options, String dedupeKey) {
        Uniqueness uniqueness = dedupeKey == null ? null : options.uniqueness();
        String json = codec.encode(type, payload);
        long bytes = PayloadCodec.utf8Length(json);
        if (bytes > maxPayloadBytes) {
            throw new ValidationException("payload of job type " + type.name(),
                    "at most " + maxPayloadBytes + " bytes of JSON (JdbiJobQueue.Builder.maxPayloadBytes)", bytes);
        }
        return NewJob.builder(UuidV7.next(), type.name(), json)
                .queue(options.queue())
                .priority(options.priority())
                .runAt(options.runAt())
                .delay(options.delay())
                .maxRetries(options.maxRetries().orElse(type.maxRetries()))
                .userId(options.userId())
                .dedupeKey(dedupeKey)
                .uniqueStates(uniqueness == null ? null : uniqueness.states())
                .uniqueFor(uniqueness == null ? null : uniqueness.period())
                .dependsOn(options.dependsOn())
                .onDependencyFailure(options.dependsOn().isEmpty() ? null : options.effectiveDependencyFailure())
                .partitionKey(options.partitionKey())
                .build();
    }

    private Instant now() {
        return clock == null ? null : clock.instant();
    }
}
