package dev.pgqueue.testing.postgres;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class that works on PostgreSQL: shorthand for
 * {@code @ExtendWith(PostgresExtension.class)}. The class gets its own {@link TestDatabase},
 * injected wherever a parameter of that type is declared, and dropped after its last test.
 */
@Target({ElementType.TYPE, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(PostgresExtension.class)
public @interface PostgresTest {
}
