package dev.pgqueue.testing.postgres;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtensionContext.Namespace;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives each test class a {@link TestDatabase} on {@link PostgresServer#shared()}: created before
 * the class's first {@code @BeforeAll}, closed (its pools closed, its schema dropped) after its
 * last {@code @AfterAll}. Apply it with {@link PostgresTest @PostgresTest} or
 * {@code @ExtendWith(PostgresExtension.class)}.
 *
 * <p>A {@code TestDatabase} parameter is injected into the test class's constructor,
 * {@code @BeforeAll}, {@code @BeforeEach}, test, {@code @AfterEach} and {@code @AfterAll}
 * methods; all of them receive the same instance. {@code @Nested} classes share the enclosing
 * class's database. Test methods of one class share the schema, so a test that needs an empty
 * table deletes from it first.
 */
public final class PostgresExtension implements BeforeAllCallback, AfterAllCallback, ParameterResolver {

    private static final Namespace NAMESPACE = Namespace.create(PostgresExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        database(context);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        // Only the class that created the database holds it in its own store; nested classes find none here.
        TestDatabase database = context.getStore(NAMESPACE).remove(TestDatabase.class, TestDatabase.class);
        if (database != null) {
            database.close();
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == TestDatabase.class;
    }

    @Override
    public TestDatabase resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return database(extensionContext);
    }

    /**
     * The database of the class that {@code context} belongs to: found in its store or an
     * enclosing class's (stores are hierarchical), else created in the class's store. Creating
     * here rather than only in {@link #beforeAll} also covers constructor injection under
     * {@code @TestInstance(PER_CLASS)}, which happens before {@code beforeAll}.
     */
    @SuppressWarnings("deprecation") // getOrComputeIfAbsent: JUnit 6 deprecates it, JUnit 5 has nothing else
    private static TestDatabase database(ExtensionContext context) {
        ExtensionContext classContext = context;
        while (classContext.getTestMethod().isPresent()) {
            classContext = classContext.getParent().orElseThrow();
        }
        Class<?> testClass = classContext.getRequiredTestClass();
        return classContext.getStore(NAMESPACE)
                .getOrComputeIfAbsent(TestDatabase.class, key -> TestDatabase.create(testClass), TestDatabase.class);
    }
}
