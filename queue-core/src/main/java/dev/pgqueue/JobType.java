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
 * <p>A job type may carry how its jobs run: a {@link RetryPolicy} (otherwise the worker's default)
 * and a timeout (otherwise none). Instances are immutable and thread-safe; declare them as
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

    private JobType(String name, Class<P> payloadType, RetryPolicy retryPolicy, Duration timeout) {
        this.name = name;
        this.payloadType = payloadType;
        this.retryPolicy = retryPolicy;
        this.timeout = timeout;
    }

    /**
     * @throws ValidationException if the name is not 1-128 characters of letters, digits and
     *     {@code _ . : / -} starting with a letter or digit, or the payload type is null
     */
    public static <P> JobType<P> of(String name, Class<P> payloadType) {
        return new JobType<>(
                Check.jobType("job type name", name), Check.notNull("payloadType", payloadType), null, null);
    }

    /** A copy whose failed attempts are retried at the times {@code policy} gives. */
    public JobType<P> withRetryPolicy(RetryPolicy policy) {
        return new JobType<>(name, payloadType, Check.notNull("retryPolicy", policy), timeout);
    }

    /**
     * A copy whose handler is interrupted, and its attempt failed, once it has run for {@code timeout}.
     */
    public JobType<P> withTimeout(Duration timeout) {
        return new JobType<>(name, payloadType, retryPolicy, Check.positive("timeout", timeout));
    }

    public String name() {
        return name;
    }

    public Class<P> payloadType() {
        return payloadType;
    }

    /** This type's retry policy; empty means the worker's default. */
    public Optional<RetryPolicy> retryPolicy() {
        return Optional.ofNullable(retryPolicy);
    }

    /** How long one attempt may run; empty means no limit. */
    public Optional<Duration> timeout() {
        return Optional.ofNullable(timeout);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof JobType<?> other
                && name.equals(other.name)
                && payloadType.equals(other.payloadType)
                && Objects.equals(retryPolicy, other.retryPolicy)
                && Objects.equals(timeout, other.timeout);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, payloadType, retryPolicy, timeout);
    }

    @Override
    public String toString() {
        return "JobType[" + name + " -> " + payloadType.getName() + "]";
    }
}
