package dev.pgqueue.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The workloads, the same for every {@link Subject} and defined as in the peer benchmark
 * ({@code bench-peers/README.md}): W1 drain, W2 wake-up latency, W3 enqueue; W4 is W1 on a table
 * that already holds many completed jobs. Each returns its metrics; the caller owns the database.
 */
final class Workloads {

    /** W2: how long after the last enqueue the last job may take to run. */
    private static final Duration LATENCY_TIMEOUT = Duration.ofSeconds(60);

    private Workloads() {}

    /**
     * W1: enqueue {@code jobs} in one bulk call (timed on its own), then start the worker and time
     * until every handler ran and no job is left unfinished in the database. The drain clock starts
     * right before the worker is started, so it includes the worker's start-up (LISTEN, first claim).
     */
    static List<Metric> drain(Subject subject, String url, int jobs, Duration timeout) throws Exception {
        List<Metric> metrics = new ArrayList<>();
        long t0 = System.nanoTime();
        subject.enqueueBulk(jobs);
        double enqueue = seconds(System.nanoTime() - t0);
        metrics.add(new Metric("enqueue_s", enqueue));
        metrics.add(new Metric("enqueue_jobs_per_s", jobs / enqueue));
        try (Monitor monitor = new Monitor(url)) {
            Recorder recorder = new Recorder(0);
            long start = System.nanoTime();
            subject.startWorker(recorder);
            monitor.awaitDrained(subject, recorder, jobs, start, timeout);
            double drain = seconds(System.nanoTime() - start);
            monitor.checkAllCompleted();
            if (recorder.started() != jobs) {
                Log.info("  note: the handler ran %d times for %d jobs", recorder.started(), jobs);
            }
            metrics.add(new Metric("drain_s", drain));
            metrics.add(new Metric("drain_jobs_per_s", jobs / drain));
        }
        return metrics;
    }

    /**
     * W2: the worker idles for {@code idle}, then {@code jobs} jobs are enqueued one at a time on a
     * fixed schedule of {@code rate} per second; each handler records now minus the payload's
     * timestamp, taken right before its enqueue call. Percentiles are nearest-rank.
     */
    static List<Metric> latency(Subject subject, String url, int jobs, int rate, Duration idle) throws Exception {
        try (Monitor monitor = new Monitor(url)) {
            Recorder recorder = new Recorder(jobs);
            subject.startWorker(recorder);
            Thread.sleep(idle.toMillis());
            long period = TimeUnit.SECONDS.toNanos(1) / rate;
            long start = System.nanoTime();
            for (int i = 0; i < jobs; i++) {
                sleepUntil(start + i * period);
                subject.enqueueOne(System.nanoTime());
            }
            long end = System.nanoTime();
            monitor.awaitDrained(subject, recorder, jobs, end, LATENCY_TIMEOUT);
            long[] latencies = recorder.sortedLatencies();
            List<Metric> metrics = new ArrayList<>();
            metrics.add(new Metric("latency_p50_ms", millis(percentile(latencies, 50))));
            metrics.add(new Metric("latency_p95_ms", millis(percentile(latencies, 95))));
            metrics.add(new Metric("latency_p99_ms", millis(percentile(latencies, 99))));
            metrics.add(new Metric("latency_max_ms", millis(latencies[latencies.length - 1])));
            metrics.add(new Metric("latency_mean_ms", millis(mean(latencies))));
            metrics.add(new Metric("achieved_enqueue_rate", jobs / seconds(end - start)));
            return metrics;
        }
    }

    /**
     * W3: {@code warmup} single enqueues (not timed), then {@code jobs} single enqueues in sequence
     * through the producer's one connection, then one bulk enqueue of {@code jobs}. With
     * {@code singles} false only the warm-up and the bulk enqueue run (a system that differs from
     * another only in its bulk path).
     */
    static List<Metric> enqueue(Subject subject, int warmup, int jobs, boolean singles) throws Exception {
        List<Metric> metrics = new ArrayList<>();
        for (int i = 0; i < warmup; i++) {
            subject.enqueueOne(Stamp.NONE);
        }
        if (singles) {
            long t0 = System.nanoTime();
            for (int i = 0; i < jobs; i++) {
                subject.enqueueOne(Stamp.NONE);
            }
            metrics.add(new Metric("single_jobs_per_s", jobs / seconds(System.nanoTime() - t0)));
        }
        long t1 = System.nanoTime();
        subject.enqueueBulk(jobs);
        metrics.add(new Metric("bulk_jobs_per_s", jobs / seconds(System.nanoTime() - t1)));
        return metrics;
    }

    /**
     * W4's set-up, not timed: {@code jobs} completed jobs in pgqueue's table, finished two days ago,
     * written by one statement; then VACUUM ANALYZE and a CHECKPOINT, so that the drain starts on a
     * table in the state a long-running service would leave it (visibility map set, statistics fresh)
     * and pays for no earlier writes.
     */
    static void prefillCompleted(String url, int jobs) throws SQLException {
        if (jobs == 0) {
            return;
        }
        long t0 = System.nanoTime();
        try (Connection c = Server.connect(url)) {
            try (PreparedStatement insert = c.prepareStatement("""
                    INSERT INTO job_queue (job_type, payload, status, attempt, created_at, run_at, processed_at,
                                           completed_at, lease_owner, lease_token, lease_expires_at)
                    SELECT 'bench-noop', '{"ts": 0}', 'completed', 1, t, t, t,
                           t + interval '1 millisecond', 'bench-prefill', gen_random_uuid(), t + interval '60 seconds'
                      FROM (SELECT now() - interval '2 days' + g * interval '1 millisecond' AS t
                              FROM generate_series(1, ?) AS g) AS s""")) {
                insert.setInt(1, jobs);
                insert.executeUpdate();
            }
            try (Statement st = c.createStatement()) {
                st.execute("VACUUM ANALYZE job_queue");
                st.execute("CHECKPOINT");
            }
        }
        Log.info("  prefilled %,d completed jobs in %.1f s", jobs, seconds(System.nanoTime() - t0));
    }

    /** Rows in {@code job_queue}, whatever their status. */
    static long rows(String url) throws SQLException {
        try (Connection c = Server.connect(url); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM job_queue")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Nearest-rank percentile of sorted values. */
    static long percentile(long[] sorted, double p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    private static double mean(long[] values) {
        double sum = 0;
        for (long v : values) {
            sum += v;
        }
        return sum / values.length;
    }

    /** Sleeps most of the way, then spins, so that the schedule holds to well under a millisecond. */
    private static void sleepUntil(long due) {
        long left;
        while ((left = due - System.nanoTime()) > 0) {
            if (left > 2_000_000L) {
                LockSupport.parkNanos(left - 1_000_000L);
            } else {
                Thread.onSpinWait();
            }
        }
    }

    static double seconds(long nanos) {
        return nanos / 1e9;
    }

    private static double millis(double nanos) {
        return nanos / 1e6;
    }
}
