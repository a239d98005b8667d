package dev.pgqueue.examples.imagegen;

import com.sun.net.httpserver.HttpServer;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pgqueue.Worker;
import dev.pgqueue.WorkerListener;
import dev.pgqueue.dashboard.Authorizer;
import dev.pgqueue.dashboard.Dashboard;
import dev.pgqueue.jdbi.JdbiJobAdmin;
import dev.pgqueue.jdbi.JdbiJobQueue;
import dev.pgqueue.jdbi.JdbiJobStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.StatementExceptions;

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
     * @param httpHost    the address the HTTP API listens on: {@value #LOOPBACK} (this machine only,
     *                    the default), or another; the API has no login (see {@link HttpApi})
     * @param listener    hears what the worker does (the demo's progress display, tests)
     */
    public record Settings(String jdbcUrl, String schema, int concurrency, int httpPort, String httpHost,
                           WorkerListener listener) {

        public static final String DEFAULT_SCHEMA = "imagegen";
        public static final int NO_HTTP = -1;
        public static final String LOOPBACK = "127.0.0.1";

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
            if (httpHost == null || httpHost.isBlank()) {
                throw new IllegalArgumentException("expected httpHost to be an address, got: " + httpHost);
            }
        }

        /** Schema {@value #DEFAULT_SCHEMA}, 8 concurrent jobs, no HTTP (else on {@value #LOOPBACK}). */
        public static Settings of(String jdbcUrl) {
            return new Settings(jdbcUrl, DEFAULT_SCHEMA, 8, NO_HTTP, LOOPBACK, new WorkerListener() {});
        }

        public Settings schema(String schema) {
            return new Settings(jdbcUrl, schema, concurrency, httpPort, httpHost, listener);
        }

        public Settings concurrency(int concurrency) {
            return new Settings(jdbcUrl, schema, concurrency, httpPort, httpHost, listener);
        }

        public Settings httpPort(int httpPort) {
            return new Settings(jdbcUrl, schema, concurrency, httpPort, httpHost, listener);
        }

        public Settings httpHost(String httpHost) {
            return new Settings(jdbcUrl, schema, concurrency, httpPort, httpHost, listener);
        }

        public Settings listener(WorkerListener listener) {
            return new Settings(jdbcUrl, schema, concurrency, httpPort, httpHost, listener);
        }
    }

    static {
        System.setProperty("java.awt.headless", "true");
    }

    /** Where the service's HTTP server shows the pgqueue dashboard. */
    public static final String DASHBOARD_PATH = "/dashboard";

    private final List<AutoCloseable> resources = new ArrayList<>(); // closed in reverse order
    private final Settings settings;
    private Jdbi jdbi;
    private JdbiJobQueue queue;
    private Projects projects;
    private ProjectEvents events;
    private HttpServer http;
    private HttpApi api;

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
        // Errors name the SQL state and message, never the values of a row (Detail: Key (name)=(…)).
        pool.addDataSourceProperty("logServerErrorDetail", "false");
        HikariDataSource dataSource = new HikariDataSource(pool);
        resources.add(dataSource);

        jdbi = Jdbi.create(dataSource);
        // An exception's message leaves out the statement's bound arguments: what users typed.
        jdbi.getConfig(StatementExceptions.class).setMessageRendering(StatementExceptions.MessageRendering.NONE);
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

        events = ProjectEvents.start(settings.jdbcUrl(), jdbi, settings.schema(), Duration.ofSeconds(30));
        resources.add(events);

        if (settings.httpPort() != Settings.NO_HTTP) {
            http = HttpServer.create(new InetSocketAddress(InetAddress.getByName(settings.httpHost()), settings.httpPort()), 0);
            api = new HttpApi(projects, events, http.getAddress());
            http.createContext("/", api);
            // The dashboard beside the demo page, under /dashboard, behind the API's own Host and
            // Origin checks. Listening on loopback (the default), actions are allowed from this
            // machine's clients; listening elsewhere, it only shows.
            Dashboard.Builder dashboard = Dashboard.builder(JdbiJobAdmin.create(store));
            if (http.getAddress().getAddress().isLoopbackAddress()) {
                dashboard.authorizer(Authorizer.loopbackOnly());
            } else {
                dashboard.readOnly(true);
            }
            dashboard.build().mount(http, DASHBOARD_PATH).getFilters().add(api.admission());
            // Bounded: each event stream holds a thread while it is open (HttpApi limits how many);
            // idle threads end after a few seconds. A request that finds every thread busy and the
            // queue full has its connection closed by the server.
            ThreadPoolExecutor threads = new ThreadPoolExecutor(HttpApi.MAX_THREADS, HttpApi.MAX_THREADS,
                    5, TimeUnit.SECONDS, new ArrayBlockingQueue<>(256), daemonThreads("imagegen-http-"));
            threads.allowCoreThreadTimeOut(true);
            http.setExecutor(threads);
            http.start();
            resources.add(() -> {
                events.close(); // ends the open event streams first, so that stop() need not wait them out
                http.stop(1);
                threads.shutdownNow();
            });
        }
    }

    /**
     * The API's base address, e.g. {@code http://localhost:8080/} (or the address it was bound to,
     * when that is not a loopback or wildcard one), if HTTP was asked for.
     */
    public Optional<URI> httpAddress() {
        return Optional.ofNullable(http).map(server -> {
            InetAddress address = server.getAddress().getAddress();
            String host = address.isLoopbackAddress() || address.isAnyLocalAddress() ? "localhost"
                    : address instanceof Inet6Address ? "[" + address.getHostAddress() + "]" : address.getHostAddress();
            return URI.create("http://" + host + ":" + server.getAddress().getPort() + "/");
        });
    }

    /** The HTTP API, if HTTP was asked for. */
    Optional<HttpApi> httpApi() {
        return Optional.ofNullable(api);
    }

    ProjectEvents events() {
        return events;
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
