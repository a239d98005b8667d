package dev.pgqueue.chaos;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.Job;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobStatus;
import dev.pgqueue.JobType;
import dev.pgqueue.Worker;
import dev.pgqueue.WorkerListener;
import dev.pgqueue.jdbi.JdbiJobQueue;
import dev.pgqueue.jdbi.JdbiJobStore;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Table health under churn: a producer and a worker (pruner on) push jobs through a PostgreSQL of
 * the harness's own while table and index sizes, dead rows and throughput are sampled at intervals.
 * Optionally a transaction elsewhere pins the xmin horizon for part of the run.
 */
public final class Soak {

    private static final Logger log = LoggerFactory.getLogger(Soak.class);
    static final String SCHEMA = "soak";
    private static final int BATCH = 500;
    private static final int BACKLOG = 5_000;

    public record Noop(int n) {}

    static final JobType<Noop> NOOP = JobType.of("noop", Noop.class);

    /** One sample: totals at {@code seconds} into the run, and the throughput since the previous one. */
    public record Sample(long seconds, long completed, double jobsPerSecond, long tableBytes, long indexBytes,
            long liveRows, long deadRows, long autovacuums, boolean pinned) {

        String line() {
            return String.format("| %5d s | %,10d | %,8.0f | %,9.1f | %,9.1f | %,9d | %,9d | %3d |%s",
                    seconds, completed, jobsPerSecond, tableBytes / 1048576.0, indexBytes / 1048576.0, liveRows,
                    deadRows, autovacuums, pinned ? " pinned |" : "        |");
        }

        static String header() {
            return "| time | completed | jobs/s | table MiB | indexes MiB | live rows | dead rows | autovacuums | xmin |\n"
                    + "|---:|---:|---:|---:|---:|---:|---:|---:|---|";
        }
    }

    /**
     * @param jobs        how many jobs to push through
     * @param sampleEvery sampling interval
     * @param pinFrom     when to open the transaction that pins the xmin horizon (null: never)
     * @param pinFor      how long it stays open
     * @param settings    extra server settings (autovacuum tuning)
     * @param retention   how long completed jobs are kept before the pruner deletes them
     * @param runFor      stop after this long even if fewer jobs are done (null: until all are)
     * @param tableSql    statements run on the migrated schema before the run (per-table storage settings)
     */
    public record Plan(long jobs, Duration sampleEvery, Duration pinFrom, Duration pinFor, List<String> settings,
            Duration retention, Duration runFor, List<String> tableSql) {}

    public record Result(List<Sample> samples, List<String> workerWarnings) {}

    public static Result run(Plan plan) throws Exception {
        List<String> warnings = Collections.synchronizedList(new ArrayList<>());
        try (OwnPostgres server = OwnPostgres.start(plan.settings())) {
            HikariConfig config = new HikariConfig();
            config.setJdbcUrl(server.jdbcUrl());
            config.setMaximumPoolSize(12);
            config.addDataSourceProperty("ApplicationName", "soak");
            try (HikariDataSource pool = new HikariDataSource(config)) {
                Jdbi jdbi = Jdbi.create(pool);
                JdbiJobStore store = JdbiJobStore.builder(jdbi).schema(SCHEMA).build();
                jdbi.useHandle(h -> plan.tableSql().forEach(h::execute));
                JdbiJobQueue queue = JdbiJobQueue.create(store);
                AtomicLong completed = new AtomicLong();
                Worker worker = Worker.builder(store)
                        .queue("default", 16)
                        .batchSize(200)
                        .pollInterval(Duration.ofMillis(200))
                        .retention(JobStatus.COMPLETED, plan.retention())
                        .pruneInterval(Duration.ofSeconds(1))
                        .tableHealthInterval(Duration.ofSeconds(5))
                        .handler(NOOP, (job, context) -> JobOutcome.done())
                        .listener(new WorkerListener() {
                            @Override
                            public void jobCompleted(Job<?> job, Duration runTime) {
                                completed.incrementAndGet();
                            }

                            @Override
                            public void tableUnhealthy(String report) {
                                warnings.add(report);
                            }
                        })
                        .build();
                worker.start();
                AtomicBoolean pinned = new AtomicBoolean();
                List<Sample> samples = new ArrayList<>();
                long started = System.nanoTime();
                long produced = 0;
                long nextSample = started + plan.sampleEvery().toNanos();
                long lastCompleted = 0;
                long lastSampleAt = started;
                Connection pin = null;
                try {
                    while (completed.get() < plan.jobs()) {
                        long now = System.nanoTime();
                        Duration elapsed = Duration.ofNanos(now - started);
                        if (plan.runFor() != null && elapsed.compareTo(plan.runFor()) >= 0) {
                            break;
                        }
                        if (plan.pinFrom() != null && pin == null && !pinned.get() && elapsed.compareTo(plan.pinFrom()) >= 0) {
                            pin = server.connect();
                            pin.setAutoCommit(false);
                            try (Statement st = pin.createStatement()) {
                                st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
                                st.execute("SELECT count(*) FROM " + SCHEMA + ".job_queue"); // takes the snapshot
                            }
                            pinned.set(true);
                            log.info("pinned the xmin horizon with an open REPEATABLE READ transaction");
                        }
                        if (pin != null && elapsed.compareTo(plan.pinFrom().plus(plan.pinFor())) >= 0) {
                            pin.rollback();
                            pin.close();
                            pin = null;
                            pinned.set(false);
                            log.info("released the xmin horizon");
                        }
                        if (produced < plan.jobs() && produced - completed.get() < BACKLOG) {
                            int n = (int) Math.min(BATCH, plan.jobs() - produced);
                            long from = produced;
                            queue.enqueueAll(NOOP, IntStream.range(0, n).mapToObj(i -> new Noop((int) (from + i))).toList(),
                                    EnqueueOptions.defaults());
                            produced += n;
                        } else {
                            Thread.sleep(2);
                        }
                        if (now >= nextSample) {
                            long done = completed.get();
                            double rate = (done - lastCompleted) / ((now - lastSampleAt) / 1e9);
                            Sample sample = sample(jdbi, elapsed.toSeconds(), done, rate, pin != null);
                            samples.add(sample);
                            log.info(sample.line());
                            lastCompleted = done;
                            lastSampleAt = now;
                            nextSample += plan.sampleEvery().toNanos();
                        }
                    }
                } finally {
                    if (pin != null) {
                        pin.close();
                    }
                    worker.close();
                }
                return new Result(samples, List.copyOf(warnings));
            }
        }
    }

    private static Sample sample(Jdbi jdbi, long seconds, long completed, double rate, boolean pinned) {
        Map<String, Object> row = jdbi.withHandle(h -> h.createQuery(
                        "SELECT pg_table_size(c.oid) AS t, pg_indexes_size(c.oid) AS i, s.n_live_tup AS live,"
                                + " s.n_dead_tup AS dead, s.autovacuum_count AS av"
                                + " FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid"
                                + " WHERE c.oid = '" + SCHEMA + ".job_queue'::regclass")
                .mapToMap().one());
        return new Sample(seconds, completed, rate, ((Number) row.get("t")).longValue(), ((Number) row.get("i")).longValue(),
                ((Number) row.get("live")).longValue(), ((Number) row.get("dead")).longValue(),
                ((Number) row.get("av")).longValue(), pinned);
    }
}
