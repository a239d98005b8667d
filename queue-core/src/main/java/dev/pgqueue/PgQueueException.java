package dev.pgqueue;

/**
 * The root of every exception pgqueue throws. Catch this to handle any pgqueue failure; catch a
 * leaf ({@link ValidationException}, {@link PayloadException}, {@link StoreException},
 * {@link DedupeKeyHeldException}) to handle one
 * kind. All are unchecked.
 */
public class PgQueueException extends RuntimeException {

    /**
     * An error with {@code message}.
     *
     * @param message what went wrong
     */
    public PgQueueException(String message) {
        super(message);
    }

    /**
     * An error with {@code message}, caused by {@code cause}.
     *
     * @param message what went wrong
     * @param cause the underlying exception
     */
    public PgQueueException(String message, Throwable cause) {
        super(message, cause);
    }
}
