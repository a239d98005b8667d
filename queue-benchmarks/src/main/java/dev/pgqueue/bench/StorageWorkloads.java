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
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Issue 18's workloads: how a queue's storage holds up when vacuum cannot keep up. A producer
 * enqueues no-op jobs at a fixed offered rate (a chunk every {@link #CHUNK_MILLIS} ms, each chunk one
 * transaction, stamped with {@link System#nanoTime()} right before its enqueue call) while the
 * subject's workers drain them; every {@link #WINDOW_SECONDS} s a sampler logs a {@code series} line
 * (offered and completed rate, claim latency p50/p99 of the jobs started in that window, backlog,
 * dead tuples, table and index sizes of the subject's tables, autovacuum runs, the oldest xmin age).
 * <ul>
 *   <li>{@link #pinned}: after a warm-up, a baseline interval, then a {@code REPEATABLE READ}
 *   transaction on its own connection takes a snapshot and stays idle in transaction for the same
 *   length of time, then some recovery time; the pinned interval against the baseline.</li>
 *   <li>{@link #autovac}: the offered rate for a long run with whatever autovacuum settings the
 *   server has; spread of the per-window completion rate, sizes over time.</li>
 *   <li>{@link #sustained}: steps of offered rate until one is not kept up twice in a row.</li>
 *   <li>{@link #drain}: W1's drain (jobs enqueued first, then the worker starts).</li>
 * </ul>
 * "Completed" counts jobs as their handler starts (pgqueue's completer records outcomes in batches
 * a few milliseconds later); claim latency is enqueue call to handler start.
 */
final class StorageWorkloads {

    static final int WINDOW_SECONDS = 10;
    static final long CHUNK_MILLIS = 50;
    /** Kept up: completed at least this share of offered, the backlog at most a second's worth, p99 at most 1 s. */
    static final double KEPT_UP = 0.95;
    /** pinned, autovac: how long the backlog may take to drain after the producer stops ({@code drain_after_s} = -1 past it). */
    static final Duration DRAIN_AFTER_TIMEOUT = Duration.ofMinutes(3);

    private StorageWorkloads() {}

    /** A queue's storage under test: pgqueue, the raw reference on its table, or a {@link Prototype}. */
    interface StorageSubject extends AutoCloseable {
        String name();

        /** {@code LIKE} patterns of the tables to watch. */
        List<String> tables();

        /** Enqueues {@code jobs} no-op jobs stamped {@code stamp} in one transaction. */
        void enqueue(int jobs, long stamp) throws Exception;

        /** Starts the workers; each job's handler calls {@code recorder.jobStarted(stamp)} first. */
        void start(Recorder recorder) throws Exception;

        /** Jobs not yet finished in the database. */
        long unfinished(String url) throws SQLException;

        Optional<Throwable> failure();

        /** A line about the subject's own state, for the log. */
        default String state() {
            return "";
        }
    }

    /** An existing benchmark {@link Subject} (pgqueue, or the raw reference on its table) on {@code job_queue}. */
    static StorageSubject of(String name, Subject subject) {
        return new StorageSubject() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public List<String> tables() {
                return List.of("job\\_queue");
            }

            @Override
            public void enqueue(int jobs, long stamp) throws Exception {
                subject.enqueueStamped(jobs, stamp);
            }

            @Override
            public void start(Recorder recorder) throws Exception {
                subject.startWorker(recorder);
            }

            @Override
            public long unfinished(String url) throws SQLException {
                try (Connection c = Server.connect(url); Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("SELECT (SELECT count(*) FROM job_queue WHERE status = 'pending') "
                             + "+ (SELECT count(*) FROM job_queue WHERE status = 'processing')")) {
                    rs.next();
                    return rs.getLong(1);
                }
            }

            @Override
            public Optional<Throwable> failure() {
                return subject.failure();
            }

            @Override
            public void close() throws Exception {
                subject.close();
            }
        };
    }

    // ---------------------------------------------------------------- workloads

    /**
     * Warm-up, then {@code baseline}, then {@code pin} with a {@code REPEATABLE READ} snapshot held idle
     * in transaction, then {@code after}; then the producer stops and the backlog drains.
     */
    static List<Metric> pinned(StorageSubject subject, String url, int rate, Duration warmup, Duration baseline, Duration pin,
            Duration after) throws Exception {
        try (Run run = new Run(subject, url)) {
            run.producer.rate = rate;
            int w0 = run.secondsToWindowEdge(warmup);
            int pinSeconds = (int) pin.toSeconds();
            int pinFrom = w0 + (int) baseline.toSeconds();
            int pinTo = pinFrom + pinSeconds;
            int end = pinTo + (int) after.toSeconds();
            run.until(pinFrom);
            Run.Sample beforePin = run.sampleNow("pin opens");
            try (Connection pinning = Server.connect(url)) {
                pinning.setAutoCommit(false);
                pinning.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
                try (Statement st = pinning.createStatement(); ResultSet rs = st.executeQuery(
                        "SELECT count(*), pg_current_snapshot()::text FROM bench_pin")) {
                    rs.next();
                    Log.info("  pinned: a REPEATABLE READ transaction took snapshot %s and stays idle in transaction for %d s",
                            rs.getString(2), pinSeconds);
                }
                run.until(pinTo);
                pinning.rollback();
            }
            Run.Sample atRelease = run.sampleNow("pin released");
            run.until(end);
            run.producer.rate = 0;
            double drainAfter = run.awaitDrained(DRAIN_AFTER_TIMEOUT);
            List<Metric> m = new ArrayList<>();
            m.add(new Metric("target_jobs_per_s", rate));
            double base = run.completedRate(w0, pinFrom);
            double pinned = run.completedRate(pinFrom, pinTo);
            m.add(new Metric("base_offered_jobs_per_s", run.offeredRate(w0, pinFrom)));
            m.add(new Metric("base_completed_jobs_per_s", base));
            m.add(new Metric("pinned_offered_jobs_per_s", run.offeredRate(pinFrom, pinTo)));
            m.add(new Metric("pinned_completed_jobs_per_s", pinned));
            m.add(new Metric("after_completed_jobs_per_s", run.completedRate(pinTo, end)));
            m.add(new Metric("pinned_throughput_pct_of_base", 100.0 * pinned / base));
            m.add(new Metric("pinned_min_window_jobs_per_s", run.minWindowRate(pinFrom, pinTo)));
            long[] baseLat = run.latencies(w0, pinFrom);
            long[] pinLat = run.latencies(pinFrom, pinTo);
            m.add(new Metric("base_latency_p50_ms", ms(percentile(baseLat, 50))));
            m.add(new Metric("base_latency_p99_ms", ms(percentile(baseLat, 99))));
            m.add(new Metric("pinned_latency_p50_ms", ms(percentile(pinLat, 50))));
            m.add(new Metric("pinned_latency_p99_ms", ms(percentile(pinLat, 99))));
            m.add(new Metric("pinned_p99_ratio", (double) percentile(pinLat, 99) / Math.max(1, percentile(baseLat, 99))));
            m.add(new Metric("dead_tuples_at_pin", beforePin.dead()));
            m.add(new Metric("dead_tuples_at_release", atRelease.dead()));
            m.add(new Metric("dead_tuples_max", run.maxDead()));
            m.add(new Metric("table_mib_at_pin", mib(beforePin.tableBytes())));
            m.add(new Metric("table_mib_at_release", mib(atRelease.tableBytes())));
            m.add(new Metric("index_mib_at_pin", mib(beforePin.indexBytes())));
            m.add(new Metric("index_mib_at_release", mib(atRelease.indexBytes())));
            m.add(new Metric("backlog_at_release", atRelease.backlog()));
            m.add(new Metric("drain_after_s", drainAfter));
            m.add(new Metric("jobs", run.producer.enqueued.get()));
            return m;
        }
    }

    /** Warm-up, then {@code duration} at {@code rate} with the server's autovacuum as it is. */
    static List<Metric> autovac(StorageSubject subject, String url, int rate, Duration warmup, Duration duration) throws Exception {
        try (Run run = new Run(subject, url)) {
            run.producer.rate = rate;
            int w0 = run.secondsToWindowEdge(warmup);
            int end = w0 + (int) duration.toSeconds();
            int quarter = (end - w0) / 4;
            run.until(w0);
            Run.Sample start = run.sampleNow("measured run starts");
            run.until(w0 + quarter);
            Run.Sample q1 = run.sampleNow("a quarter");
            run.until(w0 + 2 * quarter);
            Run.Sample q2 = run.sampleNow("half");
            run.until(w0 + 3 * quarter);
            Run.Sample q3 = run.sampleNow("three quarters");
            run.until(end);
            Run.Sample last = run.sampleNow("end");
            run.producer.rate = 0;
            double drainAfter = run.awaitDrained(DRAIN_AFTER_TIMEOUT);
            double[] windows = run.windowRates(w0, end);
            double mean = Arrays.stream(windows).average().orElse(0);
            double min = Arrays.stream(windows).min().orElse(0);
            double max = Arrays.stream(windows).max().orElse(0);
            long[] lat = run.latencies(w0, end);
            List<Metric> m = new ArrayList<>();
            m.add(new Metric("target_jobs_per_s", rate));
            m.add(new Metric("offered_jobs_per_s", run.offeredRate(w0, end)));
            m.add(new Metric("completed_jobs_per_s", run.completedRate(w0, end)));
            m.add(new Metric("window_min_jobs_per_s", min));
            m.add(new Metric("window_max_jobs_per_s", max));
            m.add(new Metric("window_spread_pct", 100.0 * Math.max(mean - min, max - mean) / mean));
            m.add(new Metric("window_stddev_pct", 100.0 * stddev(windows, mean) / mean));
            m.add(new Metric("latency_p50_ms", ms(percentile(lat, 50))));
            m.add(new Metric("latency_p99_ms", ms(percentile(lat, 99))));
            m.add(new Metric("worst_window_p99_ms", run.worstWindowP99(w0, end)));
            m.add(new Metric("dead_tuples_max", run.maxDead()));
            m.add(new Metric("dead_tuples_end", last.dead()));
            for (var s : List.of(new Object[] {"start", start}, new Object[] {"q1", q1}, new Object[] {"half", q2},
                    new Object[] {"q3", q3}, new Object[] {"end", last})) {
                Run.Sample sample = (Run.Sample) s[1];
                m.add(new Metric("table_mib_" + s[0], mib(sample.tableBytes())));
                m.add(new Metric("index_mib_" + s[0], mib(sample.indexBytes())));
            }
            m.add(new Metric("autovacuum_runs", last.autovacuums()));
            m.add(new Metric("drain_after_s", drainAfter));
            m.add(new Metric("jobs", run.producer.enqueued.get()));
            return m;
        }
    }

    /**
     * Steps of {@code stepWarmup} + {@code stepWindow} from {@code from} jobs/s up by {@code step}, the
     * backlog drained between steps (producer paused), until a rate is not kept up twice in a row.
     */
    static List<Metric> sustained(StorageSubject subject, String url, int from, int step, int max,
                                  Duration stepWarmup, Duration stepWindow) throws Exception {
        try (Run run = new Run(subject, url)) {
            int best = 0;
            List<Metric> atBest = List.of();
            boolean retried = false;
            for (int rate = from; rate <= max; ) {
                run.producer.rate = rate;
                int a = run.elapsedSeconds() + (int) stepWarmup.toSeconds();
                int b = a + (int) stepWindow.toSeconds();
                run.until(a);
                long backlogFrom = run.backlog();
                run.until(b);
                long backlogTo = run.backlog();
                run.producer.rate = 0;
                double offered = run.offeredRate(a, b);
                double completed = run.completedRate(a, b);
                long[] lat = run.latencies(a, b);
                long p99 = percentile(lat, 99);
                boolean kept = completed >= KEPT_UP * offered && backlogTo - backlogFrom <= rate && backlogTo <= rate
                        && p99 <= TimeUnit.SECONDS.toNanos(1);
                Log.info("  sustained %d jobs/s: offered %.0f, completed %.0f, backlog %d -> %d, p50 %.1f ms, p99 %.1f ms: %s",
                        rate, offered, completed, backlogFrom, backlogTo, ms(percentile(lat, 50)), ms(p99),
                        kept ? "kept up" : "did NOT keep up");
                double drained = run.awaitDrained(Duration.ofMinutes(3));
                if (kept) {
                    best = rate;
                    atBest = List.of(new Metric("at_max_offered_jobs_per_s", offered),
                            new Metric("at_max_completed_jobs_per_s", completed),
                            new Metric("at_max_latency_p50_ms", ms(percentile(lat, 50))),
                            new Metric("at_max_latency_p99_ms", ms(p99)),
                            new Metric("at_max_dead_tuples", run.sampleNow("step end").dead()));
                    retried = false;
                    rate += step;
                } else if (!retried && drained >= 0) {
                    retried = true;
                } else {
                    break;
                }
            }
            List<Metric> m = new ArrayList<>();
            m.add(new Metric("max_sustained_jobs_per_s", best));
            m.addAll(atBest);
            m.add(new Metric("dead_tuples_max", run.maxDead()));
            m.add(new Metric("jobs", run.producer.enqueued.get()));
            return m;
        }
    }

    /** W1's drain: {@code jobs} enqueued (in chunks of 5,000), then the clock runs from the worker's start until none is unfinished. */
    static List<Metric> drain(StorageSubject subject, String url, int jobs, Duration timeout) throws Exception {
        try (subject) {
            createPinTable(url);
            for (int done = 0; done < jobs; done += 5_000) {
                subject.enqueue(Math.min(5_000, jobs - done), Stamp.NONE);
            }
            AtomicLong started = new AtomicLong();
            long t0 = System.nanoTime();
            subject.start(new Recorder((stamp, now) -> started.incrementAndGet()));
            long deadline = t0 + timeout.toNanos();
            while (started.get() < jobs || subject.unfinished(url) > 0) {
                subject.failure().ifPresent(e -> {
                    throw new IllegalStateException("the subject failed: " + e, e);
                });
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("not drained within " + timeout + ": " + started.get() + " of " + jobs + " started");
                }
                Thread.sleep(started.get() < jobs ? 1 : 10);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            Log.info("  %s", subject.state());
            return List.of(new Metric("drain_s", seconds), new Metric("drain_jobs_per_s", jobs / seconds),
                    new Metric("jobs", jobs));
        }
    }

    // ---------------------------------------------------------------- machinery

    static void createPinTable(String url) throws SQLException {
        try (Connection c = Server.connect(url); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS bench_pin (id int PRIMARY KEY)");
            st.execute("INSERT INTO bench_pin VALUES (1) ON CONFLICT DO NOTHING");
        }
    }

    /** A measured run: the subject's workers, the producer and the sampler, on a clock of whole seconds from the start. */
    private static final class Run implements AutoCloseable {
        record Sample(int second, long dead, long live, long tableBytes, long indexBytes, long autovacuums, long backlog,
                      long oldestXminAge) {}

        private static final int MAX_SECONDS = 4 * 3600;
        private final StorageSubject subject;
        private final String url;
        private final long origin;
        private final AtomicIntegerArray done = new AtomicIntegerArray(MAX_SECONDS);
        private final AtomicIntegerArray offered = new AtomicIntegerArray(MAX_SECONDS);
        private final LongList[] latencies = new LongList[MAX_SECONDS];
        private final AtomicLong doneTotal = new AtomicLong();
        private final Producer producer;
        private final Connection statsConnection;
        private final PreparedStatement stats;
        private final List<Sample> samples = new ArrayList<>();
        private final Thread sampler;
        private volatile boolean running = true;

        Run(StorageSubject subject, String url) throws Exception {
            this.subject = subject;
            this.url = url;
            createPinTable(url);
            statsConnection = Server.connect(url);
            stats = statsConnection.prepareStatement("""
                    SELECT coalesce(sum(n_dead_tup), 0), coalesce(sum(n_live_tup), 0),
                           coalesce(sum(pg_table_size(relid)), 0), coalesce(sum(pg_indexes_size(relid)), 0),
                           coalesce(sum(autovacuum_count), 0),
                           (SELECT coalesce(max(age(backend_xmin)), 0) FROM pg_stat_activity)
                      FROM pg_stat_user_tables WHERE relname LIKE ANY (?)""");
            stats.setArray(1, statsConnection.createArrayOf("text", subject.tables().toArray()));
            for (int i = 0; i < MAX_SECONDS; i++) {
                latencies[i] = new LongList();
            }
            origin = System.nanoTime();
            subject.start(new Recorder((stamp, now) -> {
                int s = second(now);
                done.incrementAndGet(s);
                doneTotal.incrementAndGet();
                if (stamp != Stamp.NONE) {
                    latencies[s].add(now - stamp);
                }
            }));
            producer = new Producer();
            producer.start();
            sampler = new Thread(this::sample, "storage-sampler");
            sampler.setDaemon(true);
            sampler.start();
        }

        int second(long nanos) {
            return (int) Math.min(MAX_SECONDS - 1, Math.max(0, (nanos - origin) / 1_000_000_000L));
        }

        int elapsedSeconds() {
            return second(System.nanoTime());
        }

        /** {@code d} from now, rounded up to the next window edge: where a measured interval starts. */
        int secondsToWindowEdge(Duration d) {
            int s = elapsedSeconds() + (int) d.toSeconds();
            return (s + WINDOW_SECONDS - 1) / WINDOW_SECONDS * WINDOW_SECONDS;
        }

        /** Sleeps until second {@code s} of the run, failing early if the subject failed. */
        void until(int s) throws InterruptedException {
            long due = origin + s * 1_000_000_000L;
            while (System.nanoTime() < due) {
                check();
                Thread.sleep(Math.min(200, Math.max(1, (due - System.nanoTime()) / 1_000_000)));
            }
        }

        void check() {
            subject.failure().ifPresent(e -> {
                throw new IllegalStateException("the subject failed: " + e, e);
            });
            producer.failure.run();
        }

        long backlog() {
            return producer.enqueued.get() - doneTotal.get();
        }

        /** Waits (producer paused) until every enqueued job started and none is unfinished; seconds it took, -1 if not within {@code timeout}. */
        double awaitDrained(Duration timeout) throws Exception {
            long t0 = System.nanoTime();
            while (backlog() > 0 || subject.unfinished(url) > 0) {
                check();
                if (System.nanoTime() - t0 > timeout.toNanos()) {
                    Log.info("  not drained within %s: backlog %d", timeout, backlog());
                    return -1;
                }
                Thread.sleep(backlog() > 0 ? 5 : 20);
            }
            return (System.nanoTime() - t0) / 1e9;
        }

        double completedRate(int from, int to) {
            long n = 0;
            for (int s = from; s < to; s++) {
                n += done.get(s);
            }
            return n / (double) (to - from);
        }

        double offeredRate(int from, int to) {
            long n = 0;
            for (int s = from; s < to; s++) {
                n += offered.get(s);
            }
            return n / (double) (to - from);
        }

        double[] windowRates(int from, int to) {
            double[] rates = new double[(to - from) / WINDOW_SECONDS];
            for (int i = 0; i < rates.length; i++) {
                rates[i] = completedRate(from + i * WINDOW_SECONDS, from + (i + 1) * WINDOW_SECONDS);
            }
            return rates;
        }

        double minWindowRate(int from, int to) {
            return Arrays.stream(windowRates(from, to)).min().orElse(0);
        }

        double worstWindowP99(int from, int to) {
            double worst = 0;
            for (int w = from; w + WINDOW_SECONDS <= to; w += WINDOW_SECONDS) {
                worst = Math.max(worst, ms(percentile(latencies(w, w + WINDOW_SECONDS), 99)));
            }
            return worst;
        }

        /** Claim latencies (ns, sorted) of the jobs that started in seconds [from, to). */
        long[] latencies(int from, int to) {
            int n = 0;
            for (int s = from; s < to; s++) {
                n += latencies[s].size();
            }
            long[] all = new long[n];
            int i = 0;
            for (int s = from; s < to; s++) {
                i = latencies[s].copyInto(all, i);
            }
            Arrays.sort(all, 0, i);
            return i == n ? all : Arrays.copyOf(all, i);
        }

        long maxDead() {
            synchronized (samples) {
                return samples.stream().mapToLong(Sample::dead).max().orElse(0);
            }
        }

        Sample sampleNow(String note) throws SQLException {
            Sample s = takeSample();
            Log.info("  at %d s (%s): dead tuples %,d, tables %.1f MiB, indexes %.1f MiB, backlog %,d; %s", s.second(), note,
                    s.dead(), mib(s.tableBytes()), mib(s.indexBytes()), s.backlog(), subject.state());
            return s;
        }

        private Sample takeSample() throws SQLException {
            synchronized (stats) {
                try (ResultSet rs = stats.executeQuery()) {
                    rs.next();
                    Sample s = new Sample(elapsedSeconds(), rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4),
                            rs.getLong(5), backlog(), rs.getLong(6));
                    synchronized (samples) {
                        samples.add(s);
                    }
                    return s;
                }
            }
        }

        /** Every window: one {@code series} line on stderr. */
        private void sample() {
            try {
                for (int w = WINDOW_SECONDS; running; w += WINDOW_SECONDS) {
                    long due = origin + w * 1_000_000_000L;
                    while (running && System.nanoTime() < due) {
                        Thread.sleep(Math.max(1, Math.min(200, (due - System.nanoTime()) / 1_000_000)));
                    }
                    if (!running) {
                        return;
                    }
                    Sample s = takeSample();
                    long[] lat = latencies(w - WINDOW_SECONDS, w);
                    Log.info("series %s t=%d offered=%.0f completed=%.0f p50_ms=%.1f p99_ms=%.1f backlog=%d dead=%d live=%d "
                                    + "table_mib=%.1f index_mib=%.1f autovacuums=%d oldest_xmin_age=%d",
                            subject.name(), w, offeredRate(w - WINDOW_SECONDS, w), completedRate(w - WINDOW_SECONDS, w),
                            ms(percentile(lat, 50)), ms(percentile(lat, 99)), s.backlog(), s.dead(), s.live(),
                            mib(s.tableBytes()), mib(s.indexBytes()), s.autovacuums(), s.oldestXminAge());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (SQLException e) {
                if (running) {
                    Log.info("  sampler failed: %s", e);
                }
            }
        }

        /** Enqueues a chunk every {@link #CHUNK_MILLIS} on a fixed schedule (late chunks go at once); {@code rate} 0 pauses. */
        private final class Producer extends Thread {
            volatile int rate;
            final AtomicLong enqueued = new AtomicLong();
            final java.util.concurrent.atomic.AtomicReference<RuntimeException> failureRef =
                    new java.util.concurrent.atomic.AtomicReference<>();
            final Runnable failure = () -> {
                RuntimeException e = failureRef.get();
                if (e != null) {
                    throw e;
                }
            };

            Producer() {
                super("storage-producer");
                setDaemon(true);
            }

            @Override
            public void run() {
                long period = CHUNK_MILLIS * 1_000_000L;
                long next = System.nanoTime();
                double owed = 0;
                try {
                    while (running) {
                        long now = System.nanoTime();
                        if (now < next) {
                            Thread.sleep(Math.max(1, (next - now) / 1_000_000));
                            continue;
                        }
                        next += period;
                        if (next < now - 10 * period) {
                            next = now; // far behind (the database stalled): do not burst more than 10 chunks
                        }
                        owed += rate * (CHUNK_MILLIS / 1000.0);
                        int chunk = (int) owed;
                        if (chunk == 0) {
                            if (rate == 0) {
                                owed = 0;
                            }
                            continue;
                        }
                        owed -= chunk;
                        long stamp = System.nanoTime();
                        subject.enqueue(chunk, stamp);
                        enqueued.addAndGet(chunk);
                        offered.addAndGet(second(stamp), chunk);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (Exception e) {
                    if (running) {
                        failureRef.set(new IllegalStateException("the producer failed: " + e, e));
                    }
                }
            }
        }

        @Override
        public void close() throws Exception {
            running = false;
            producer.interrupt();
            producer.join(10_000);
            sampler.interrupt();
            sampler.join(10_000);
            Log.info("  %s", subject.state());
            try {
                subject.close();
            } finally {
                statsConnection.close();
            }
        }
    }

    /** A growable list of longs, synchronized. */
    private static final class LongList {
        private long[] values = new long[0];
        private int size;

        synchronized void add(long v) {
            if (size == values.length) {
                values = Arrays.copyOf(values, Math.max(16, size * 2));
            }
            values[size++] = v;
        }

        synchronized int size() {
            return size;
        }

        /** Copies into {@code into} from {@code at} as much as fits; returns the next free index. */
        synchronized int copyInto(long[] into, int at) {
            int n = Math.min(size, into.length - at);
            System.arraycopy(values, 0, into, at, n);
            return at + n;
        }
    }

    static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    private static double stddev(double[] values, double mean) {
        double sum = 0;
        for (double v : values) {
            sum += (v - mean) * (v - mean);
        }
        return values.length == 0 ? 0 : Math.sqrt(sum / values.length);
    }

    static double ms(long nanos) {
        return nanos / 1e6;
    }

    static double mib(long bytes) {
        return bytes / (1024.0 * 1024.0);
    }

    static String format(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }
}
