package dev.pgqueue.dashboard;

import com.sun.net.httpserver.HttpServer;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pgqueue.JobStatus;
import dev.pgqueue.admin.JobFilter;
import dev.pgqueue.admin.JobPage;
import dev.pgqueue.admin.Page;
import dev.pgqueue.jdbi.JdbiJobAdmin;
import dev.pgqueue.jdbi.JdbiJobStore;
import dev.pgqueue.jdbi.SchemaMigrator;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import java.time.Instant;
import org.jdbi.v3.core.Jdbi;

/**
 * How long the dashboard's pages take on the server with a big job table: fills schema
 * {@code dashboard_load} with {@code N} jobs (default 1,000,000: 91.5 % completed over the last 24 hours,
 * 5 % failed with five distinct errors and stack traces, 2 % pending, 0.5 % waiting, 1 % cancelled, 100
 * processing; five types in four queues),
 * analyzes it (an existing schema with that many jobs is reused), then times each page on the server
 * (the {@code Server-Timing} header): "first view" on a new dashboard each time (nothing shared
 * read yet: what the first visitor, and every page right after an action, waits for), 5 times;
 * "polling" on one dashboard, 30 times after 5 to warm up (what each refresh of an open page costs).
 * Not a test: a runnable, whose numbers docs/dashboard.md records.
 *
 * <pre>
 * mvn -B -q -pl queue-dashboard -am test-compile dependency:build-classpath \
 *     -Dmdep.outputFile=target/test.classpath -Dmdep.includeScope=test -Djacoco.skip=true
 * java -cp "queue-dashboard/target/test-classes:queue-dashboard/target/classes:$(cat queue-dashboard/target/test.classpath)" \
 *     dev.pgqueue.dashboard.DashboardLoadTime 'jdbc:postgresql://127.0.0.1:5444/postgres?user=postgres' 1000000
 * </pre>
 */
public final class DashboardLoadTime {

    private static final String SCHEMA = "dashboard_load";

    private DashboardLoadTime() {}

    public static void main(String[] args) throws Exception {
        String url = args.length > 0 ? args[0] : "jdbc:postgresql://127.0.0.1:5444/postgres?user=postgres";
        int jobs = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setMaximumPoolSize(4);
        try (HikariDataSource pool = new HikariDataSource(config)) {
            Jdbi jdbi = Jdbi.create(pool);
            boolean exists = jdbi.withHandle(h -> h.createQuery("SELECT to_regclass(:t) IS NOT NULL")
                    .bind("t", SCHEMA + ".job_queue").mapTo(Boolean.class).one());
            long existing = !exists ? -1 : jdbi.withHandle(h -> h.createQuery("SELECT count(*) FROM " + SCHEMA + ".job_queue")
                    .mapTo(Long.class).one());
            if (existing != jobs) {
                fill(jdbi, jobs);
            }
            JdbiJobAdmin admin = JdbiJobAdmin.create(JdbiJobStore.builder(jdbi).schema(SCHEMA).build());
            HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            server.start();
            try {
                HttpClient http = HttpClient.newHttpClient();
                String failedId = jdbi.withHandle(h -> h.createQuery("SELECT id::text FROM " + SCHEMA
                        + ".job_queue WHERE status = 'failed' ORDER BY created_at DESC LIMIT 1").mapTo(String.class).one());
                System.out.printf(Locale.ROOT, "%,d jobs; load average %s%n", jobs,
                        java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).strip());
                System.out.println("| page | first view: median (max) ms | polling: median / p90 / max ms |");
                System.out.println("| --- | ---: | ---: |");
                int[] mounts = {0};
                JobPage tenth = null;
                for (int i = 0; i < 10; i++) {
                    tenth = admin.find(JobFilter.builder().statuses(JobStatus.FAILED).queues("images").build(),
                            tenth == null ? Page.newestFirst(50) : Page.newestFirst(50).after(tenth.nextCursor()));
                }
                String laterPage = "jobs?status=failed&queue=images&cursor=" + tenth.nextCursor();
                for (String page : List.of("", "jobs?status=failed&queue=images", laterPage, "jobs?status=pending&queue=emails",
                        "jobs?status=waiting", "jobs?status=completed&queue=billing", "jobs?type=send-email",
                        "jobs?status=failed&type=resize-image&order=oldest", "jobs?error=timeout", "jobs", "failures",
                        "jobs/" + failedId, "tables", "confirm?action=retry&status=failed&queue=images")) {
                    double[] first = new double[5];
                    for (int i = 0; i < first.length; i++) {
                        String path = "/d" + (++mounts[0]);
                        Dashboard.builder(admin).authorizer(request -> true).build().mount(server, path);
                        first[i] = serverTime(http, URI.create("http://localhost:" + server.getAddress().getPort() + path + "/").resolve(page));
                        server.removeContext(path);
                    }
                    Arrays.sort(first);
                    String path = "/d" + (++mounts[0]);
                    Dashboard.builder(admin).authorizer(request -> true).build().mount(server, path);
                    URI base = URI.create("http://localhost:" + server.getAddress().getPort() + path + "/");
                    double[] polled = measure(http, base.resolve(page));
                    server.removeContext(path);
                    System.out.printf(Locale.ROOT, "| `/%s` | %.0f (%.0f) | %.1f / %.1f / %.1f |%n",
                            page.startsWith("jobs/") ? "jobs/{id}" : page.contains("cursor=") ? "jobs?status=failed&queue=images&cursor=(page 11)" : page, first[first.length / 2], first[first.length - 1],
                            polled[0], polled[1], polled[2]);
                }
                System.out.println();
                System.out.println("| admin API read | median (max) ms of 5 |");
                System.out.println("| --- | ---: |");
                // The raw-JDBC reference in the same run: the one pass over the table that queueStats() was.
                time("reference, raw JDBC: SELECT * FROM job_queue_stats (the view, one pass)", () -> {
                    try (var c = pool.getConnection(); var st = c.createStatement();
                            var rs = st.executeQuery("SELECT * FROM " + SCHEMA + ".job_queue_stats")) {
                        int n = 0;
                        while (rs.next()) {
                            n++;
                        }
                        return n;
                    } catch (java.sql.SQLException e) {
                        throw new IllegalStateException(e);
                    }
                });
                time("queueStats()", admin::queueStats);
                time("countUpTo(all, 10,000)", () -> admin.countUpTo(JobFilter.all(), Pages.LIST_COUNT_LIMIT));
                time("countUpTo(status = completed, queue = billing, 10,000)", () -> admin.countUpTo(
                        JobFilter.builder().statuses(JobStatus.COMPLETED).queues("billing").build(), Pages.LIST_COUNT_LIMIT));
                time("countUpTo(errorContains timeout, 10,000)", () -> admin.countUpTo(
                        JobFilter.builder().errorContains("timeout").build(), Pages.LIST_COUNT_LIMIT));
                for (String queue : List.of("default", "images", "emails", "billing")) {
                    time("throughput chart of " + queue + " (24 counts)", () -> new Throughput(admin).series(queue, Instant.now()));
                }
                for (JobStatus status : JobStatus.values()) {
                    time("count(status = " + status.sqlValue() + ")", () -> admin.count(JobFilter.builder().statuses(status).build()));
                }
                time("count(all)", () -> admin.count(JobFilter.all()));
                time("count(errorContains timeout)", () -> admin.count(JobFilter.builder().errorContains("timeout").build()));
                time("failureGroups(all, 100)", () -> admin.failureGroups(JobFilter.all(), 100));
                System.out.println();
                admin.queueStats().forEach(q -> System.out.println(q.queue() + ": " + q.counts() + ", oldest pending "
                        + q.oldestPendingAge() + ", done 1/5/15 min " + q.completedLast1m() + "/" + q.completedLast5m() + "/"
                        + q.completedLast15m() + ", failed 15 min " + q.failedLast15m()));
            } finally {
                server.stop(0);
            }
        }
    }

    private static void time(String what, Supplier<?> read) {
        double[] ms = new double[5];
        for (int i = 0; i < ms.length; i++) {
            long start = System.nanoTime();
            read.get();
            ms[i] = (System.nanoTime() - start) / 1e6;
        }
        Arrays.sort(ms);
        System.out.printf(Locale.ROOT, "| %s | %.0f (%.0f) |%n", what, ms[ms.length / 2], ms[ms.length - 1]);
    }

    /** Median, p90 and max of 30 requests, after 5 (and the background reads they start) to warm up. */
    private static double[] measure(HttpClient http, URI uri) throws Exception {
        for (int i = 0; i < 5; i++) {
            serverTime(http, uri);
            Thread.sleep(200);
        }
        double[] ms = new double[30];
        for (int i = 0; i < ms.length; i++) {
            ms[i] = serverTime(http, uri);
            Thread.sleep(100);
        }
        Arrays.sort(ms);
        return new double[] {ms[ms.length / 2], ms[(int) (ms.length * 0.9)], ms[ms.length - 1]};
    }

    private static double serverTime(HttpClient http, URI uri) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException(uri + " answered " + r.statusCode() + ": " + r.body());
        }
        String timing = r.headers().firstValue("Server-Timing").orElseThrow();
        return Double.parseDouble(timing.substring(timing.indexOf("dur=") + 4));
    }

    private static void fill(Jdbi jdbi, int jobs) {
        jdbi.useHandle(h -> h.execute("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE"));
        SchemaMigrator.of(jdbi, SCHEMA).migrate();
        long start = System.nanoTime();
        int chunk = 100_000;
        List<Integer> starts = new ArrayList<>();
        for (int from = 1; from <= jobs; from += chunk) {
            starts.add(from);
        }
        for (int from : starts) {
            int to = Math.min(jobs, from + chunk - 1);
            jdbi.useHandle(h -> h.execute("""
                    INSERT INTO %s.job_queue (job_type, queue, payload, status, attempt, retry_count, max_retries,
                                              error_message, created_at, run_at, processed_at, completed_at,
                                              lease_owner, lease_expires_at, waiting_for)
                    SELECT (ARRAY['generate-image', 'resize-image', 'send-email', 'sync-crm', 'bill-invoice'])[1 + g %% 5],
                           (ARRAY['default', 'images', 'emails', 'billing'])[1 + g %% 4],
                           jsonb_build_object('n', g, 'user', 'user-' || (g %% 1000)),
                           s.status,
                           CASE WHEN s.status IN ('pending', 'waiting') THEN 0 ELSE 1 END,
                           CASE WHEN s.status = 'failed' THEN 3 ELSE 0 END, 3,
                           CASE WHEN s.status = 'failed'
                                THEN (ARRAY['java.net.SocketTimeoutException: timeout after 30 s',
                                            'java.net.ConnectException: connection refused',
                                            'java.lang.IllegalArgumentException: image too large',
                                            'dev.app.QuotaException: quota exceeded',
                                            'dev.pgqueue.PayloadException: bad payload: missing field'])[1 + g %% 5]
                                     || E'\n\tat dev.app.Handler.run(Handler.java:42)\n\tat dev.pgqueue.internal.Dispatcher.run(Dispatcher.java:120)' END,
                           t.created, t.created,
                           CASE WHEN s.status NOT IN ('pending', 'waiting') THEN t.created + interval '1 second' END,
                           CASE WHEN s.status IN ('completed', 'failed', 'cancelled') THEN t.created + interval '2 seconds' END,
                           CASE WHEN s.status = 'processing' THEN 'load-worker' END,
                           CASE WHEN s.status = 'processing' THEN now() + interval '1 hour' END,
                           CASE WHEN s.status = 'waiting' THEN 1 END
                      FROM generate_series(%d, %d) AS g,
                           LATERAL (SELECT now() - (%d - g) * interval '86 milliseconds' AS created) AS t,
                           LATERAL (SELECT CASE WHEN g %% 10000 = 0 THEN 'processing'
                                                WHEN g %% 1000 < 915 THEN 'completed'
                                                WHEN g %% 1000 < 965 THEN 'failed'
                                                WHEN g %% 1000 < 985 THEN 'pending'
                                                WHEN g %% 1000 < 990 THEN 'waiting'
                                                ELSE 'cancelled' END AS status) AS s
                    """.formatted(SCHEMA, from, to, jobs)));
        }
        jdbi.useHandle(h -> h.execute("VACUUM ANALYZE " + SCHEMA + ".job_queue"));
        System.out.printf(Locale.ROOT, "filled %,d jobs in %.1f s%n", jobs, (System.nanoTime() - start) / 1e9);
    }
}
