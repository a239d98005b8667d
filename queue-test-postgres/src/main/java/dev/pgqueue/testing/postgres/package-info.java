/**
 * A real PostgreSQL for tests, and a fresh schema for each test class.
 *
 * <p>{@link dev.pgqueue.testing.postgres.PostgresServer} finds one server per JVM (a JDBC URL,
 * Testcontainers, or embedded PostgreSQL); {@link dev.pgqueue.testing.postgres.TestDatabase} is
 * one schema on it with pooled connections whose {@code search_path} is that schema; and
 * {@link dev.pgqueue.testing.postgres.PostgresTest @PostgresTest} gives each test class its own
 * {@code TestDatabase} as a parameter:
 *
 * <pre>{@code
 * @PostgresTest
 * class JdbiJobStoreTest {
 *     private final TestDatabase db;
 *
 *     JdbiJobStoreTest(TestDatabase db) {
 *         this.db = db;
 *     }
 *
 *     @Test
 *     void enqueue_insertsAPendingJob() {
 *         // ... use db.dataSource() ...
 *         assertThat(db.queryForLong("select count(*) from job_queue where status = 'pending'")).isEqualTo(1);
 *     }
 * }
 * }</pre>
 */
package dev.pgqueue.testing.postgres;
