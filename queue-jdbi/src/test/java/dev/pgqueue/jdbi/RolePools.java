package dev.pgqueue.jdbi;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.util.ArrayList;
import java.util.List;
import org.jdbi.v3.core.Jdbi;

/**
 * Connection pools whose sessions act as one role ({@code SET ROLE} when a connection opens), for the
 * tests that use pgqueue as a role other than the owner; {@link #close()} closes them all.
 */
final class RolePools implements AutoCloseable {

    private final String jdbcUrl;
    private final List<HikariDataSource> pools = new ArrayList<>();

    /** Pools on the server of {@code db}, connecting as the test's user, with no schema on the search path. */
    RolePools(TestDatabase db) {
        this(db.server().jdbcUrl());
    }

    /** Pools connecting to {@code jdbcUrl} as its user (e.g. {@link TestDatabase#jdbcUrl()}, with the test's schema). */
    RolePools(String jdbcUrl) {
        this.jdbcUrl = jdbcUrl;
    }

    /** A pool of at most {@code size} connections acting as {@code role}, after {@code moreInitSql} if not empty. */
    synchronized HikariDataSource pool(String role, int size, String moreInitSql) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(jdbcUrl);
        config.setConnectionInitSql("SET ROLE " + role + (moreInitSql.isEmpty() ? "" : "; " + moreInitSql));
        config.setMaximumPoolSize(size);
        config.setPoolName("as-" + role);
        HikariDataSource pool = new HikariDataSource(config);
        pools.add(pool);
        return pool;
    }

    HikariDataSource pool(String role) {
        return pool(role, 6, "");
    }

    Jdbi jdbi(String role) {
        return Jdbi.create(pool(role));
    }

    /** A store on {@code schema} as {@code role}, which never migrates (only the owner may). */
    JdbiJobStore store(String role, String schema) {
        return JdbiJobStore.builder(jdbi(role)).schema(schema).migrate(false).build();
    }

    @Override
    public synchronized void close() {
        pools.forEach(HikariDataSource::close);
        pools.clear();
    }
}
