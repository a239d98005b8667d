package dev.pgqueue;

/**
 * The database could not do what was asked (connection lost, constraint violated, schema missing).
 * The operation did not take effect unless the message says otherwise; the cause holds the driver's
 * exception.
 */
public final class StoreException extends PgQueueException {

    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }

    public StoreException(String message) {
        super(message);
    }
}
