package dev.pgqueue.jdbi;

import dev.pgqueue.jdbi.JdbiJobStore.SqlWork;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a store's {@link ClaimFloor} sweeps run: one at a time, on a daemon thread and a connection
 * borrowed from the store's pool, so that a claim never waits while a sweep walks the dead entries at
 * the claim index's front (issue 18). The thread exists only while sweeps do (they run only while claims
 * are bounded by a floor) and ends a minute after the last, so a store needs no closing. A sweep that
 * found jobs wakes the store's subscribers for its queue, as an insert by this process does. A sweep
 * that fails, or gets no connection within the pool's timeout, is logged, and its floor told. Thread-safe.
 */
final class FrontSweeps {

    /** Runs each sweep at once, on the claim's own connection, the claim waiting for it, and wakes nobody: for tests of the statements. */
    static final FrontSweeps INLINE = new FrontSweeps(null, null, queue -> {});

    private static final Logger log = LoggerFactory.getLogger(FrontSweeps.class);
    private static final AtomicInteger STORES = new AtomicInteger();

    /** Null: inline. */
    private final DirectConnections connections;
    private final ThreadPoolExecutor executor;
    private final Consumer<String> wake;

    private FrontSweeps(DirectConnections connections, String schema, Consumer<String> wake) {
        this.connections = connections;
        this.wake = wake;
        if (connections == null) {
            executor = null;
            return;
        }
        String name = "pgqueue-claim-sweep-" + schema + "-" + STORES.incrementAndGet();
        executor = new ThreadPoolExecutor(0, 1, 1, TimeUnit.MINUTES, new LinkedBlockingQueue<>(), task -> {
            Thread thread = new Thread(task, name);
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * Sweeps on connections borrowed from {@code connections}, for a store of {@code schema} (the
     * thread's name); {@code wake} is given the queue of each sweep that found jobs.
     */
    static FrontSweeps on(DirectConnections connections, String schema, Consumer<String> wake) {
        return new FrontSweeps(connections, schema, wake);
    }

    /**
     * Runs {@code sweep} of {@code queue} (true: it found jobs): later, on a borrowed connection, or
     * (inline) now on {@code claiming}. If it fails or cannot run, {@code failed} is run.
     */
    void run(Connection claiming, String queue, Runnable failed, SqlWork<Boolean> sweep) throws SQLException {
        if (executor == null) {
            try {
                sweep.apply(claiming);
            } catch (SQLException | RuntimeException e) {
                failed.run();
                throw e;
            }
            return;
        }
        try {
            executor.execute(() -> {
                try {
                    if (connections.run(sweep)) {
                        wake.accept(queue);
                    }
                } catch (SQLException | RuntimeException e) {
                    failed.run();
                    log.warn("a sweep of queue {} for jobs that sort before its claim floors failed; the next starts a period later",
                            queue, e);
                } catch (Error e) {
                    failed.run();
                    throw e;
                }
            });
        } catch (RejectedExecutionException e) {
            failed.run(); // never, with an unbounded queue; the claim's jobs are returned all the same
            log.warn("a sweep of queue {} for jobs that sort before its claim floors could not start", queue, e);
        }
    }
}
