package dev.pgqueue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Puts jobs on the queue. Thread-safe; create one per application and share it.
 *
 * <p>Each call here runs in its own transaction and has committed when it returns, unless the queue
 * is a view bound to a caller's transaction, e.g. {@code JdbiJobQueue.in(handle)}: then it commits or
 * rolls back with the caller's own writes, so that the job exists if and only if they commit. The
 * storage module makes queues ({@code JdbiJobQueue.create(store)}).
 *
 * <p>Payloads are written as JSON by the store's Jackson mapper ({@link PayloadMapper}). Arguments
 * are validated before anything is written: a bad argument throws {@link ValidationException} or
 * {@link PayloadException} and leaves the database unchanged; a database failure throws {@link StoreException}. A dedupe key held by a job
 * that row-level security hides from the caller (keys are unique per job type across the schema)
 * throws {@link DedupeKeyHeldException}, which trying again does not cure.
 */
public interface JobQueue {

    /**
     * The largest payload accepted by default: 1 MiB of JSON (UTF-8). Payloads should hold ids, not
     * documents; a bigger one is rejected at enqueue with a {@link ValidationException}. The
     * database checks every insert against the same default (table {@code job_queue_setting}, owner only).
     */
    int DEFAULT_MAX_PAYLOAD_BYTES = 1_048_576;

    /**
     * Enqueues one job with default options; returns its id.
     *
     * @param <P> the payload type
     * @param type the job type
     * @param payload the payload, mapped to JSON by the store's mapper; not null
     * @return the new job's id
     */
    <P> UUID enqueue(JobType<P> type, P payload);

    /**
     * Enqueues one job; returns its id. With a {@linkplain EnqueueOptions#dedupeKey(String) dedupe
     * key}, returns the id of the existing job that holds the key instead, if there is one; use
     * {@link #enqueueUnique} to learn which happened.
     *
     * @param <P> the payload type
     * @param type the job type
     * @param payload the payload; not null
     * @param options the queue, due time, priority, dedupe key and so on
     * @return the new job's id, or the id of the job that holds the dedupe key
     */
    <P> UUID enqueue(JobType<P> type, P payload, EnqueueOptions options);

    /**
     * Enqueues one job unless a job of the same type holds the same dedupe key (see
     * {@link Uniqueness}); says which happened. Never fails because of a concurrent enqueue of the
     * same key: of any number of racing calls, exactly one enqueues and the others return its id
     * (a caller inside a transaction that is {@code REPEATABLE READ} or stricter may instead get a
     * {@link StoreException} for a serialization failure, to retry as usual at that level).
     *
     * @param <P> the payload type
     * @param type the job type
     * @param payload the payload; not null
     * @param options the options, with a dedupe key
     * @return the job's id and whether it was enqueued now or already held the key
     * @throws ValidationException if {@code options} has no dedupe key
     */
    <P> EnqueueResult enqueueUnique(JobType<P> type, P payload, EnqueueOptions options);

    /**
     * Enqueues many jobs of one type in one round trip and one transaction: all or none. Returns
     * their ids in the order of {@code payloads}.
     *
     * @param <P> the payload type
     * @param type the job type of every job
     * @param payloads one per job; none null
     * @param options applied to every job
     * @return the new jobs' ids, in the order of {@code payloads}
     */
    <P> List<UUID> enqueueAll(JobType<P> type, List<? extends P> payloads, EnqueueOptions options);

    /**
     * Enqueues many unique jobs of one type in one transaction (all or none, a few round trips at
     * most), each with its own dedupe key: the map's keys. Returns, for each key, the new job or the
     * existing one that holds the key, in the map's iteration order. {@code options} apply to every
     * job and must not carry a dedupe key of their own; their {@link Uniqueness} applies to all.
     *
     * @param <P> the payload type
     * @param type the job type of every job
     * @param payloadsByDedupeKey each job's payload by its dedupe key
     * @param options applied to every job, without a dedupe key
     * @return each key's result, in the map's iteration order
     * @throws ValidationException if a key is invalid or {@code options} has a dedupe key
     */
    <P> Map<String, EnqueueResult> enqueueAllUnique(
            JobType<P> type, Map<String, ? extends P> payloadsByDedupeKey, EnqueueOptions options);

    /**
     * Enqueues a batch and its callback in one transaction, all or none: one job of {@code type} per
     * payload, and one job of {@code callbackType} that waits for all of them and runs once every one
     * has completed (fan-out, fan-in):
     *
     * <pre>{@code
     * Batch batch = queue.enqueueBatch(GENERATE_IMAGE, images, EnqueueOptions.defaults(),
     *                                  FINISH_PACK, new FinishPack(projectId), EnqueueOptions.defaults());
     * }</pre>
     *
     * The callback runs once however the batch's jobs are spread over workers: it becomes
     * {@code pending} in the same transaction as the last of them completes, and in only that one.
     * When one of them fails for good or is cancelled, the callback's
     * {@link EnqueueOptions#onDependencyFailure} decides: {@code CANCEL} (the default) cancels it at
     * once; {@code RUN} runs it once all have finished, and its handler reads how each ended (and
     * their results) with {@link #dependencies(UUID)}. An empty batch's callback is due at once.
     *
     * @param options         for every job of the batch; without a dedupe key. Their own
     *                        {@code dependsOn}, if any, apply to each of them
     * @param callbackOptions for the callback; without a dedupe key. Its own {@code dependsOn}, if
     *                        any, are waited for as well
     * @param <P> the batch's payload type
     * @param <C> the callback's payload type
     * @param type the job type of the batch's jobs
     * @param payloads one per batch job; none null
     * @param callbackType the callback's job type
     * @param callbackPayload the callback's payload; not null
     * @return the batch's ids, in the order of {@code payloads}, and the callback's
     * @throws ValidationException if a payload is null or either options carry a dedupe key
     */
    <P, C> Batch enqueueBatch(JobType<P> type, List<? extends P> payloads, EnqueueOptions options,
            JobType<C> callbackType, C callbackPayload, EnqueueOptions callbackOptions);

    /**
     * The jobs that {@code jobId} depends on ({@link EnqueueOptions#dependsOn}), as they are now, in
     * the order they were enqueued: for the handler of a job that ran after them, a batch's callback
     * say, to read their results or, with {@link EnqueueOptions.DependencyFailure#RUN}, how they
     * failed. Empty for a job without dependencies; dependencies deleted since (pruned) are left out.
     *
     * @param jobId the dependent job's id
     * @return the dependencies' snapshots; empty if none
     */
    List<JobSnapshot> dependencies(UUID jobId);

    /**
     * Cancels a job. A {@code pending} or {@code waiting} job becomes {@code cancelled} at once; for a
     * {@code processing} job the request is recorded and its worker interrupts the handler and ends
     * the job {@code cancelled}. Waiting jobs that depend on it follow their
     * {@link EnqueueOptions#onDependencyFailure} policy.
     *
     * <p>Once this returns true the job never ends {@code completed}: a handler that ignores the
     * interrupt and returns {@code done()} still ends it {@code cancelled}, and its result is dropped
     * (a retry or a snooze ends it {@code cancelled} too; only {@code failPermanently} ends it
     * {@code failed}). A transactional handler's writes commit with that cancelled outcome, in the same
     * transaction.
     *
     * @param jobId the job's id
     * @return true if the job was waiting, pending or processing, false if it is unknown or already final
     */
    boolean cancel(UUID jobId);

    /**
     * The job's current row, if it exists.
     *
     * @param jobId the job's id
     * @return the job's snapshot, or empty if it does not exist (or was pruned)
     */
    Optional<JobSnapshot> find(UUID jobId);

    /**
     * The result the job's handler completed it with ({@link JobOutcome#done(Object)}), mapped from
     * JSON to {@code resultType} by the store's {@code ObjectMapper}. Empty if the job does not
     * exist, has not completed, or completed without a result.
     *
     * @param <R> the result type
     * @param jobId the job's id
     * @param resultType the class to map the result's JSON to
     * @return the result, or empty
     * @throws PayloadException if the stored result does not map to {@code resultType}
     */
    <R> Optional<R> result(UUID jobId, Class<R> resultType);
}
