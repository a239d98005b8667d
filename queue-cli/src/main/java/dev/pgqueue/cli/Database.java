package dev.pgqueue.cli;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pgqueue.admin.JobAdmin;
import dev.pgqueue.jdbi.JdbiJobAdmin;
import dev.pgqueue.StoreException;
import dev.pgqueue.jdbi.JdbiJobStore;
import dev.pgqueue.jdbi.SchemaMigrator;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Jdbi;

/**
 * The database one command works on: its JDBC URL checked and its connection tried before anything
 * else, then the migrator, the store and the admin API over it, each made on first use. Connections
 * come straight from the driver, one per operation: a command makes few round trips and exits.
 *
 * <p>A password is never printed: every message that may hold the URL goes through {@link #redact}.
 */
final class Database implements AutoCloseable {

    static final String URL_PREFIX = "jdbc:postgresql:";
    /** The {@code application_name} of the CLI's sessions, as {@code pg_stat_activity} shows them. */
    static final String APPLICATION_NAME = "pgqueue-cli";
    /** What to do about a schema that is not ready, appended to the reason. */
    static final String MIGRATE_HINT = "; run 'pgqueue migrate', or 'pgqueue migrate --print' for the SQL";

    private static final Pattern PASSWORD_PARAMETER = Pattern.compile("(?i)(password=)[^&;\\s]*");
    private static final Pattern USER_INFO = Pattern.compile("(//[^/:@\\s]+:)[^@/\\s]*@");

    private final String url;
    private final String schema;
    private final Properties properties;
    private final Jdbi jdbi;
    private final AutoCloseable pool;
    private JdbiJobStore store;
    private JobAdmin admin;

    private Database(String url, String schema, Properties properties, Jdbi jdbi, AutoCloseable pool) {
        this.url = url;
        this.schema = schema;
        this.properties = properties;
        this.jdbi = jdbi;
        this.pool = pool;
    }

    /**
     * Checks the URL and the schema name, then connects once.
     *
     * @throws CliException (usage) for a missing or malformed URL or schema, (error) when the database
     *                      cannot be reached
     */
    static Database open(String url, String schema) {
        Database database = unconnected(url, schema);
        database.ping();
        return database;
    }

    /** Checks the URL and the schema name without connecting (for {@code health}, which reports a failed connection). */
    static Database unconnected(String url, String schema) {
        if (url == null || url.isBlank()) {
            throw CliException.usage("no database given: pass --url jdbc:postgresql://host:5432/database?user=… "
                    + "or set " + PgQueueCli.URL_ENV);
        }
        if (!url.startsWith(URL_PREFIX)) {
            throw CliException.usage("expected --url to be a PostgreSQL JDBC URL (jdbc:postgresql://host:port/database?user=…), got: "
                    + redact(url));
        }
        SchemaMigrator.of(Jdbi.create(url), schema); // validates the schema name, connects nowhere
        Properties properties = new Properties();
        properties.setProperty("ApplicationName", APPLICATION_NAME);
        properties.setProperty("connectTimeout", "10");
        return new Database(url, schema, properties, Jdbi.create(url, properties), null);
    }

    /** Opens one connection and closes it: the database answers, or a one-line error says why not. */
    void ping() {
        try (Connection c = jdbi.open().getConnection()) {
            c.isValid(10);
        } catch (SQLException | RuntimeException e) {
            throw new CliException(PgQueueCli.EXIT_ERROR, "cannot connect to " + redact(url) + ": " + rootMessage(e), e);
        }
    }

    /**
     * The same database over a pool of at most {@code size} connections, for a command that serves
     * for long ({@code dashboard}); closing it closes the pool.
     */
    Database pooled(int size) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setDataSourceProperties(properties);
        config.setMaximumPoolSize(size);
        config.setPoolName(APPLICATION_NAME);
        HikariDataSource pool = new HikariDataSource(config);
        return new Database(url, schema, properties, Jdbi.create(pool), pool);
    }

    String schema() {
        return schema;
    }

    Jdbi jdbi() {
        return jdbi;
    }

    SchemaMigrator migrator() {
        return SchemaMigrator.of(jdbi, schema);
    }

    /**
     * The store over a migrated schema (never migrating it: that is {@code pgqueue migrate}'s job).
     * Whoever applied the migrations (pgqueue, Flyway, Liquibase, a DBA), the schema's objects decide.
     *
     * @throws CliException naming what the schema lacks, if it is not ready for this pgqueue
     */
    JdbiJobStore store() {
        if (store == null) {
            try {
                store = JdbiJobStore.builder(jdbi).schema(schema).migrate(false).build();
            } catch (StoreException notReady) {
                throw CliException.error(OneLine.of(notReady.getMessage()) + MIGRATE_HINT);
            }
        }
        return store;
    }

    /** The admin API over {@link #store()}. */
    JobAdmin admin() {
        if (admin == null) {
            admin = JdbiJobAdmin.create(store());
        }
        return admin;
    }

    @Override
    public void close() {
        // Without a pool, connections are closed after each operation; nothing is held between them.
        if (pool != null) {
            try {
                pool.close();
            } catch (Exception e) {
                // closing: nothing left to do with it
            }
        }
    }

    /** {@code text} with every password in a JDBC URL (a {@code password=} parameter or user info) masked. */
    static String redact(String text) {
        if (text == null) {
            return null;
        }
        String masked = PASSWORD_PARAMETER.matcher(text).replaceAll("$1***");
        return USER_INFO.matcher(masked).replaceAll("$1***@");
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return redact(OneLine.of(root.getMessage() != null ? root.getMessage() : root.getClass().getSimpleName()));
    }
}
