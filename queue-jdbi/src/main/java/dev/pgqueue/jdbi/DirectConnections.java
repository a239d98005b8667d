package dev.pgqueue.jdbi;

import java.lang.reflect.Field;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import org.jdbi.v3.core.ConnectionFactory;
import org.jdbi.v3.core.HandleCallbackDecorator;
import org.jdbi.v3.core.Jdbi;

/**
 * Where a store's own operations (each one statement, or one short transaction, in plain JDBC) get their
 * connection: straight from the {@code Jdbi}'s {@link ConnectionFactory} (the application's pool), closed
 * right after, instead of through a JDBI {@code Handle} per call. A handle copies JDBI's configuration,
 * makes a statement builder and cleans up after itself; none of it serves statements that never touch
 * JDBI, and in a profile of single enqueues it was a third of pgqueue's own client time (docs/performance.md,
 * "W3: third round").
 *
 * <p>It goes through {@code jdbi.withHandle}, exactly as before, whenever JDBI would do more than lend the
 * connection: a plugin is installed (it may customize connections), a callback decorator is set, or this
 * thread already holds a handle of this {@code Jdbi} (inside {@code jdbi.useTransaction}, say: JDBI then
 * runs the operation on that handle, in the caller's transaction). The factory is found by reflection, as
 * {@link PoolSize} finds the pool; where that fails (another JDBI version, a module system that forbids the
 * look) every call goes through {@code withHandle}. Thread-safe.
 */
final class DirectConnections {

    private final Jdbi jdbi;
    /** Null when not found: always {@code withHandle}. */
    private final ConnectionFactory factory;
    /** The {@code Jdbi}'s own list of installed plugins, read at each call (plugins may be installed later). */
    private final List<?> plugins;

    private DirectConnections(Jdbi jdbi, ConnectionFactory factory, List<?> plugins) {
        this.jdbi = jdbi;
        this.factory = factory;
        this.plugins = plugins;
    }

    static DirectConnections of(Jdbi jdbi) {
        try {
            ConnectionFactory factory = (ConnectionFactory) field(jdbi, "connectionFactory");
            List<?> plugins = (List<?>) field(jdbi, "plugins");
            if (factory != null && plugins != null) {
                return new DirectConnections(jdbi, factory, plugins);
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            // not the Jdbi this was written against: use its handles
        }
        return new DirectConnections(jdbi, null, null);
    }

    private static Object field(Jdbi jdbi, String name) throws ReflectiveOperationException {
        Field field = Jdbi.class.getDeclaredField(name);
        field.setAccessible(true);
        return field.get(jdbi);
    }

    /** Whether {@link #run} lends connections without a handle right now (tests). */
    boolean direct() {
        return factory != null
                && plugins.isEmpty()
                && jdbi.getHandleCallbackDecorator() == HandleCallbackDecorator.STANDARD_HANDLE_CALLBACK_DECORATOR
                && jdbi.getHandleScope().get() == null;
    }

    /** Runs {@code work} on a connection of the {@code Jdbi}, which is closed (given back to the pool) afterwards. */
    <T> T run(JdbiJobStore.SqlWork<T> work) throws SQLException {
        if (!direct()) {
            return jdbi.withHandle(handle -> work.apply(handle.getConnection()));
        }
        Connection connection = factory.openConnection();
        T result;
        try {
            result = work.apply(connection);
        } catch (SQLException | RuntimeException | Error e) {
            try {
                factory.getCleanableFor(connection).close();
            } catch (SQLException | RuntimeException closeFailed) {
                e.addSuppressed(closeFailed);
            }
            throw e;
        }
        factory.getCleanableFor(connection).close();
        return result;
    }
}
