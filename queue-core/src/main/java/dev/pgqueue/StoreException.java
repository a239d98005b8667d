package dev.pgqueue;

/**
 * The database could not do what was asked (connection lost, constraint violated, schema missing).
 * The operation did not take effect unless the message says otherwise; the cause holds the driver's
 * exception.
 *
 * <p>{@link #isTransient()} tells whether trying the same thing again later may succeed (the
 * connection broke, the server restarted, a deadlock or serialization failure) or not (the statement
 * itself was rejected, e.g. a value out of range).
 */
public final class StoreException extends PgQueueException {

    private final boolean transientFailure;

    public StoreException(String message, Throwable cause, boolean transientFailure) {
        super(message, cause);
        this.transientFailure = transientFailure;
    }

    public StoreException(String message, Throwable cause) {
        this(message, cause, true);
    }

    public StoreException(String message) {
        this(message, null, false);
    }

    /** Whether the same operation may succeed if tried again later. */
    public boolean isTransient() {
        return transientFailure;
    }
}
