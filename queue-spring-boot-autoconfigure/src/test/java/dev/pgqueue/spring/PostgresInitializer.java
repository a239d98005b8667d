package dev.pgqueue.spring;

import dev.pgqueue.testing.postgres.TestDatabase;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.boot.test.util.TestPropertyValues;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Gives a {@code @SpringBootTest} context a schema of its own on the test server (the project's test
 * database chain), points {@code spring.datasource.url} and {@code pgqueue.schema} at it, exposes the
 * {@link TestDatabase} as a bean, and drops the schema after everything else in the context is closed.
 */
class PostgresInitializer implements ApplicationContextInitializer<ConfigurableApplicationContext> {

    @Override
    public void initialize(ConfigurableApplicationContext context) {
        TestDatabase database = TestDatabase.create(PostgresInitializer.class);
        TestPropertyValues.of(TestDatabases.properties(database)).applyTo(context);
        DefaultListableBeanFactory beans = (DefaultListableBeanFactory) context.getBeanFactory();
        beans.registerSingleton("testDatabase", database);
        // Registered first, so destroyed last: after the worker stopped and the pool closed.
        beans.registerDisposableBean("testDatabase", database::close);
    }
}
