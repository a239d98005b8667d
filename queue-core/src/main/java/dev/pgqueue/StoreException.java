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

    /** Whether trying again later may succeed. */
    private final boolean transientFailure;

    /**
     * A database failure.
     *
     * @param message what was being done
     * @param cause the driver's exception
     * @param transientFailure whether trying again later may succeed
     */
    public StoreException(String message, Throwable cause, boolean transientFailure) {
        super(message, cause);
        this.transientFailure = transientFailure;
    }

    /**
     * A database failure that trying again later may cure.
     *
     * @param message what was being done
     * @param cause the driver's exception
     */
    public StoreException(String message, Throwable cause) {
        this(message, cause, true);
    }

    /**
     * A store failure without a driver exception, that trying again later may cure.
     *
     * @param message what went wrong
     */
    public StoreException(String message) {
        this(message, null, false);
    }

    /**
     * Whether the same operation may succeed if tried again later.
     *
     * @return true if transient (a lost connection, a serialization failure), false if not (a constraint violated)
     */
    public boolean isTransient() {
        return transientFailure;
    }
}
