package dev.pgqueue;

import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Runs around every enqueue of a {@link JobQueue}, on the caller's thread, for tracing: it sees the
 * jobs about to be inserted and chooses a small context to store with them (the W3C
 * {@code traceparent} and {@code tracestate} with pgqueue's OpenTelemetry module), which the worker
 * hands to its {@link JobInterceptor}s ({@link JobInterceptor.Invocation#traceContext()}). Set on
 * the queue's builder ({@code JdbiJobQueue.Builder.interceptor}); several are nested in the order
 * added, the first outermost, and the contexts they pass on are merged (an inner one's keys win).
 *
 * <p>One call per enqueue method call, whatever the number of jobs: {@code enqueueAll} of 1,000
 * jobs is one interception, and every job of it gets the same context. Called after the jobs are
 * validated and before anything is written; {@link Enqueue#proceed} inserts them (in the caller's
 * transaction, for a queue bound to one). Whatever {@code intercept} throws is thrown to the caller
 * of the enqueue, and nothing is written unless {@code proceed} was called. Must be thread-safe.
 *
 * <p>The context is producer-supplied data stored on every job: at most
 * {@value #MAX_TRACE_CONTEXT_BYTES} bytes of keys and values together, keys of 1 to
 * {@value #MAX_TRACE_CONTEXT_KEY_LENGTH} characters {@code a-z 0-9 _ - . *}, values printable ASCII
 * (space to tilde); anything else throws {@link ValidationException} from {@code proceed} and
 * nothing is written.
 */
@FunctionalInterface
public interface EnqueueInterceptor {

    /** The most bytes a stored context may hold, keys and values together: {@value}. */
    int MAX_TRACE_CONTEXT_BYTES = 1_024;

    /** The longest key of a stored context: {@value} characters. */
    int MAX_TRACE_CONTEXT_KEY_LENGTH = 64;

    /**
     * Inserts the jobs by calling {@code enqueue.proceed(context)} once, with whatever it wants around it.
     *
     * @param enqueue the jobs about to be inserted and the rest of the chain
     * @return what {@code proceed} returned
     */
    List<EnqueueResult> intercept(Enqueue enqueue);

    /**
     * One enqueue call as an interceptor sees it. Made by the queue; not meant to be implemented
     * elsewhere (methods may be added).
     */
    interface Enqueue {

        /** {@return the jobs about to be inserted, in order (for {@code enqueueBatch}, the callback last)} */
        List<NewJobRef> jobs();

        /**
         * Inserts the jobs with {@code context} (merged over the context of the interceptors around
         * this one) stored on each. Call it once.
         *
         * @param context the key/value pairs to store with the jobs; empty for none
         * @return one result per job, in the order of {@link #jobs()}: its id, or the id of the job
         *     holding its dedupe key
         * @throws ValidationException if the merged context is too big or has a key or value that is
         *     not allowed (see {@link EnqueueInterceptor}); nothing is written then
         * @throws IllegalStateException if called a second time
         */
        List<EnqueueResult> proceed(Map<String, String> context);
    }

    /**
     * A job about to be inserted.
     *
     * @param id    the id it will have (unless its dedupe key is held by another job)
     * @param type  its job type's name
     * @param queue its queue
     */
    record NewJobRef(UUID id, String type, String queue) {}
}
