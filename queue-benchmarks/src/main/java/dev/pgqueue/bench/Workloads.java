package dev.pgqueue.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
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
            long cpu = Cpu.processNanos();
            Log.info("  CPU by thread before the drain: %s", ThreadCpu.summary());
            long start = System.nanoTime();
            subject.startWorker(recorder);
            long started = System.nanoTime();
            monitor.awaitDrained(subject, recorder, jobs, start, timeout);
            double drain = seconds(System.nanoTime() - start);
            cpu = Cpu.processNanos() - cpu;
            monitor.checkAllCompleted();
            if (recorder.started() != jobs) {
                Log.info("  note: the handler ran %d times for %d jobs", recorder.started(), jobs);
            }
            metrics.add(new Metric("jobs", jobs));
            metrics.add(new Metric("drain_s", drain));
            metrics.add(new Metric("start_s", seconds(started - start)));
            metrics.add(new Metric("first_job_s", seconds(recorder.firstStartedNanos() - start)));
            metrics.add(new Metric("drain_jobs_per_s", jobs / drain));
            metrics.addAll(cpuPerJob(cpu, jobs));
            Log.info("  CPU by thread at the end of the drain: %s", ThreadCpu.summary());
        }
        return metrics;
    }

    /** W5 and W5R enqueue in chunks of this many jobs. */
    static final int CHUNK = 10;
    /** W5R keeps up when it completes at least this share of the offered rate during the window... */
    static final double KEPT_UP = 0.95;
    /** ...and no backlog grows: the p99 latency of the window's jobs is at most this. */
    static final long KEPT_UP_P99_NANOS = TimeUnit.SECONDS.toNanos(1);

    /**
     * W5: enqueue {@code jobs} real-work jobs in one bulk call (every tenth fails its first attempt),
     * then start the worker and time until each is done (its transaction committed) and no job is
     * left unfinished in the database; then {@link #verifyExactlyOnce}. The clock starts right before
     * the worker starts, as W1's.
     */
    static List<Metric> work(Subject subject, String url, int jobs, Duration timeout) throws Exception {
        createResultTable(url, subject.idType());
        List<Metric> metrics = new ArrayList<>();
        List<Work> payloads = new ArrayList<>(jobs);
        for (int i = 0; i < jobs; i++) {
            payloads.add(Work.nth(i, Stamp.NONE));
        }
        long t0 = System.nanoTime();
        subject.enqueueWork(payloads);
        metrics.add(new Metric("enqueue_jobs_per_s", jobs / seconds(System.nanoTime() - t0)));
        try (Monitor monitor = new Monitor(url)) {
            Completions completions = new Completions(jobs);
            long cpu = Cpu.processNanos();
            Log.info("  CPU by thread before the drain: %s", ThreadCpu.summary());
            long start = System.nanoTime();
            subject.startWork(completions);
            monitor.awaitDrained(subject, completions::done, jobs, start, timeout);
            double drain = seconds(System.nanoTime() - start);
            cpu = Cpu.processNanos() - cpu;
            metrics.add(new Metric("jobs", jobs));
            metrics.add(new Metric("drain_s", drain));
            metrics.add(new Metric("drain_jobs_per_s", jobs / drain));
            metrics.addAll(cpuPerJob(cpu, jobs));
            Log.info("  CPU by thread at the end of the drain: %s", ThreadCpu.summary());
            metrics.add(new Metric("attempts", completions.attempts()));
            metrics.addAll(verifyExactlyOnce(url, subject.attemptColumn(), jobs));
        }
        return metrics;
    }

    /**
     * W5R: the worker starts, and a producer enqueues real-work jobs in chunks of {@link #CHUNK} on a
     * fixed schedule of {@code rate} jobs per second for {@code warmup} plus {@code duration}; the
     * figures are those of the window after the warm-up. Then the backlog drains and
     * {@link #verifyExactlyOnce} checks every job.
     */
    static List<Metric> steady(Subject subject, String url, int rate, Duration warmup, Duration duration,
                               Duration timeout) throws Exception {
        createResultTable(url, subject.idType());
        try (Monitor monitor = new Monitor(url)) {
            Completions completions = new Completions(capacity(rate, warmup.plus(duration)));
            subject.startWork(completions);
            Step step = steadyStep(subject, completions, rate, warmup, duration, 0);
            monitor.awaitDrained(subject, completions::done, step.enqueued(), System.nanoTime(), timeout);
            Log.info("  CPU by thread at the end of the window: %s", ThreadCpu.summary());
            List<Metric> metrics = new ArrayList<>(step.metrics());
            metrics.add(new Metric("jobs", step.enqueued()));
            metrics.addAll(verifyExactlyOnce(url, subject.attemptColumn(), step.enqueued()));
            return metrics;
        }
    }

    /**
     * W5R's highest steady rate: steps of W5R ({@code warmup} + {@code duration} each) on one worker,
     * from {@code first} jobs per second up by {@code increment}, each after the previous step's
     * backlog drained, until a rate does not keep up twice in a row (a noisy step, or the fresh JVM's
     * first, gets a second chance), or a backlog does not drain within {@code timeout}. Reports the
     * highest rate that kept up and that step's figures.
     */
    static List<Metric> highestSteadyRate(Subject subject, String url, int first, int increment, int most,
                                          Duration warmup, Duration duration, Duration timeout) throws Exception {
        createResultTable(url, subject.idType());
        try (Monitor monitor = new Monitor(url)) {
            int steps = (most - first) / increment + 1;
            int capacity = 0;
            for (int rate = first; rate <= most; rate += increment) {
                capacity += 2 * capacity(rate, warmup.plus(duration)); // each rate may run twice
            }
            Completions completions = new Completions(capacity);
            subject.startWork(completions);
            int enqueued = 0;
            Step best = null;
            boolean retried = false;
            for (int rate = first; rate <= most; ) {
                Step step = steadyStep(subject, completions, rate, warmup, duration, enqueued);
                enqueued += step.enqueued();
                boolean drained = monitor.drainedWithin(subject, completions::done, enqueued, timeout);
                Log.info("  %d jobs/s: %s; %s", rate, step.keptUp() ? "kept up" : "did NOT keep up",
                        step.metrics().stream().map(m -> m.name() + "=" + Results.format(m.value())).toList());
                if (!drained || (!step.keptUp() && retried)) {
                    break;
                }
                if (!step.keptUp()) {
                    retried = true; // once per rate: a noisy step (or the fresh JVM's first) gets a second chance
                    continue;
                }
                best = step;
                retried = false;
                rate += increment;
            }
            List<Metric> metrics = new ArrayList<>();
            metrics.add(new Metric("max_steady_jobs_per_s", best == null ? 0 : best.rate()));
            if (best != null) {
                for (Metric m : best.metrics()) {
                    metrics.add(new Metric("at_max_" + m.name(), m.value()));
                }
            }
            monitor.awaitDrained(subject, completions::done, enqueued, System.nanoTime(), timeout);
            metrics.add(new Metric("jobs", enqueued));
            metrics.addAll(verifyExactlyOnce(url, subject.attemptColumn(), enqueued));
            Log.info("  highest steady rate: %d jobs/s (steps of %d from %d, at most %d steps)",
                    best == null ? 0 : best.rate(), increment, first, steps);
            return metrics;
        }
    }

    /** One W5R run at one rate: how many jobs it enqueued, whether it kept up, its figures. */
    record Step(int rate, int enqueued, boolean keptUp, List<Metric> metrics) {}

    /**
     * Enqueues chunks of {@link #CHUNK} jobs at {@code rate} jobs per second for {@code warmup} plus
     * {@code duration}, each chunk stamped with {@link System#nanoTime()} right before its enqueue
     * call; returns as soon as the last chunk is enqueued, with the figures of the window after the
     * warm-up: the offered rate (chunks enqueued in the window), the completed rate (commits in the
     * window, whenever their jobs were enqueued), whether it kept up (completed ≥ {@link #KEPT_UP} ×
     * offered and a p99 latency of at most 1 s: a backlog that grows all along fails the latter), the
     * latency (enqueue call to commit) of the jobs enqueued in the window, and CPU per job done in
     * it. Latencies of jobs not done yet when this returns are not counted, so a caller that wants
     * them waits for the backlog to drain before reading {@code completions} again: this method
     * waits itself, at most until every job enqueued in the window is done or 60 s passed.
     */
    static Step steadyStep(Subject subject, Completions completions, int rate, Duration warmup, Duration duration,
                           int firstIndex) throws Exception {
        long period = TimeUnit.SECONDS.toNanos(CHUNK) / rate;
        int chunks = (int) ((warmup.toNanos() + duration.toNanos()) / period);
        long start = System.nanoTime();
        long windowFrom = start + warmup.toNanos();
        long windowTo = windowFrom + duration.toNanos();
        int index = firstIndex;
        int inWindow = 0;
        long cpuFrom = -1;
        for (int k = 0; k < chunks; k++) {
            sleepUntil(start + k * period);
            long stamp = System.nanoTime();
            if (cpuFrom < 0 && stamp >= windowFrom) {
                cpuFrom = Cpu.processNanos();
            }
            List<Work> chunk = new ArrayList<>(CHUNK);
            for (int i = 0; i < CHUNK; i++) {
                chunk.add(Work.nth(index++, stamp));
            }
            subject.enqueueWork(chunk);
            if (stamp >= windowFrom && stamp < windowTo) {
                inWindow += CHUNK;
            }
        }
        sleepUntil(windowTo);
        long cpu = Cpu.processNanos() - cpuFrom;
        int doneInWindow = completions.doneBetween(windowFrom, windowTo);
        double window = seconds(windowTo - windowFrom);
        double offered = inWindow / window;
        double completed = doneInWindow / window;

        // the window's jobs still running now are part of its latency: wait for them (bounded)
        long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (completions.done() < index && System.nanoTime() < waitUntil && subject.failure().isEmpty()) {
            Thread.sleep(5);
        }
        long[] latencies = completions.latenciesOfStampedBetween(windowFrom, windowTo);
        boolean keptUp = completed >= KEPT_UP * offered && latencies.length > 0
                && percentile(latencies, 99) <= KEPT_UP_P99_NANOS;
        List<Metric> metrics = new ArrayList<>();
        metrics.add(new Metric("target_jobs_per_s", rate));
        metrics.add(new Metric("offered_jobs_per_s", offered));
        metrics.add(new Metric("completed_jobs_per_s", completed));
        metrics.add(new Metric("kept_up", keptUp ? 1 : 0));
        if (latencies.length > 0) {
            metrics.add(new Metric("latency_p50_ms", millis(percentile(latencies, 50))));
            metrics.add(new Metric("latency_p99_ms", millis(percentile(latencies, 99))));
            metrics.add(new Metric("latency_max_ms", millis(latencies[latencies.length - 1])));
        }
        metrics.addAll(cpuPerJob(cpu, Math.max(1, doneInWindow)));
        return new Step(rate, index - firstIndex, keptUp, metrics);
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
            long[] calls = new long[jobs];
            long start = System.nanoTime();
            for (int i = 0; i < jobs; i++) {
                sleepUntil(start + i * period);
                long stamp = System.nanoTime();
                subject.enqueueOne(stamp);
                calls[i] = System.nanoTime() - stamp;
            }
            long end = System.nanoTime();
            monitor.awaitDrained(subject, recorder, jobs, end, LATENCY_TIMEOUT);
            long[] latencies = recorder.sortedLatencies();
            Log.info("  slowest jobs (in the order they started): %s", recorder.slowest(8));
            List<Metric> metrics = new ArrayList<>();
            metrics.add(new Metric("latency_p50_ms", millis(percentile(latencies, 50))));
            metrics.add(new Metric("latency_p95_ms", millis(percentile(latencies, 95))));
            metrics.add(new Metric("latency_p99_ms", millis(percentile(latencies, 99))));
            metrics.add(new Metric("latency_max_ms", millis(latencies[latencies.length - 1])));
            metrics.add(new Metric("latency_mean_ms", millis(mean(latencies))));
            // The enqueue call is inside every latency: the producer's share, apart from the worker's.
            Arrays.sort(calls);
            metrics.add(new Metric("enqueue_call_p50_ms", millis(percentile(calls, 50))));
            metrics.add(new Metric("enqueue_call_p99_ms", millis(percentile(calls, 99))));
            metrics.add(new Metric("enqueue_call_max_ms", millis(calls[calls.length - 1])));
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
            long cpu = Cpu.processNanos();
            long t0 = System.nanoTime();
            for (int i = 0; i < jobs; i++) {
                subject.enqueueOne(Stamp.NONE);
            }
            metrics.add(new Metric("single_jobs_per_s", jobs / seconds(System.nanoTime() - t0)));
            if (cpu >= 0) {
                metrics.add(new Metric("single_cpu_ms_per_job", (Cpu.processNanos() - cpu) / 1e6 / jobs));
            }
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

    /** W5's result table for job ids of SQL type {@code idType}: no key, so that a duplicate would show. */
    static String resultTable(String idType) {
        return "CREATE TABLE bench_result (job_id " + idType + " NOT NULL, done_at timestamptz NOT NULL DEFAULT now())";
    }

    static void createResultTable(String url, String idType) throws SQLException {
        try (Connection c = Server.connect(url); Statement st = c.createStatement()) {
            st.execute(resultTable(idType));
        }
    }

    /**
     * W5's exactly-once check, after the drain: the table holds exactly {@code jobs} jobs, all
     * completed; {@code bench_result} holds exactly one row per job (none missing, no duplicates, none
     * for a job that does not exist); and at least every planned failure was retried (a job whose
     * attempt column is above 1). Returns {@code duplicates}, {@code missing} (both 0) and
     * {@code retried_jobs}.
     *
     * @throws IllegalStateException naming every count, if any check fails: the measurement fails
     */
    static List<Metric> verifyExactlyOnce(String url, String attemptColumn, int jobs) throws SQLException {
        String sql = """
                SELECT (SELECT count(*) FROM job_queue),
                       (SELECT count(*) FROM job_queue WHERE status = 'completed'),
                       (SELECT count(*) FROM bench_result),
                       (SELECT count(*) - count(DISTINCT job_id) FROM bench_result),
                       (SELECT count(*) FROM job_queue j WHERE NOT EXISTS (SELECT 1 FROM bench_result r WHERE r.job_id = j.id)),
                       (SELECT count(*) FROM bench_result r WHERE NOT EXISTS (SELECT 1 FROM job_queue j WHERE j.id = r.job_id)),
                       (SELECT count(*) FROM job_queue WHERE %s > 1)""".formatted(attemptColumn);
        try (Connection c = Server.connect(url); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            long total = rs.getLong(1);
            long completed = rs.getLong(2);
            long results = rs.getLong(3);
            long duplicates = rs.getLong(4);
            long missing = rs.getLong(5);
            long orphans = rs.getLong(6);
            long retried = rs.getLong(7);
            long planned = plannedFailures(jobs);
            String counts = String.format(Locale.ROOT, "%d jobs expected: %d in the table, %d completed; %d result rows, "
                    + "%d duplicates, %d jobs without a result, %d results without a job; %d jobs retried (%d planned failures)",
                    jobs, total, completed, results, duplicates, missing, orphans, retried, planned);
            if (total != jobs || completed != jobs || results != jobs || duplicates != 0 || missing != 0 || orphans != 0
                    || retried < planned) {
                throw new IllegalStateException("exactly-once check FAILED: " + counts);
            }
            Log.info("  exactly once: %s", counts);
            return List.of(new Metric("duplicates", duplicates), new Metric("missing", missing),
                    new Metric("retried_jobs", retried));
        }
    }

    /** How many of jobs 0 .. jobs-1 fail their first attempt ({@link Work#nth}). */
    static long plannedFailures(int jobs) {
        return jobs / Work.FAIL_EVERY;
    }

    /** CPU time of this whole process over a phase, and per job of it; none if the JVM cannot tell. */
    static List<Metric> cpuPerJob(long cpuNanos, int jobs) {
        if (cpuNanos < 0) {
            return List.of();
        }
        return List.of(new Metric("cpu_s", seconds(cpuNanos)), new Metric("cpu_ms_per_job", cpuNanos / 1e6 / jobs));
    }

    /** How many completions W5R at {@code rate} for {@code time} can record, with room for a slow clock. */
    private static int capacity(int rate, Duration time) {
        return (int) Math.min(Integer.MAX_VALUE / 2, (long) rate * (time.toSeconds() + 1) + 10 * CHUNK);
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
    static void sleepUntil(long due) {
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
