package dev.pgqueue;

import java.time.Instant;
import java.util.Map;

/**
 * Runs around every attempt a {@link Worker} makes, on the handler's thread, for tracing and
 * timing: it can run code before and after the handler, make a context current while it runs, and
 * see what it returned or threw. Set with {@link Worker.Builder#interceptor}; several are nested in
 * the order added, the first outermost.
 *
 * <pre>{@code
 * JobInterceptor timing = invocation -> {
 *     long start = System.nanoTime();
 *     try {
 *         return invocation.proceed();
 *     } finally {
 *         record(invocation.job().type(), System.nanoTime() - start);
 *     }
 * };
 * }</pre>
 *
 * <p>Whatever {@code intercept} returns or throws is the attempt's outcome, as if the handler had
 * returned or thrown it: an interceptor that only observes returns what {@link Invocation#proceed()}
 * returns and lets what it throws propagate. An attempt whose payload does not map to its job type's
 * class is intercepted too: {@code proceed()} then throws the {@link PayloadException} instead of
 * running the handler (and the job's payload is null).
 *
 * <p>Where {@link WorkerListener} hears outcomes once they are recorded, on the worker's threads, an
 * interceptor wraps the handler call itself; the outcome recorded afterwards (retried or failed for
 * good, say) is the listener's to report. Must be thread-safe: attempts run concurrently.
 */
@FunctionalInterface
public interface JobInterceptor {

    /**
     * Runs the attempt by calling {@code invocation.proceed()} once, with whatever it wants around it.
     *
     * @param invocation the attempt: the job, its context and the rest of the chain
     * @return the attempt's outcome, normally what {@code proceed()} returned
     * @throws Exception the attempt's failure, normally what {@code proceed()} threw
     */
    JobOutcome intercept(Invocation invocation) throws Exception;

    /**
     * One attempt as an interceptor sees it. Made by the worker; not meant to be implemented elsewhere
     * (methods may be added).
     */
    interface Invocation {

        /** {@return the job, its payload mapped, or null if the payload does not map to its class} */
        Job<?> job();

        /** {@return the handler's context for this attempt} */
        JobContext context();

        /**
         * The context its producer recorded with the job when it was enqueued (an
         * {@link EnqueueInterceptor} chose it; with pgqueue's OpenTelemetry module, the W3C
         * {@code traceparent} and {@code tracestate}).
         *
         * @return the key/value pairs; empty when none was recorded
         */
        Map<String, String> traceContext();

        /**
         * When this attempt was claimed (the job's {@code processed_at}), by the store's clock, the
         * one that also set {@link Job#runAt()}: {@code claimedAt - runAt} is how long the job waited
         * for a worker once due, unaffected by the application's clock.
         *
         * @return the claim's time
         */
        Instant claimedAt();

        /**
         * Runs the rest of the chain: the next interceptor, or the handler. Call it once.
         *
         * @return what the handler returned
         * @throws Exception what the handler threw, or the {@link PayloadException} of a payload that
         *     does not map
         * @throws IllegalStateException if called a second time
         */
        JobOutcome proceed() throws Exception;
    }
}
