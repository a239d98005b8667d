package dev.pgqueue;

import dev.pgqueue.internal.Check;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Names a kind of job and ties it to the class its payload maps to. The name is what is stored in
 * {@code job_queue.job_type}; it must stay stable across releases (renaming a Java class must never
 * orphan queued jobs), so it is always given explicitly, never derived from a class name. The seed's
 * names ({@code generate-image}, {@code generate-complete-pack}) are valid as they are.
 *
 * <p>A job type may carry how its jobs run: a {@link RetryPolicy} (otherwise the worker's default),
 * how many retries they get (otherwise {@value EnqueueOptions#DEFAULT_MAX_RETRIES}; an enqueue may
 * override it) and a timeout (otherwise none). Instances are immutable and thread-safe; declare them as
 * constants and share them between producers and workers.
 *
 * <pre>{@code
 * static final JobType<GenerateImage> GENERATE_IMAGE =
 *         JobType.of("generate-image", GenerateImage.class).withTimeout(Duration.ofMinutes(2));
 * }</pre>
 *
 * @param <P> the payload class; mapped to and from JSON by Jackson
 */
public final class JobType<P> {

    private final String name;
    private final Class<P> payloadType;
    private final RetryPolicy retryPolicy;
    private final Duration timeout;
    private final int maxRetries;
    private final boolean permanentPayloadFailures;

    private JobType(String name, Class<P> payloadType, RetryPolicy retryPolicy, Duration timeout, int maxRetries,
            boolean permanentPayloadFailures) {
        this.name = name;
        this.payloadType = payloadType;
        this.retryPolicy = retryPolicy;
        this.timeout = timeout;
        this.maxRetries = maxRetries;
        this.permanentPayloadFailures = permanentPayloadFailures;
    }

    /**
     * A job type named {@code name} whose payloads map to {@code payloadType}, with the worker's
     * retry policy, the default max retries and no timeout.
     *
     * @param <P> the payload type
     * @param name the stable name stored with every job; see the class comment
     * @param payloadType the class payloads map to and from
     * @return the job type
     * @throws ValidationException if the name is not 1-128 characters of letters, digits and
     *     {@code _ . : / -} starting with a letter or digit, or the payload type is null
     */
    public static <P> JobType<P> of(String name, Class<P> payloadType) {
        return new JobType<>(
                Check.jobType("job type name", name), Check.notNull("payloadType", payloadType), null, null,
                EnqueueOptions.DEFAULT_MAX_RETRIES, false);
    }

    /**
     * A copy whose failed attempts are retried at the times {@code policy} gives.
     *
     * @param policy the retry policy; not null
     * @return the copy
     */
    public JobType<P> withRetryPolicy(RetryPolicy policy) {
        return new JobType<>(name, payloadType, Check.notNull("retryPolicy", policy), timeout, maxRetries,
                permanentPayloadFailures);
    }

    /**
     * A copy whose handler is interrupted, and its attempt failed, once it has run for {@code timeout}.
     *
     * @param timeout the longest an attempt may run; positive
     * @return the copy
     */
    public JobType<P> withTimeout(Duration timeout) {
        return new JobType<>(name, payloadType, retryPolicy, Check.positive("timeout", timeout), maxRetries,
                permanentPayloadFailures);
    }

    /**
     * A copy whose jobs get {@code maxRetries} retries after their first run, unless enqueued with
     * {@link EnqueueOptions#maxRetries(int)}, which wins. Without it: {@value EnqueueOptions#DEFAULT_MAX_RETRIES}.
     *
     * @param maxRetries retries after the first run; 0 for none
     * @return the copy
     * @throws ValidationException if it is negative
     */
    public JobType<P> withMaxRetries(int maxRetries) {
        return new JobType<>(name, payloadType, retryPolicy, timeout, Check.atLeast("maxRetries", maxRetries, 0),
                permanentPayloadFailures);
    }

    /**
     * A copy whose jobs fail for good, on the attempt that finds it, when their payload does not map
     * to {@link #payloadType()}. By default such an attempt fails and is retried like any other: in a
     * rolling deploy the payload may come from a newer producer that the next deploy of this worker
     * maps. Choose this for types whose producers are never ahead of their workers.
     *
     * @return the copy
     */
    public JobType<P> withPermanentPayloadFailures() {
        return new JobType<>(name, payloadType, retryPolicy, timeout, maxRetries, true);
    }

    /** {@return the stable name stored in {@code job_queue.job_type}} */
    public String name() {
        return name;
    }

    /** {@return the class payloads of this type map to and from} */
    public Class<P> payloadType() {
        return payloadType;
    }

    /**
     * This type's retry policy; empty means the worker's default.
     *
     * @return the policy, or empty
     */
    public Optional<RetryPolicy> retryPolicy() {
        return Optional.ofNullable(retryPolicy);
    }

    /**
     * Retries after the first run for jobs enqueued without {@link EnqueueOptions#maxRetries(int)};
     * {@value EnqueueOptions#DEFAULT_MAX_RETRIES} unless set with {@link #withMaxRetries(int)}.
     *
     * @return the default number of retries
     */
    public int maxRetries() {
        return maxRetries;
    }

    /**
     * Whether a payload that does not map fails its job for good ({@link #withPermanentPayloadFailures()})
     * rather than failing one attempt, to be retried; false by default.
     *
     * @return true if payload errors are permanent
     */
    public boolean permanentPayloadFailures() {
        return permanentPayloadFailures;
    }

    /**
     * How long one attempt may run; empty means no limit.
     *
     * @return the timeout, or empty
     */
    public Optional<Duration> timeout() {
        return Optional.ofNullable(timeout);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof JobType<?> other
                && name.equals(other.name)
                && payloadType.equals(other.payloadType)
                && Objects.equals(retryPolicy, other.retryPolicy)
                && Objects.equals(timeout, other.timeout)
                && maxRetries == other.maxRetries
                && permanentPayloadFailures == other.permanentPayloadFailures;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, payloadType, retryPolicy, timeout, maxRetries, permanentPayloadFailures);
    }

    @Override
    public String toString() {
        return "JobType[" + name + " -> " + payloadType.getName() + "]";
    }
}
