package dev.pgqueue;

import dev.pgqueue.internal.Check;
import java.time.Duration;

/**
 * What a {@link JobHandler} returns: how its job ends. A handler that throws has failed its attempt
 * instead, and the job is retried (see {@link RetryPolicy}) or, with no retries left, {@code failed}.
 *
 * <ul>
 *   <li>{@link #done()} → {@code completed}; {@link #done(Object)} also records a result</li>
 *   <li>{@link #snooze(Duration)} → {@code pending} again after the delay; not a failure, so
 *       {@code retry_count} is unchanged</li>
 *   <li>{@link #failPermanently(String)} → {@code failed} now, whatever retries remain</li>
 *   <li>{@link #cancel(String)} → {@code cancelled}</li>
 * </ul>
 */
public sealed interface JobOutcome {

    /**
     * The job is {@code completed}, without a result.
     *
     * @return the outcome
     */
    static JobOutcome done() {
        return Done.INSTANCE;
    }

    /**
     * The job is {@code completed} with {@code result}, written as JSON (by the store's
     * {@code ObjectMapper}) to {@code job_queue.result} together with the completion, and only if the
     * worker still holds the job's lease. Producers read it with {@link JobQueue#result} or
     * {@link JobSnapshot#resultJson()}. Keep results small (ids, counts, URLs), as payloads. A result
     * that cannot be written as JSON fails the attempt, as if the handler had thrown.
     *
     * @param result the result, written as JSON; null records none
     * @return the outcome
     */
    static JobOutcome done(Object result) {
        return new Done(Check.notNull("result (use done() for none)", result));
    }

    /**
     * Run the job again after {@code delay} (zero up to about 1,000 years), without counting a failure.
     *
     * @param delay how long until the job is due again
     * @return the outcome
     */
    static JobOutcome snooze(Duration delay) {
        return new Snooze(Check.delay("snooze delay", delay));
    }

    /**
     * Fail the job now with {@code reason} as its {@code error_message}; no retries follow.
     *
     * @param reason the error message to record
     * @return the outcome
     */
    static JobOutcome failPermanently(String reason) {
        return new FailPermanently(Check.notNull("reason", reason));
    }

    /**
     * End the job as {@code cancelled} with {@code reason} as its {@code error_message}.
     *
     * @param reason the error message to record; may be null
     * @return the outcome
     */
    static JobOutcome cancel(String reason) {
        return new Cancel(Check.notNull("reason", reason));
    }

    /** The job ran successfully; {@code result} is null when it recorded none. */
    record Done(Object result) implements JobOutcome {
        static final Done INSTANCE = new Done(null);
    }

    /** The job runs again after {@code delay}. */
    record Snooze(Duration delay) implements JobOutcome {}

    /** The job is failed for good. */
    record FailPermanently(String reason) implements JobOutcome {}

    /** The job is cancelled. */
    record Cancel(String reason) implements JobOutcome {}
}
