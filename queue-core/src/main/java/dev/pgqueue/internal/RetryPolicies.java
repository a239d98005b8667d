package dev.pgqueue.internal;

import dev.pgqueue.RetryPolicy;
import dev.pgqueue.spi.JobStore;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The built-in {@link RetryPolicy} implementations, as records so that they compare by value. */
public final class RetryPolicies {

    private static final Logger log = LoggerFactory.getLogger(RetryPolicies.class);

    private RetryPolicies() {}

    public record ExponentialBackoff(Duration base, Duration cap) implements RetryPolicy {
        @Override
        public Duration delayBeforeRetry(int retry) {
            long capNanos = cap.toNanos();
            int doublings = Math.max(0, Math.min(retry - 1, 62));
            long baseNanos = base.toNanos();
            long ceiling = baseNanos > (capNanos >> doublings) ? capNanos : Math.min(capNanos, baseNanos << doublings);
            return Duration.ofNanos(ThreadLocalRandom.current().nextLong(ceiling + 1));
        }
    }

    public record FixedDelay(Duration delay) implements RetryPolicy {
        public static final FixedDelay NONE = new FixedDelay(Duration.ZERO);

        @Override
        public Duration delayBeforeRetry(int retry) {
            return delay;
        }
    }

    /**
     * Asks {@code policy} for the delay before retry number {@code retry}, falling back to the
     * default policy when it misbehaves (throws, or returns null or a negative delay).
     */
    public static Duration delay(RetryPolicy policy, int retry) {
        try {
            Duration delay = policy.delayBeforeRetry(retry);
            if (delay != null && !delay.isNegative()) {
                return delay.compareTo(JobStore.MAX_DELAY) > 0 ? JobStore.MAX_DELAY : delay;
            }
            log.warn("retry policy {} returned {} for retry {}; using the default policy's delay", policy, delay, retry);
        } catch (RuntimeException e) {
            // a broken policy must not lose the retry; the default's delay is a safe answer
            log.warn("retry policy {} threw for retry {}; using the default policy's delay: {}", policy, retry, LogText.of(e));
        }
        return RetryPolicy.DEFAULT.delayBeforeRetry(retry);
    }
}
