package dev.pgqueue.jdbi;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.Optional;
import javax.sql.DataSource;
import org.jdbi.v3.core.Jdbi;

/**
 * The maximum size of the connection pool behind a {@code Jdbi}, when it can be found: the
 * {@code DataSource} that {@code Jdbi.create(dataSource)} captured, if it has a public
 * {@code getMaximumPoolSize()} (HikariCP) or {@code getMaxTotal()} (Commons DBCP 2). Found by
 * reflection, so that pgqueue depends on no pool; empty whenever anything about it is not as
 * expected (another Jdbi version, a module system that forbids the look, another pool).
 */
final class PoolSize {

    private PoolSize() {}

    static Optional<Integer> maximum(Jdbi jdbi) {
        try {
            Field factoryField = Jdbi.class.getDeclaredField("connectionFactory");
            factoryField.setAccessible(true);
            Object factory = factoryField.get(jdbi);
            DataSource dataSource = factory instanceof DataSource ds ? ds : null;
            for (Field field : factory.getClass().getDeclaredFields()) {
                if (dataSource == null && DataSource.class.isAssignableFrom(field.getType())) {
                    field.setAccessible(true);
                    dataSource = (DataSource) field.get(factory);
                }
            }
            return dataSource == null ? Optional.empty() : maximum(dataSource);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static Optional<Integer> maximum(DataSource dataSource) {
        for (String getter : new String[] {"getMaximumPoolSize", "getMaxTotal"}) {
            try {
                Method method = dataSource.getClass().getMethod(getter);
                if (method.getReturnType() == int.class) {
                    int size = (int) method.invoke(dataSource);
                    return size > 0 ? Optional.of(size) : Optional.empty();
                }
            } catch (ReflectiveOperationException | RuntimeException e) {
                // not this pool
            }
        }
        return Optional.empty();
    }
}
