package dev.pgqueue.chaos;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pgqueue.JobHandler;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.Worker;
import dev.pgqueue.jdbi.JdbiJobStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jdbi.v3.core.Jdbi;

/**
 * One chaos worker, in a JVM of its own so that the harness can SIGKILL, SIGSTOP and SIGCONT it.
 * Every handler runs in a transaction with its job's outcome ({@link JdbiJobStore#transactional}):
 * it writes one ledger row (job, attempt, worker, when it started, when it finished) in that
 * transaction, so a row exists if and only if that attempt's outcome was accepted under its lease.
 * Separately, and outside any transaction, it logs each handler start and end ({@link EventLog}).
 *
 * <p>Arguments: JDBC URL, schema, worker id, directory of the event logs.
 */
public final class ChaosWorkerMain {

    static final int CONCURRENCY = 8;
    static final Duration LEASE = Duration.ofSeconds(3);
    static final Duration HEARTBEAT = Duration.ofSeconds(1);
    static final Duration RESCUE_INTERVAL = Duration.ofSeconds(1);

    public static void main(String[] args) throws Exception {
        String url = args[0];
        String schema = args[1];
        String workerId = args[2];
        EventLog events = new EventLog(Path.of(args[3], workerId + ".events"));

        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.addDataSourceProperty("ApplicationName", "chaos-worker-" + workerId);
        config.setMaximumPoolSize(CONCURRENCY + 5);
        config.setConnectionTimeout(5_000);
        config.setPoolName("chaos-" + workerId);
        HikariDataSource pool = new HikariDataSource(config);
        Jdbi jdbi = Jdbi.create(pool);
        JdbiJobStore store = JdbiJobStore.builder(jdbi).schema(schema).migrate(false).build();
        String ledger = schema + ".chaos_ledger";

        JobHandler<ChaosJob> transactional = store.transactional((job, context, handle) -> {
            long started = EventLog.nowMicros();
            ChaosJob p = job.payload();
            String note;
            JobOutcome outcome;
            switch (ChaosJob.Kind.of(p)) {
                case FAST -> {
                    Thread.sleep(p.millis());
                    note = "done";
                    outcome = JobOutcome.done();
                }
                case SLOW -> {
                    sleepIgnoringInterrupts(p.millis());
                    note = "done";
                    outcome = JobOutcome.done();
                }
                case FLAKY -> {
                    if (job.retryCount() < p.failTimes()) {
                        throw new IllegalStateException("flaky: failure " + (job.retryCount() + 1) + " of " + p.failTimes());
                    }
                    note = "done";
                    outcome = JobOutcome.done();
                }
                case DOOMED -> throw new IllegalStateException("doomed: this job always fails");
                case SNOOZER -> {
                    int snoozedSoFar = job.attempt() - 1 - job.retryCount();
                    if (snoozedSoFar < p.snoozes()) {
                        note = "snooze";
                        outcome = JobOutcome.snooze(ChaosJob.SNOOZE);
                    } else {
                        note = "done";
                        outcome = JobOutcome.done();
                    }
                }
                default -> throw new IllegalStateException("unknown kind " + p.kind());
            }
            handle.execute("INSERT INTO " + ledger + " (job_id, attempt, worker, note, started_at, finished_at)"
                            + " VALUES (?, ?, ?, ?, to_timestamp(? / 1e6), clock_timestamp())",
                    job.id(), job.attempt(), workerId, note, started);
            return outcome;
        });

        Worker worker = Worker.builder(store)
                .workerId(workerId)
                .queue("default", CONCURRENCY)
                .leaseDuration(LEASE)
                .heartbeatInterval(HEARTBEAT)
                .rescueInterval(RESCUE_INTERVAL)
                .pollInterval(Duration.ofSeconds(1))
                .shutdownTimeout(Duration.ofSeconds(5))
                .handler(ChaosJob.TYPE, (job, context) -> {
                    events.start(job.id(), job.attempt(), workerId);
                    try {
                        JobOutcome outcome = transactional.handle(job, context);
                        events.end(job.id(), job.attempt(), workerId, "ok");
                        return outcome;
                    } catch (Exception | Error e) {
                        events.end(job.id(), job.attempt(), workerId, "threw:" + e.getClass().getSimpleName());
                        throw e;
                    }
                })
                .build();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            worker.close();
            pool.close();
        }));
        // If the harness dies without stopping us, do not linger as an orphan.
        ProcessHandle.current().parent().ifPresent(parent -> parent.onExit().thenRun(() -> Runtime.getRuntime().halt(3)));
        worker.start();
        System.out.println("chaos worker " + workerId + " started, pid " + ProcessHandle.current().pid());
        Thread.sleep(Long.MAX_VALUE); // until stopped or killed
    }

    /** Works like a handler that does not check for interruption: only the fence can stop its outcome. */
    private static void sleepIgnoringInterrupts(long millis) {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        boolean interrupted = false;
        long left;
        while ((left = until - System.nanoTime()) > 0) {
            try {
                TimeUnit.NANOSECONDS.sleep(left);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
