package dev.pgqueue.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * Watches a measurement from its own connection: waits until the handler ran for every job and the
 * database shows none of them unfinished. Works on both tables (pgqueue's and the minimal one), which
 * share the table name and the status values.
 */
final class Monitor implements AutoCloseable {

    /**
     * Jobs not yet completed, counted through the partial indexes on pending (and, on pgqueue's table,
     * processing) rows, so that a million retained rows do not slow the poll down. pgqueue's
     * {@code waiting} status is not counted: no benchmark job has dependencies.
     */
    private static final String UNFINISHED = """
            SELECT (SELECT count(*) FROM job_queue WHERE status = 'pending')
                 + (SELECT count(*) FROM job_queue WHERE status = 'processing')""";
    /** The exact check, once the clock has stopped: every row is completed. */
    private static final String NOT_COMPLETED = "SELECT count(*) FROM job_queue WHERE status <> 'completed'";
    private static final long POLL_NANOS = 10_000_000L;

    private final Connection connection;
    private final PreparedStatement unfinished;

    Monitor(String url) throws SQLException {
        connection = Server.connect(url);
        unfinished = connection.prepareStatement(UNFINISHED);
    }

    /**
     * Returns once {@code recorder} counted {@code jobs} handler runs and then a poll (every 10 ms)
     * finds no unfinished job.
     *
     * @throws TimeoutException if that takes longer than {@code timeout} from {@code since}
     * @throws IllegalStateException if the system under test reports a failure meanwhile
     */
    void awaitDrained(Subject subject, Recorder recorder, int jobs, long since, Duration timeout)
            throws SQLException, InterruptedException, TimeoutException {
        awaitDrained(subject, recorder::started, jobs, since, timeout);
    }

    /**
     * Returns once {@code handled} counts {@code jobs} and then a poll (every 10 ms) finds no
     * unfinished job.
     *
     * @throws TimeoutException if that takes longer than {@code timeout} from {@code since}
     * @throws IllegalStateException if the system under test reports a failure meanwhile
     */
    void awaitDrained(Subject subject, IntSupplier handled, int jobs, long since, Duration timeout)
            throws SQLException, InterruptedException, TimeoutException {
        long deadline = since + timeout.toNanos();
        while (handled.getAsInt() < jobs) {
            check(subject, deadline, timeout, () -> "the handler finished " + handled.getAsInt() + " of " + jobs + " jobs");
            Thread.sleep(1);
        }
        while (true) {
            long left = unfinished();
            if (left == 0) {
                return;
            }
            check(subject, deadline, timeout, () -> left + " jobs still not completed after every handler ran");
            Thread.sleep(POLL_NANOS / 1_000_000);
        }
    }

    /** Whether {@link #awaitDrained} returns within {@code timeout} from now; false if it timed out. */
    boolean drainedWithin(Subject subject, IntSupplier handled, int jobs, Duration timeout)
            throws SQLException, InterruptedException {
        try {
            awaitDrained(subject, handled, jobs, System.nanoTime(), timeout);
            return true;
        } catch (TimeoutException e) {
            Log.info("  %s", e.getMessage());
            return false;
        }
    }

    /** @throws IllegalStateException if a row is not completed (a job failed, or waits) */
    void checkAllCompleted() throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement(NOT_COMPLETED); ResultSet rs = ps.executeQuery()) {
            rs.next();
            long left = rs.getLong(1);
            if (left != 0) {
                throw new IllegalStateException(left + " jobs are not completed at the end of the measurement");
            }
        }
    }

    private long unfinished() throws SQLException {
        try (ResultSet rs = unfinished.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void check(Subject subject, long deadline, Duration timeout, Supplier<String> state)
            throws TimeoutException {
        subject.failure().ifPresent(e -> {
            throw new IllegalStateException("the system under test failed: " + e, e);
        });
        if (System.nanoTime() > deadline) {
            throw new TimeoutException("not drained within " + timeout + ": " + state.get());
        }
    }

    @Override
    public void close() throws SQLException {
        connection.close();
    }
}
