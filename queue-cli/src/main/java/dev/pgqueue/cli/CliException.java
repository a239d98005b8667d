package dev.pgqueue.cli;

/**
 * A failure the CLI reports as one line on stderr, with the exit code it chose (see
 * {@link PgQueueCli#EXIT_ERROR} and the others).
 */
final class CliException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int exitCode;

    CliException(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    CliException(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    /** A failed command (database unreachable, unknown job, …): exit code 1. */
    static CliException error(String message) {
        return new CliException(PgQueueCli.EXIT_ERROR, message);
    }

    /** Bad input (a value that does not parse, a missing filter): exit code 2. */
    static CliException usage(String message) {
        return new CliException(PgQueueCli.EXIT_USAGE, message);
    }

    int exitCode() {
        return exitCode;
    }
}
