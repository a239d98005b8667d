package dev.pgqueue.dashboard;

import java.io.IOException;
import java.util.Map;

/**
 * One request and its response, whichever server hosts the dashboard: the JDK's server
 * ({@link HttpServerExchange}) or a servlet container ({@link ServletExchange}). The handler reads and
 * answers through this alone, so both hosts run the same code.
 */
interface Exchange extends DashboardRequest {

    /** The mount point's path, {@code ""} at the root, else {@code /a[/b…]}; links start with it. */
    String mountPath();

    /** The raw (still encoded) query string, or null. */
    String rawQuery();

    /** Whether the client reached this server over TLS (for the cookie's {@code Secure}). */
    boolean secure();

    /** The request body, at most {@code max} bytes; more is refused with {@link BodyTooLargeException}. */
    byte[] body(int max) throws IOException;

    /** Sends the whole response. */
    void send(int status, Map<String, String> headers, byte[] body) throws IOException;

    /** A request body over the limit. */
    final class BodyTooLargeException extends IOException {
        private static final long serialVersionUID = 1L;

        BodyTooLargeException(int max) {
            super("expected a request body of at most " + max + " bytes");
        }
    }
}
