package dev.pgqueue.examples.imagegen;

import dev.pgqueue.Job;
import dev.pgqueue.WorkerListener;
import dev.pgqueue.testing.postgres.PostgresServer;
import java.io.IOException;
import java.io.PrintStream;
import java.net.BindException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Jdbi;

/**
 * The one-command demo: starts an embedded PostgreSQL (or uses {@code --jdbc-url}), the service
 * with its worker, creates a few projects from generated sample images, presses "Generate" on
 * each, shows progress until every pack has finished, writes the assets to a folder and exits.
 * {@code --serve} keeps the HTTP service and its page up afterwards. Run with {@code --help}.
 */
public final class Demo {

    /** Environment variable with a JDBC URL to use instead of an embedded PostgreSQL. */
    public static final String JDBC_URL_ENV = "PGQUEUE_DEMO_JDBC_URL";

    private static final Duration PACK_DEADLINE = Duration.ofMinutes(10);
    private static final Pattern PASSWORD = Pattern.compile("(?i)[?&]password=");
    private static final String USAGE = """
            usage: java -jar queue-examples/target/pgqueue-demo.jar [options]
              --jdbc-url URL    use this PostgreSQL (14+) instead of an embedded one,
                                e.g. 'jdbc:postgresql://localhost:5432/postgres?user=postgres'
                                A URL with a password belongs in $%1$s instead: every user of
                                this machine can read a command line (ps), not the environment:
                                  %1$s='jdbc:postgresql://…?user=…&password=…' java -jar …
              --schema NAME     schema for the tables and job_queue (default imagegen; created if missing)
              --projects N      projects to generate (default 6); each gets %2$d sample images
              --concurrency N   jobs the worker runs at once (default: 2 per CPU, at least 4)
              --out DIR         where to write the generated assets (default: target/demo-output)
              --serve           keep the HTTP service, its page and the dashboard (/dashboard/) running until Ctrl-C
              --port N          the HTTP port with --serve (default 8080; 0 = any free port)
              --bind ADDRESS    the address to serve on (default 127.0.0.1: this machine only); the
                                page has no login: on another address, anyone who reaches it can use it
            """.formatted(JDBC_URL_ENV, SampleImages.SAMPLES.size());

    private Demo() {}

    /** Runs the demo; exits non-zero on bad options or a failed run. */
    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        int status = run(args, System.out);
        if (status != 0) {
            System.exit(status);
        }
    }

    /** The options, parsed. */
    record Options(String jdbcUrl, boolean jdbcUrlInArgs, String schema, int projects, int concurrency, Path out,
                   boolean serve, int port, String bind) {}

    static int run(String[] args, PrintStream out) {
        if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
            out.print(USAGE);
            return 0;
        }
        Options options;
        try {
            options = parse(args);
        } catch (IllegalArgumentException e) {
            out.println(e.getMessage() + "\n\n" + USAGE);
            return 2;
        }
        try {
            return new Run(options, out).run();
        } catch (BindException e) {
            out.println("port " + options.port() + " is in use: pass --port N (0 for any free port)");
            return 1;
        } catch (Exception e) {
            out.println("demo failed: " + e);
            e.printStackTrace(out);
            return 1;
        }
    }

    /** One run of the demo. */
    private static final class Run {
        private final Options options;
        private final PrintStream out;
        private final long started = System.nanoTime();
        private final AtomicInteger jobsDone = new AtomicInteger();
        /** What to stop, last started first: the service before its database. Guarded by this. */
        private final Deque<AutoCloseable> running = new ArrayDeque<>();
        private boolean stopped; // guarded by this

        Run(Options options, PrintStream out) {
            this.options = options;
            this.out = out;
        }

        int run() throws Exception {
            out.println("pgqueue demo: the Supabase guide's \"Generate Complete Pack\" flow, on pgqueue");
            // One hook stops everything in order on Ctrl-C; the JVM would run separate hooks for the
            // service and the database at once, and stop the database under a running worker.
            Thread hook = new Thread(this::stop, "imagegen-demo-stop");
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                String jdbcUrl = options.jdbcUrl();
                if (jdbcUrl == null) {
                    long t = System.nanoTime();
                    PostgresServer embedded = PostgresServer.startEmbedded();
                    embedded.removeShutdownHook();
                    started(embedded);
                    jdbcUrl = embedded.jdbcUrl();
                    line("database", "embedded PostgreSQL %d, started in %s (pass --jdbc-url to use yours)",
                            embedded.majorVersion(), seconds(t));
                } else {
                    line("database", "%s", jdbcUrl.replaceAll("(?i)(password=)[^&]*", "$1***"));
                    if (options.jdbcUrlInArgs() && PASSWORD.matcher(jdbcUrl).find()) {
                        line("warning", "--jdbc-url has a password, which other users of this machine can read in ps;"
                                + " set %s instead", JDBC_URL_ENV);
                    }
                }
                return runOn(jdbcUrl);
            } finally {
                stop();
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // the hook is running, or has run, stop() already
                }
            }
        }

        private synchronized void started(AutoCloseable resource) {
            running.push(resource);
        }

        /** Stops the service, then the database; once, from the main thread or the JVM's shutdown. */
        private synchronized void stop() {
            if (stopped) {
                return;
            }
            stopped = true;
            while (!running.isEmpty()) {
                try {
                    running.pop().close();
                } catch (Exception e) {
                    out.println("could not stop cleanly: " + e);
                }
            }
            line("wall time", "%s", seconds(started));
        }

        private int runOn(String jdbcUrl) throws Exception {
            WorkerListener counter = new WorkerListener() {
                @Override
                public void jobCompleted(Job<?> job, Duration runTime) {
                    jobsDone.incrementAndGet();
                }

                @Override
                public void jobFailed(Job<?> job, String error) {
                    jobsDone.incrementAndGet();
                }

                @Override
                public void jobCancelled(Job<?> job, String reason) {
                    jobsDone.incrementAndGet();
                }
            };
            ImageGenApp.Settings settings = ImageGenApp.Settings.of(jdbcUrl)
                    .schema(options.schema())
                    .concurrency(options.concurrency())
                    .httpPort(options.serve() ? options.port() : ImageGenApp.Settings.NO_HTTP)
                    .httpHost(options.bind())
                    .listener(counter);
            long t = System.nanoTime();
            ImageGenApp app = ImageGenApp.start(settings);
            started(app);
            line("service", "schema %s migrated, worker started, in %s", options.schema(), seconds(t));
            t = System.nanoTime();
            int variants = Variant.values().length;
            int images = SampleImages.SAMPLES.size();
            List<byte[]> samples = SampleImages.SAMPLES.stream().map(SampleImages::bytes).toList();
            line("samples", "%d source images drawn and encoded in %s", images, seconds(t));
            t = System.nanoTime();
            List<UUID> projectIds = new ArrayList<>();
            for (int p = 1; p <= options.projects(); p++) {
                UUID id = app.projects().create(String.format(Locale.ROOT, "demo-%02d", p), HttpApi.DEMO_USER).id();
                for (int i = 0; i < images; i++) {
                    app.projects().addImage(id, SampleImages.SAMPLES.get(i).fileName(), samples.get(i));
                }
                projectIds.add(id);
            }
            int totalJobs = options.projects() * (1 + images * variants + 1); // pack, images, finish-pack
            line("projects", "%d created with %d images each in %s", options.projects(), images, seconds(t));
            line("work", "%d projects × %d images × %d variants = %d images to render; %d jobs, %d at once",
                    options.projects(), images, variants, options.projects() * images * variants, totalJobs,
                    options.concurrency());

            long generateStarted = System.nanoTime();
            jobsDone.set(0);
            for (UUID id : projectIds) {
                app.projects().requestPack(id); // the "Generate" button: status change + job, one transaction
            }
            Map<ProjectStatus, Integer> outcome = awaitPacks(app.jdbi(), projectIds, totalJobs, generateStarted);
            double elapsed = (System.nanoTime() - generateStarted) / 1e9;
            int completed = outcome.getOrDefault(ProjectStatus.COMPLETED, 0);
            line("done", "%d/%d projects COMPLETED in %.2f s: %d jobs, %.1f jobs/s",
                    completed, projectIds.size(), elapsed, jobsDone.get(), jobsDone.get() / elapsed);

            t = System.nanoTime();
            int files = export(app.jdbi(), projectIds, options.out());
            line("outputs", "%s (%d files, written in %s)", options.out().toAbsolutePath().normalize(), files, seconds(t));
            if (options.serve()) {
                serve(app, projectIds.get(0));
            } else {
                line("page", "add --serve to watch packs run in the browser at http://localhost:%d/", options.port());
            }
            return completed == projectIds.size() ? 0 : 1;
        }

        /** Waits until every project's pack has ended, showing progress; returns the projects by status. */
        private Map<ProjectStatus, Integer> awaitPacks(Jdbi jdbi, List<UUID> projectIds, int totalJobs, long since)
                throws InterruptedException {
            Progress progress = new Progress(out, totalJobs, since);
            long deadline = System.nanoTime() + PACK_DEADLINE.toNanos();
            while (true) {
                Map<ProjectStatus, Integer> byStatus = new EnumMap<>(ProjectStatus.class);
                jdbi.withHandle(handle -> handle.createQuery("SELECT status, count(*) AS n FROM projects WHERE id = ANY(:ids) GROUP BY status")
                        .bindArray("ids", UUID.class, projectIds)
                        .map((row, ctx) -> Map.entry(ProjectStatus.valueOf(row.getString("status")), row.getInt("n")))
                        .list())
                        .forEach(entry -> byStatus.put(entry.getKey(), entry.getValue()));
                boolean finished = byStatus.entrySet().stream()
                        .filter(entry -> entry.getKey().isFinal())
                        .mapToInt(Map.Entry::getValue)
                        .sum() == projectIds.size();
                progress.show(jobsDone.get(), finished);
                if (finished) {
                    return byStatus;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("packs still running after " + PACK_DEADLINE + ": " + byStatus);
                }
                Thread.sleep(100);
            }
        }

        /** Serves until Ctrl-C, whose shutdown hook stops the service and the database. */
        private void serve(ImageGenApp app, UUID firstProject) throws InterruptedException {
            line("page", "%s?project=%s   (Ctrl-C stops)", app.httpAddress().orElseThrow(), firstProject);
            line("dashboard", "%s", app.httpAddress().orElseThrow().resolve(ImageGenApp.DASHBOARD_PATH.substring(1) + "/"));
            new CountDownLatch(1).await();
        }

        private void line(String label, String format, Object... args) {
            out.printf(Locale.ROOT, "  %-10s %s%n", label, String.format(Locale.ROOT, format, args));
        }
    }

    /**
     * The progress line, {@code jobs 48/102 (47%)  35.2 jobs/s}: redrawn in place on a terminal,
     * else printed at most once a second, so that logs stay short.
     */
    private static final class Progress {
        private final PrintStream out;
        private final int total;
        private final long since;
        private final boolean terminal = System.console() != null;
        private long lastPrinted;

        Progress(PrintStream out, int total, long since) {
            this.out = out;
            this.total = total;
            this.since = since;
        }

        void show(int done, boolean last) {
            long now = System.nanoTime();
            if (!terminal && !last && (done == 0 || now - lastPrinted < 1_000_000_000L)) {
                return;
            }
            lastPrinted = now;
            double seconds = Math.max(1e-3, (now - since) / 1e9);
            String text = String.format(Locale.ROOT, "  %-10s %d/%d (%d%%)  %.1f jobs/s",
                    "jobs", done, total, total == 0 ? 100 : done * 100 / total, done / seconds);
            if (terminal) {
                out.print("\r" + text + "   " + (last ? "\n" : ""));
                out.flush();
            } else {
                out.println(text);
            }
        }
    }

    /** Writes every finished asset of the projects to {@code dir}/{project}/{image}-{variant}.{ext}. */
    private static int export(Jdbi jdbi, List<UUID> projectIds, Path dir) throws IOException {
        record Asset(String project, String image, String variant, String format, byte[] bytes) {}
        List<Asset> assets = jdbi.withHandle(handle -> handle.createQuery("""
                        SELECT p.name AS project, s.file_name AS image, a.variant, a.format, a.bytes
                          FROM assets a JOIN projects p ON p.id = a.project_id JOIN source_images s ON s.id = a.source_image_id
                         WHERE a.project_id = ANY(:ids) AND a.status = 'DONE'""")
                .bindArray("ids", UUID.class, projectIds)
                .map((row, ctx) -> new Asset(row.getString("project"), row.getString("image"), row.getString("variant"),
                        row.getString("format"), row.getBytes("bytes")))
                .list());
        for (Asset asset : assets) {
            String base = asset.image().replaceAll("\\.[^.]*$", "").replaceAll("[^A-Za-z0-9_.-]", "_");
            Path file = dir.resolve(asset.project().replaceAll("[^A-Za-z0-9_.-]", "_"))
                    .resolve(base + "-" + asset.variant() + (asset.format().equals("jpeg") ? ".jpg" : ".png"));
            Files.createDirectories(file.getParent());
            Files.write(file, asset.bytes());
        }
        return assets.size();
    }

    static Options parse(String[] args) {
        String jdbcUrl = System.getenv(JDBC_URL_ENV);
        boolean jdbcUrlInArgs = false;
        String bind = ImageGenApp.Settings.LOOPBACK;
        String schema = ImageGenApp.Settings.DEFAULT_SCHEMA;
        int projects = 6;
        int concurrency = Math.max(4, 2 * Runtime.getRuntime().availableProcessors());
        Path out = defaultOutputDir();
        boolean serve = false;
        int port = 8080;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "--serve" -> serve = true;
                case "--jdbc-url" -> {
                    jdbcUrl = value(args, ++i, arg);
                    jdbcUrlInArgs = true;
                }
                case "--bind" -> bind = value(args, ++i, arg);
                case "--schema" -> schema = value(args, ++i, arg);
                case "--projects" -> projects = number(args, ++i, arg, 1);
                case "--concurrency" -> concurrency = number(args, ++i, arg, 1);
                case "--out" -> out = Path.of(value(args, ++i, arg));
                case "--port" -> port = number(args, ++i, arg, 0);
                default -> throw new IllegalArgumentException("unknown option: " + arg);
            }
        }
        return new Options(jdbcUrl == null || jdbcUrl.isBlank() ? null : jdbcUrl.strip(), jdbcUrlInArgs,
                schema, projects, concurrency, out, serve, port, bind);
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    private static int number(String[] args, int i, String option, int min) {
        String value = value(args, i, option);
        try {
            int n = Integer.parseInt(value);
            if (n >= min) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("expected " + option + " to be a number >= " + min + ", got: " + value);
    }

    /** target/demo-output beside the jar (or the classes folder), else in the working directory. */
    private static Path defaultOutputDir() {
        try {
            Path code = Path.of(Demo.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return code.getParent().resolve("demo-output");
        } catch (URISyntaxException | RuntimeException e) {
            return Path.of("demo-output");
        }
    }

    private static String seconds(long since) {
        return String.format(Locale.ROOT, "%.1f s", (System.nanoTime() - since) / 1e9);
    }
}
