package dev.pgqueue.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pgqueue.testing.postgres.PostgresServer;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The PostgreSQL the benchmark runs on: the one given by URL, or an embedded one started for the
 * run. Every measurement gets a {@link #fresh fresh database} of its own, so that no measurement
 * sees another's tables, bloat or statistics.
 *
 * <p>The server may be shared: its databases are not ours. Each run names its databases with a
 * prefix of its own ({@code bench_<8 random hex digits>_}), creates them with a plain
 * {@code CREATE DATABASE} (which fails rather than adopt a database that exists), records each one
 * it created, and drops only those: never a database that it did not create, whatever its name.
 */
final class Server implements AutoCloseable {

    static final String APPLICATION_NAME = "pgqueue-bench";
    private static final Pattern URL = Pattern.compile("^(jdbc:postgresql://[^/?]*)(/[^?]*)?(\\?.*)?$");
    private static final Pattern DATABASE_NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    private final String adminUrl;
    private final PostgresServer embedded;
    private final String runPrefix = "bench_" + HexFormat.of().formatHex(randomBytes(4)) + "_";
    /** The databases this run created and has not dropped yet: the only ones it may drop. */
    private final Set<String> created = ConcurrentHashMap.newKeySet();

    private Server(String adminUrl, PostgresServer embedded) {
        this.adminUrl = adminUrl;
        this.embedded = embedded;
    }

    /** The server at {@code jdbcUrl}, or a new embedded one when it is null. */
    static Server open(String jdbcUrl) {
        if (jdbcUrl != null) {
            return new Server(jdbcUrl, null);
        }
        Log.info("no --url or $%s: starting an embedded PostgreSQL", Options.JDBC_URL_ENV);
        PostgresServer embedded = PostgresServer.startEmbedded();
        return new Server(embedded.jdbcUrl(), embedded);
    }

    /** {@code version()} of the server, for the CSV's header. */
    String version() throws SQLException {
        try (Connection c = connect(adminUrl); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT version()")) {
            rs.next();
            return rs.getString(1);
        }
    }

    /**
     * The settings that change what the figures mean, as {@code name=value} pairs: durability (single
     * enqueues wait for the WAL flush) and autovacuum (without it, dead rows of a long drain pile up
     * in the claim index and slow claims down).
     */
    String settings() throws SQLException {
        try (Connection c = connect(adminUrl); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("""
                     SELECT string_agg(name || '=' || current_setting(name), ' ' ORDER BY name)
                       FROM pg_settings
                      WHERE name IN ('autovacuum', 'fsync', 'synchronous_commit', 'shared_buffers', 'max_connections')""")) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** The URL without a password, for logs. */
    String describe() {
        return (embedded != null ? "embedded PostgreSQL " + embedded.majorVersion() + " at " : "")
                + adminUrl.replaceAll("(?i)(password=)[^&]*", "$1***");
    }

    /** What this run's database names start with: {@code bench_<8 random hex digits>_}. */
    String runPrefix() {
        return runPrefix;
    }

    /**
     * Creates the database {@link #runPrefix()}{@code name} for one measurement, and checkpoints so
     * that the measurement does not pay for earlier writes. Fails, dropping nothing, if a database of
     * that name exists already.
     */
    Fresh fresh(String name) throws SQLException {
        String database = runPrefix + name;
        if (!DATABASE_NAME.matcher(database).matches()) {
            throw new IllegalArgumentException("expected a database name of at most 63 characters a-z, 0-9 and _, got: " + database);
        }
        try (Connection c = connect(adminUrl); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + database);
            created.add(database);
            st.execute("CHECKPOINT");
        }
        return new Fresh(database, withDatabase(adminUrl, database));
    }

    /** Drops {@code database}, which this run must have created. */
    private void drop(String database) throws SQLException {
        if (!created.contains(database)) {
            throw new IllegalStateException("refusing to drop the database " + database + ": this run did not create it");
        }
        try (Connection c = connect(adminUrl); Statement st = c.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
        }
        created.remove(database);
    }

    /** Drops what this run created and has not dropped yet (a measurement that failed to), then stops an embedded server. */
    @Override
    public void close() {
        for (String database : List.copyOf(created)) {
            try {
                drop(database);
            } catch (SQLException | RuntimeException e) {
                Log.info("could not drop this run's database %s: %s", database, e);
            }
        }
        if (embedded != null) {
            embedded.close();
        }
    }

    /** A database this run made for one measurement; {@link #close()} drops it. */
    final class Fresh implements AutoCloseable {
        private final String name;
        private final String url;

        private Fresh(String name, String url) {
            this.name = name;
            this.url = url;
        }

        String name() {
            return name;
        }

        String url() {
            return url;
        }

        @Override
        public void close() throws SQLException {
            drop(name);
        }
    }

    private static byte[] randomBytes(int n) {
        byte[] bytes = new byte[n];
        new SecureRandom().nextBytes(bytes);
        return bytes;
    }

    /** A plain autocommit connection. */
    static Connection connect(String url) throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("ApplicationName", APPLICATION_NAME);
        Connection c = DriverManager.getConnection(url, properties);
        c.setAutoCommit(true);
        return c;
    }

    /**
     * A HikariCP pool of {@code size} connections, all open when this returns (Hikari fills a pool in
     * the background), so that no measurement pays for connecting that a running service would not.
     */
    static HikariDataSource pool(String url, int size, String name) throws InterruptedException {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setMaximumPoolSize(size);
        config.setMinimumIdle(size);
        config.setPoolName(name);
        config.addDataSourceProperty("ApplicationName", APPLICATION_NAME);
        HikariDataSource pool = new HikariDataSource(config);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (pool.getHikariPoolMXBean().getTotalConnections() < size && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        return pool;
    }

    /** {@code url} with its database replaced by {@code database}; user, password and options stay. */
    static String withDatabase(String url, String database) {
        Matcher m = URL.matcher(url);
        if (!m.matches()) {
            throw new IllegalArgumentException("expected a JDBC URL jdbc:postgresql://host[:port][/database][?options], got: "
                    + url.replaceAll("(?i)(password=)[^&]*", "$1***"));
        }
        return m.group(1) + "/" + database + (m.group(3) == null ? "" : m.group(3));
    }
}
