package dev.pgqueue.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobStatus;
import dev.pgqueue.JobType;
import dev.pgqueue.Worker;
import dev.pgqueue.admin.JobFilter;
import dev.pgqueue.admin.JobPage;
import dev.pgqueue.admin.Page;
import dev.pgqueue.jdbi.JdbiJobAdmin;
import dev.pgqueue.jdbi.JdbiJobStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.jdbi.v3.core.Jdbi;

/**
 * The admin API on a large table (docs/admin.md, "How fast"): fills a schema with {@code --failed}
 * failed jobs (queue {@code mail}, three types, five errors, each with a stack trace) and
 * {@code --pending} pending jobs of queue {@code drain}; times queueStats, count and find with filters
 * (median of 5, after one warm-up), then a worker drains {@code drain} alone for {@code --seconds},
 * then again while JdbiJobAdmin.retry retries every failed job, and prints both throughputs and the
 * retry's time. {@code --reuse true} keeps the jobs of an earlier run that stopped before its retry. Run on a PostgreSQL of its own (it drops and creates the schema {@code admin_load}):
 *
 * <pre>
 * java -cp 'queue-benchmarks/target/pgqueue-benchmarks.jar:queue-benchmarks/target/lib/*' dev.pgqueue.bench.AdminLoad \
 *     --url 'jdbc:postgresql://127.0.0.1:5441/bench?user=postgres' --failed 1000000 --pending 1000000 --seconds 20
 * </pre>
 */
public final class AdminLoad {

    record Work(int n) {}

    private static final JobType<Work> WORK = JobType.of("work", Work.class);
    private static final String SCHEMA = "admin_load";

    private AdminLoad() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new java.util.HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            options.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        String url = options.getOrDefault("url", "jdbc:postgresql://127.0.0.1:5441/bench?user=postgres");
        int failed = Integer.parseInt(options.getOrDefault("failed", "1000000"));
        int pending = Integer.parseInt(options.getOrDefault("pending", "1000000"));
        int seconds = Integer.parseInt(options.getOrDefault("seconds", "20"));
        int concurrency = Integer.parseInt(options.getOrDefault("concurrency", "8"));

        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setMaximumPoolSize(concurrency + 6);
        try (HikariDataSource pool = new HikariDataSource(config)) {
            Jdbi jdbi = Jdbi.create(pool);
            boolean reuse = Boolean.parseBoolean(options.getOrDefault("reuse", "false"));
            if (!reuse) {
                jdbi.useHandle(h -> h.execute("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE"));
            }
            JdbiJobStore store = JdbiJobStore.builder(jdbi).schema(SCHEMA).build();
            JdbiJobAdmin admin = JdbiJobAdmin.create(store);

            long fillStart = System.nanoTime();
            jdbi.useHandle(h -> {
                if (reuse) {
                    return; // --reuse true: the jobs of an earlier run that stopped before its retry
                }
                h.execute("INSERT INTO " + SCHEMA + ".job_queue (job_type, queue, status, retry_count, attempt, error_message,"
                        + " created_at, completed_at, run_at)"
                        + " SELECT (ARRAY['send-mail', 'send-sms', 'render'])[1 + g % 3], 'mail', 'failed', 4, 4,"
                        + " (ARRAY['java.net.SocketTimeoutException: read timed out', 'java.lang.IllegalStateException: no such user',"
                        + "   'SMTP 550 mailbox unavailable', 'java.io.IOException: connection reset', 'quota exceeded'])[1 + g % 5]"
                        + "   || E'\\n\\tat dev.example.Mailer.send(Mailer.java:' || g % 97 || E')\\n\\tat dev.example.Handler.handle(Handler.java:12)',"
                        + " now() - (g % 86400) * interval '1 second', now() - (g % 3600) * interval '1 second', now()"
                        + " FROM generate_series(1, ?) g", failed);
                h.execute("INSERT INTO " + SCHEMA + ".job_queue (job_type, queue, payload)"
                        + " SELECT 'work', 'drain', pg_catalog.jsonb_build_object('n', g) FROM generate_series(1, ?) g", pending);
                h.execute("VACUUM ANALYZE " + SCHEMA + ".job_queue");
            });
            System.out.printf("filled %,d failed + %,d pending jobs in %.1f s%n", failed, pending, secondsSince(fillStart));

            JobFilter mailTimeouts = JobFilter.builder().statuses(JobStatus.FAILED).queues("mail").types("send-mail")
                    .errorContains("timed out").build();
            time("queueStats()", () -> admin.queueStats().size());
            time("count(all)", () -> admin.count(JobFilter.all()));
            time("count(status=failed)", () -> admin.count(JobFilter.builder().statuses(JobStatus.FAILED).build()));
            time("count(status=pending, queue=drain)",
                    () -> admin.count(JobFilter.builder().statuses(JobStatus.PENDING).queues("drain").build()));
            time("count(failed, mail, send-mail, error contains 'timed out')", () -> admin.count(mailTimeouts));
            time("find(failed, mail, send-mail, 'timed out'), first page of 50", () -> admin.find(mailTimeouts, Page.newestFirst(50)).jobs().size());
            time("find(all), first page of 50", () -> admin.find(JobFilter.all(), Page.newestFirst(50)).jobs().size());
            time("find(failed), 20th page of 50 (cursor)",
                    () -> twentiethPage(admin, JobFilter.builder().statuses(JobStatus.FAILED).build()));
            time("failureGroups(all, 100)", () -> admin.failureGroups(JobFilter.all(), 100).size());
            time("find(all), 20th page of 50 (cursor), one run", 1, () -> twentiethPage(admin, JobFilter.all()));
            jdbi.useHandle(h -> h.execute("CREATE INDEX job_queue_created_idx ON " + SCHEMA + ".job_queue (created_at, id)"));
            System.out.println("with the optional index job_queue_created_idx (created_at, id):");
            time("  find(all), first page of 50", () -> admin.find(JobFilter.all(), Page.newestFirst(50)).jobs().size());
            time("  find(all), 20th page of 50 (cursor)", () -> twentiethPage(admin, JobFilter.all()));
            jdbi.useHandle(h -> h.execute("DROP INDEX " + SCHEMA + ".job_queue_created_idx"));
            jdbi.useHandle(h -> System.out.println("load average: " + h.createQuery(
                    "SELECT pg_catalog.pg_read_file('/proc/loadavg')").mapTo(String.class).findOne().orElse("?").trim()));

            AtomicLong done = new AtomicLong();
            try (Worker worker = Worker.builder(store).queue("drain", concurrency).pollInterval(Duration.ofMillis(100))
                    .handler(WORK, (job, context) -> {
                        done.incrementAndGet();
                        return JobOutcome.done();
                    }).build()) {
                worker.start();
                Thread.sleep(3_000); // warm up
                long before = done.get();
                long start = System.nanoTime();
                Thread.sleep(seconds * 1_000L);
                double alone = (done.get() - before) / secondsSince(start);
                System.out.printf("worker alone: %,.0f jobs/s over %d s%n", alone, seconds);

                long retryStart = System.nanoTime();
                long beforeRetry = done.get();
                CompletableFuture<Long> retry = CompletableFuture.supplyAsync(
                        () -> admin.retry(JobFilter.builder().statuses(JobStatus.FAILED).queues("mail").build()));
                long retried = retry.get();
                double retrySeconds = secondsSince(retryStart);
                double during = (done.get() - beforeRetry) / retrySeconds;
                System.out.printf("retry of %,d failed jobs: %.1f s (%,.0f jobs/s); worker meanwhile: %,.0f jobs/s (%.0f%% of alone)%n",
                        retried, retrySeconds, retried / retrySeconds, during, 100 * during / alone);
                if (done.get() >= pending) {
                    System.out.println("warning: the drain queue ran empty; give --pending more jobs");
                }
            }
        }
    }

    /** Pages 1 to 20 of 50 jobs, newest first: returns the size of the 20th. */
    private static long twentiethPage(JdbiJobAdmin admin, JobFilter filter) {
        JobPage page = admin.find(filter, Page.newestFirst(50));
        for (int i = 1; i < 20; i++) {
            page = admin.find(filter, Page.newestFirst(50).after(page.nextCursor()));
        }
        return page.jobs().size();
    }

    private static void time(String what, LongSupplier run) {
        run.getAsLong();
        time(what, 5, run);
    }

    private static void time(String what, int runs, LongSupplier run) {
        List<Double> millis = new ArrayList<>();
        long result = 0;
        for (int i = 0; i < runs; i++) {
            long start = System.nanoTime();
            result = run.getAsLong();
            millis.add((System.nanoTime() - start) / 1e6);
        }
        Collections.sort(millis);
        System.out.printf("%-62s median %8.1f ms  (min %.1f, max %.1f)  -> %,d%n", what, millis.get(runs / 2), millis.get(0),
                millis.get(runs - 1), result);
    }

    private static double secondsSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
