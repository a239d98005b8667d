package dev.pgqueue;

/**
 * The root of every exception pgqueue throws. Catch this to handle any pgqueue failure; catch a
 * leaf ({@link ValidationException}, {@link PayloadException}, {@link StoreException},
 * {@link DedupeKeyHeldException}) to handle one
 * kind. All are unchecked.
 */
public class PgQueueException extends RuntimeException {

    public PgQueueException(String message) {
        super(message);
    }

    public PgQueueException(String message, Throwable cause) {
        super(message, cause);
    }
}
