package dev.pgqueue.examples.spring;

import dev.pgqueue.testing.postgres.TestDatabase;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.boot.test.util.TestPropertyValues;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * How an application's {@code @SpringBootTest} gets a real PostgreSQL from queue-test-postgres (a JDBC
 * URL in PGQUEUE_TEST_JDBC_URL, else Testcontainers, else an embedded server): a schema of its own,
 * dropped when the context closes, after the worker and the pool.
 */
class TestPostgres implements ApplicationContextInitializer<ConfigurableApplicationContext> {

    @Override
    public void initialize(ConfigurableApplicationContext context) {
        TestDatabase database = TestDatabase.create(SignupApplicationTest.class);
        TestPropertyValues.of(
                "spring.datasource.url=" + database.jdbcUrl(),
                "spring.datasource.hikari.maximum-pool-size=8",
                "pgqueue.schema=" + database.schema()).applyTo(context);
        DefaultListableBeanFactory beans = (DefaultListableBeanFactory) context.getBeanFactory();
        beans.registerSingleton("testDatabase", database);
        beans.registerDisposableBean("testDatabase", database::close);
    }
}
