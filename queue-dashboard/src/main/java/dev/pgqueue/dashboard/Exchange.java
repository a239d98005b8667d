package dev.pgqueue.dashboard;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/**
 * One request and its response, whichever server hosts the dashboard: the JDK's server
 * ({@link HttpServerExchange}) or a servlet container ({@link ServletExchange}). The handler reads and
 * answers through this alone, so both hosts run the same code.
 */
interface Exchange extends DashboardRequest {

    /** The mount point's path, {@code ""} at the root, else {@code /a[/b…]}; links start with it. */
    String mountPath();

    /** The request's whole path, raw (still encoded), mount point included. */
    String rawPath();

    /** The request body's stream; {@link #body(int)} reads and closes it. */
    InputStream bodyStream() throws IOException;

    /**
     * The raw path below {@link #mountPath()}, or null if the request is not below it: a mount at
     * {@code /a} also receives {@code /ab}, and only {@code /a} itself and what is below {@code /a/}
     * is the dashboard's.
     */
    @Override
    default String path() {
        String full = rawPath();
        String mount = mountPath();
        if (!full.startsWith(mount)) {
            return null;
        }
        String rest = full.substring(mount.length());
        return rest.isEmpty() || rest.startsWith("/") ? rest : null;
    }

    /** The raw (still encoded) query string, or null. */
    String rawQuery();

    /** Whether the client reached this server over TLS (for the cookie's {@code Secure}). */
    boolean secure();

    /** The request body, at most {@code max} bytes; more is refused with {@link BodyTooLargeException}. */
    default byte[] body(int max) throws IOException {
        try (InputStream in = bodyStream()) {
            byte[] body = in.readNBytes(max + 1);
            if (body.length > max) {
                throw new BodyTooLargeException(max);
            }
            return body;
        }
    }

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
