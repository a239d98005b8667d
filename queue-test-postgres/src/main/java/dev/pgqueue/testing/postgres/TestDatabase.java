package dev.pgqueue.testing.postgres;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A fresh schema on a {@link PostgresServer}, for one test class: created by {@link #create},
 * dropped with everything in it by {@link #close()}. Its name is
 * {@code t_<simple class name, lowercased>_<6 random characters>}, at most 63 characters, so
 * several test runs (and several classes) can share one database without seeing each other's
 * tables.
 *
 * <p>Connections come from pools whose {@code search_path} is the schema, so unqualified table
 * names resolve there: {@link #dataSource()} for the test itself, {@link #newDataSource} for
 * more. {@link #close()} closes every pool this instance created, then drops the schema.
 *
 * <p>{@link #execute}, {@link #queryForLong} and {@link #queryForList} run one statement on
 * {@link #dataSource()} in autocommit mode, binding {@code params} to its {@code ?} placeholders
 * in order with {@link PreparedStatement#setObject(int, Object)}; a failure is thrown as an
 * {@link UncheckedSQLException}.
 *
 * <p>Thread-safe. With JUnit, {@link PostgresExtension} creates and closes it for each class.
 */
public final class TestDatabase implements AutoCloseable {

    /** The {@code application_name} of {@link #dataSource()}'s connections. */
    public static final String APPLICATION_NAME = "pgqueue-test";

    /** The most connections {@link #dataSource()} opens at once. */
    public static final int MAX_POOL_SIZE = 10;

    private static final int MAX_IDENTIFIER_LENGTH = 63;
    private static final String SUFFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
    private static final int SUFFIX_LENGTH = 6;

    private final PostgresServer server;
    private final String schema;
    private final List<HikariDataSource> pools = new ArrayList<>(); // guarded by this
    private HikariDataSource dataSource; // guarded by this
    private boolean closed; // guarded by this

    private TestDatabase(PostgresServer server, String schema) {
        this.server = server;
        this.schema = schema;
    }

    /**
     * Creates a schema for {@code testClass} on {@link PostgresServer#shared()}.
     *
     * @param testClass the test class, whose name the schema's is made from
     * @return the database; close it after the class's tests
     */
    public static TestDatabase create(Class<?> testClass) {
        return create(PostgresServer.shared(), testClass);
    }

    /**
     * Creates a schema for {@code testClass} on {@code server}.
     *
     * @param server the server to create the schema on
     * @param testClass the test class, whose name the schema's is made from
     * @return the database; close it after the class's tests
     * @throws UncheckedSQLException if the schema cannot be created
     */
    public static TestDatabase create(PostgresServer server, Class<?> testClass) {
        String schema = schemaNameFor(testClass);
        String sql = "create schema " + schema;
        try (Connection connection = server.connect(); Statement statement = connection.createStatement()) {
            statement.execute(sql);
        } catch (SQLException e) {
            throw new UncheckedSQLException(sql, e);
        }
        return new TestDatabase(server, schema);
    }

    /** {@return the server this schema lives on} */
    public PostgresServer server() {
        return server;
    }

    /**
     * The schema's name, a lowercase identifier that needs no quoting.
     *
     * @return the schema's name
     */
    public String schema() {
        return schema;
    }

    /**
     * A JDBC URL whose connections have {@code search_path} set to {@link #schema()}.
     *
     * @return the URL
     */
    public String jdbcUrl() {
        String url = server.jdbcUrl();
        return url + (url.contains("?") ? "&" : "?") + "currentSchema=" + schema;
    }

    /**
     * The pool for this test class, created on first use: at most {@value #MAX_POOL_SIZE}
     * connections, {@code application_name} {@value #APPLICATION_NAME}. Do not close it;
     * {@link #close()} does.
     *
     * @return the shared pool
     * @throws IllegalStateException if this database is closed
     */
    public synchronized HikariDataSource dataSource() {
        requireOpen();
        if (dataSource == null) {
            dataSource = newDataSource(APPLICATION_NAME, MAX_POOL_SIZE);
        }
        return dataSource;
    }

    /**
     * A further pool on this schema, for example for a test that must find and terminate only its
     * own backends by {@code application_name}. Closed by {@link #close()}, or earlier by the
     * caller.
     *
     * @param applicationName the connections' {@code application_name}; not blank
     * @param maxPoolSize the most connections, at least 1
     * @return the new pool
     * @throws IllegalStateException if this database is closed
     * @see PostgresServer#newDataSource(String, String, int)
     */
    public synchronized HikariDataSource newDataSource(String applicationName, int maxPoolSize) {
        requireOpen();
        HikariDataSource pool = server.newDataSource(schema, applicationName, maxPoolSize);
        pools.add(pool);
        return pool;
    }

    /**
     * Runs one statement and returns the number of rows it changed (0 for a statement that
     * returns rows or changes none).
     *
     * @param sql the statement, with {@code ?} placeholders
     * @param params the placeholders' values, in order
     * @return the number of rows changed
     */
    public int execute(String sql, Object... params) {
        try (Connection connection = dataSource().getConnection();
             PreparedStatement statement = prepare(connection, sql, params)) {
            statement.execute();
            return Math.max(statement.getUpdateCount(), 0);
        } catch (SQLException e) {
            throw new UncheckedSQLException(sql, e);
        }
    }

    /**
     * Runs a query that returns exactly one row with a non-null number in its first column, and
     * returns that number, for example {@code select count(*) from job_queue}.
     *
     * @param sql the query, with {@code ?} placeholders
     * @param params the placeholders' values, in order
     * @return the number
     * @throws IllegalStateException if the query returns no row, several rows, or a null or
     *     non-numeric value
     */
    public long queryForLong(String sql, Object... params) {
        try (Connection connection = dataSource().getConnection();
             PreparedStatement statement = prepare(connection, sql, params);
             ResultSet rows = statement.executeQuery()) {
            if (!rows.next()) {
                throw new IllegalStateException("expected one row from " + sql + ", got: none");
            }
            Object value = rows.getObject(1);
            if (rows.next()) {
                throw new IllegalStateException("expected one row from " + sql + ", got: several");
            }
            if (!(value instanceof Number number)) {
                throw new IllegalStateException("expected a number from " + sql + ", got: " + value);
            }
            return number.longValue();
        } catch (SQLException e) {
            throw new UncheckedSQLException(sql, e);
        }
    }

    /**
     * Runs a query and returns its rows, each an unmodifiable map from column label to value
     * (as {@link ResultSet#getObject(int)} returns it, null included) in the query's column order.
     *
     * @param sql the query, with {@code ?} placeholders
     * @param params the placeholders' values, in order
     * @return the rows, in the query's order; empty if none
     */
    public List<Map<String, Object>> queryForList(String sql, Object... params) {
        try (Connection connection = dataSource().getConnection();
             PreparedStatement statement = prepare(connection, sql, params);
             ResultSet rows = statement.executeQuery()) {
            ResultSetMetaData columns = rows.getMetaData();
            List<Map<String, Object>> result = new ArrayList<>();
            while (rows.next()) {
                Map<String, Object> row = new LinkedHashMap<>();
                for (int column = 1; column <= columns.getColumnCount(); column++) {
                    row.put(columns.getColumnLabel(column), rows.getObject(column));
                }
                result.add(Collections.unmodifiableMap(row));
            }
            return Collections.unmodifiableList(result);
        } catch (SQLException e) {
            throw new UncheckedSQLException(sql, e);
        }
    }

    /**
     * Closes every pool this instance created, then drops the schema and everything in it.
     * Does nothing the second time. Waits at most 10 seconds for locks held on the schema's
     * objects by connections outside these pools, then fails.
     *
     * @throws UncheckedSQLException if the schema cannot be dropped
     */
    @Override
    public void close() {
        List<HikariDataSource> toClose;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            toClose = List.copyOf(pools);
        }
        toClose.forEach(HikariDataSource::close);
        String sql = "drop schema if exists " + schema + " cascade";
        try (Connection connection = server.connect(); Statement statement = connection.createStatement()) {
            statement.execute("set lock_timeout = '10s'");
            statement.execute(sql);
        } catch (SQLException e) {
            throw new UncheckedSQLException(sql, e);
        }
    }

    @Override
    public String toString() {
        return "TestDatabase " + schema + " on " + server;
    }

    /** {@code t_<simple name>_<suffix>}: non-identifier characters become '_', the name is cut to fit 63. */
    static String schemaNameFor(Class<?> testClass) {
        String name = testClass.getSimpleName().toLowerCase(Locale.ROOT)
                .replaceAll("[^a-z0-9]+", "_")
                .replaceAll("^_+|_+$", "");
        int room = MAX_IDENTIFIER_LENGTH - "t_".length() - "_".length() - SUFFIX_LENGTH;
        if (name.length() > room) {
            name = name.substring(0, room).replaceAll("_+$", "");
        }
        if (name.isEmpty()) {
            name = "anonymous";
        }
        return "t_" + name + "_" + randomSuffix();
    }

    private static String randomSuffix() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        StringBuilder suffix = new StringBuilder(SUFFIX_LENGTH);
        for (int i = 0; i < SUFFIX_LENGTH; i++) {
            suffix.append(SUFFIX_ALPHABET.charAt(random.nextInt(SUFFIX_ALPHABET.length())));
        }
        return suffix.toString();
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("TestDatabase " + schema + " is closed");
        }
    }

    private static PreparedStatement prepare(Connection connection, String sql, Object... params) throws SQLException {
        PreparedStatement statement = connection.prepareStatement(sql);
        try {
            for (int i = 0; i < params.length; i++) {
                statement.setObject(i + 1, params[i]);
            }
            return statement;
        } catch (SQLException e) {
            statement.close();
            throw e;
        }
    }
}
