package dev.pgqueue.bench;

import java.util.Optional;

/**
 * A system under test: pgqueue in one configuration, or the raw-JDBC ceiling. The workloads drive it
 * from one thread; its worker runs on threads of its own. Jobs are no-ops whose handler calls
 * {@link Recorder#jobStarted} first thing with the payload's {@link Stamp}.
 */
interface Subject extends AutoCloseable {

    /** Enqueues one job, in its own transaction, through the producer's one connection. */
    void enqueueOne(long stamp) throws Exception;

    /** Enqueues {@code jobs} jobs with {@link Stamp#NONE} in one bulk call. */
    void enqueueBulk(int jobs) throws Exception;

    /** Starts the worker; returns once it is started, not once it has claimed anything. */
    void startWorker(Recorder recorder) throws Exception;

    /** A failure that makes waiting pointless (a worker thread died, a job failed); empty if none. */
    default Optional<Throwable> failure() {
        return Optional.empty();
    }
}
