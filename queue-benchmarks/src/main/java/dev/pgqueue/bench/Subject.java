package dev.pgqueue.bench;

import java.util.List;
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
    default void enqueueBulk(int jobs) throws Exception {
        enqueueStamped(jobs, Stamp.NONE);
    }

    /** Enqueues {@code jobs} jobs stamped {@code stamp} in one bulk call (one transaction), through the producer. */
    void enqueueStamped(int jobs, long stamp) throws Exception;

    /** Starts the worker; returns once it is started, not once it has claimed anything. */
    void startWorker(Recorder recorder) throws Exception;

    /** W5, W5R: enqueues {@code jobs} of the real-work type in one bulk call, through the producer. */
    void enqueueWork(List<Work> jobs) throws Exception;

    /**
     * W5, W5R: starts the worker with the real-work handler: each attempt spins {@link Work#spin() 1 ms},
     * inserts one row {@code (job_id)} into {@code bench_result}, throws if {@link Work#failsOn} its
     * attempt, else completes the job in the same transaction; after the commit it records the job in
     * {@code completions}.
     */
    void startWork(Completions completions) throws Exception;

    /** The SQL type of the job ids, for {@code bench_result.job_id}. */
    String idType();

    /** The job table's column counting attempts (claims). */
    String attemptColumn();

    /** A failure that makes waiting pointless (a worker thread died, a job failed); empty if none. */
    default Optional<Throwable> failure() {
        return Optional.empty();
    }
}
