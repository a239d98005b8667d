package dev.pgqueue.examples.imagegen;

import com.sun.net.httpserver.HttpServer;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pgqueue.Worker;
import dev.pgqueue.WorkerListener;
import dev.pgqueue.jdbi.JdbiJobQueue;
import dev.pgqueue.jdbi.JdbiJobStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Jdbi;

/**
 * The image-generation service, wired as a real application's {@code main} would wire it: a
 * connection pool; pgqueue's store, queue and worker with the three handlers; the NOTIFY relay; and,
 * if asked for, the HTTP API. Several instances on one schema share the work, as replicas would.
 *
 * <pre>{@code
 * try (ImageGenApp app = ImageGenApp.start(ImageGenApp.Settings.of(jdbcUrl).httpPort(8080))) {
 *     ... // serve until stopped
 * }
 * }</pre>
 */
public final class ImageGenApp implements AutoCloseable {

    /**
     * How to run the service.
     *
     * @param jdbcUrl     the database; its user needs to create {@code schema} (if missing) and tables in it
     * @param schema      where the example's tables and pgqueue's {@code job_queue} live
     * @param concurrency generate jobs run at once by this instance's worker
     * @param httpPort    the HTTP API's port (0 for any free port), or {@link #NO_HTTP}
     * @param listener    hears what the worker does (the demo's progress display, tests)
     */
    public record Settings(String jdbcUrl, String schema, int concurrency, int httpPort, WorkerListener listener) {

        public static final String DEFAULT_SCHEMA = "imagegen";
        public static final int NO_HTTP = -1;

        private static final Pattern SCHEMA = Pattern.compile("[a-z_][a-z0-9_]{0,53}");

        public Settings {
            if (jdbcUrl == null || !jdbcUrl.startsWith("jdbc:postgresql:")) {
                throw new IllegalArgumentException("expected jdbcUrl to start with jdbc:postgresql:, got: " + jdbcUrl);
            }
            // imagegen_<schema> is a NOTIFY channel name: at most 63 characters.
            if (schema == null || !SCHEMA.matcher(schema).matches()) {
                throw new IllegalArgumentException("expected schema to be a lower-case identifier of at most 54 characters, got: " + schema);
            }
            if (concurrency < 1) {
                throw new IllegalArgumentException("expected concurrency to be >= 1, got: " + concurrency);
            }
            if (httpPort < NO_HTTP || httpPort > 65_535) {
                throw new IllegalArgumentException("expected httpPort to be 0-65535 or NO_HTTP, got: " + httpPort);
            }
        }

        /** Schema {@value #DEFAULT_SCHEMA}, 8 concurrent jobs, no HTTP. */
        public static Settings of(String jdbcUrl) {
            return new Settings(jdbcUrl, DEFAULT_SCHEMA, 8, NO_HTTP, new WorkerListener() {});
        }

        public Settings schema(String schema) {
            return new Settings(jdbcUrl, schema, concurrency, httpPort, listener);
        }

        public Settings concurrency(int concurrency) {
            return new Settings(jdbcUrl, schema, concurrency, httpPort, listener);
        }

        public Settings httpPort(int httpPort) {
            return new Settings(jdbcUrl, schema, concurrency, httpPort, listener);
        }

        public Settings listener(WorkerListener listener) {
            return new Settings(jdbcUrl, schema, concurrency, httpPort, listener);
        }
    }

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private final List<AutoCloseable> resources = new ArrayList<>(); // closed in reverse order
    private final Settings settings;
    private Jdbi jdbi;
    private JdbiJobQueue queue;
    private Projects projects;
    private HttpServer http;

    private ImageGenApp(Settings settings) {
        this.settings = settings;
    }

    /**
     * Migrates the schema (pgqueue's {@code job_queue} and the example's tables), then starts the
     * worker, the NOTIFY relay and the HTTP API.
     */
    public static ImageGenApp start(Settings settings) throws Exception {
        ImageGenApp app = new ImageGenApp(settings);
        try {
            app.startAll();
            return app;
        } catch (Exception | Error e) {
            app.close();
            throw e;
        }
    }

    private void startAll() throws Exception {
        HikariConfig pool = new HikariConfig();
        pool.setJdbcUrl(settings.jdbcUrl());
        pool.addDataSourceProperty("currentSchema", settings.schema()); // the example's SQL names no schema
        // Each running transactional handler holds a connection; the worker borrows up to three more
        // and its LISTEN one; HTTP requests need a few.
        pool.setMaximumPoolSize(settings.concurrency() + 8);
        pool.setMinimumIdle(2);
        pool.setPoolName("imagegen-" + settings.schema());
        HikariDataSource dataSource = new HikariDataSource(pool);
        resources.add(dataSource);

        jdbi = Jdbi.create(dataSource);
        // Creates the schema if needed and migrates job_queue in it; then the example's own tables.
        JdbiJobStore store = JdbiJobStore.builder(jdbi).schema(settings.schema()).build();
        migrate(jdbi);
        queue = JdbiJobQueue.create(store);
        projects = new Projects(jdbi, queue);

        Worker worker = Worker.builder(store)
                .queue(Worker.DEFAULT_QUEUE, settings.concurrency())
                .handler(Jobs.GENERATE_PACK, store.transactional(new PackHandler(queue)))
                .handler(Jobs.GENERATE_IMAGE, new ImageHandler(store))
                .handler(Jobs.FINISH_PACK, new FinishPackHandler(store, queue))
                .listener(settings.listener())
                .build();
        worker.start();
        resources.add(worker);

        ProjectEvents events = ProjectEvents.start(settings.jdbcUrl(), settings.schema(), Duration.ofSeconds(30));
        resources.add(events);

        if (settings.httpPort() != Settings.NO_HTTP) {
            http = HttpServer.create(new InetSocketAddress(settings.httpPort()), 0);
            http.createContext("/", new HttpApi(projects, events));
            ExecutorService threads = Executors.newCachedThreadPool(daemonThreads("imagegen-http-"));
            http.setExecutor(threads);
            http.start();
            resources.add(() -> {
                events.close(); // ends the open event streams first, so that stop() need not wait them out
                http.stop(1);
                threads.shutdownNow();
            });
        }
    }

    /** The API's base address, e.g. {@code http://localhost:8080/}, if HTTP was asked for. */
    public Optional<URI> httpAddress() {
        return Optional.ofNullable(http).map(server -> URI.create("http://localhost:" + server.getAddress().getPort() + "/"));
    }

    /** The pooled {@link Jdbi} on the service's schema. */
    public Jdbi jdbi() {
        return jdbi;
    }

    /** The producer side of pgqueue, for enqueueing in a caller's transaction. */
    public JdbiJobQueue queue() {
        return queue;
    }

    Projects projects() {
        return projects;
    }

    /**
     * Stops the HTTP API, the relay and the worker (gracefully: running jobs finish or are handed
     * back), then closes the pool. Idempotent.
     */
    @Override
    public synchronized void close() {
        RuntimeException failure = null;
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = new IllegalStateException("could not stop the image-generation service cleanly", e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        resources.clear();
        if (failure != null) {
            throw failure;
        }
    }

    /** Applies schema.sql in one transaction, under an advisory lock, so instances can start together. */
    static void migrate(Jdbi jdbi) throws SQLException {
        String sql;
        try (InputStream in = ImageGenApp.class.getResourceAsStream("schema.sql")) {
            sql = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("schema.sql is missing from the class path", e);
        }
        jdbi.useTransaction(handle -> {
            handle.execute("SELECT pg_advisory_xact_lock(hashtext('pgqueue imagegen example schema'))");
            try (Statement statement = handle.getConnection().createStatement()) {
                statement.execute(sql); // several statements in one: pgjdbc sends them as one simple query
            }
        });
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
