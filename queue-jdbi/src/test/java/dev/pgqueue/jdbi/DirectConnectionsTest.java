package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import dev.pgqueue.JobType;
import dev.pgqueue.StoreException;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.Connection;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.spi.JdbiPlugin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A store's own operations borrow a connection straight from the Jdbi's pool, and go through a JDBI
 * handle whenever JDBI would do more than lend it: a handle already open on the thread (the caller's
 * transaction), an installed plugin.
 */
@PostgresTest
class DirectConnectionsTest {

    record Note(String text) {}

    static final JobType<Note> NOTE = JobType.of("note", Note.class);

    private final TestDatabase db;
    private final HikariDataSource pool;

    DirectConnectionsTest(TestDatabase db) {
        this.db = db;
        this.pool = db.newDataSource("direct-connections", 2);
        JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build(); // migrates the class's schema
    }

    @BeforeEach
    void emptyTheTable() {
        db.execute("DELETE FROM job_queue");
    }

    @AfterEach
    void closePool() {
        pool.close();
    }

    private long jobs() {
        return db.queryForLong("SELECT count(*) FROM job_queue");
    }

    @Test
    void anEnqueue_borrowsAConnectionOfThePool_andGivesItBack() {
        Jdbi jdbi = Jdbi.create(pool);
        DirectConnections direct = DirectConnections.of(jdbi);
        JdbiJobQueue queue = JdbiJobQueue.create(JdbiJobStore.builder(jdbi).schema(db.schema()).build());
        assertThat(direct.direct()).isTrue();

        for (int i = 0; i < 5; i++) { // more than the pool holds: each is given back
            queue.enqueue(NOTE, new Note("n" + i));
        }

        assertThat(jobs()).isEqualTo(5);
        assertThat(pool.getHikariPoolMXBean().getActiveConnections()).isZero();
    }

    @Test
    void insideAJdbiTransaction_anEnqueueJoinsIt_asJdbiWithHandleDoes() {
        Jdbi jdbi = Jdbi.create(pool);
        DirectConnections direct = DirectConnections.of(jdbi);
        JdbiJobQueue queue = JdbiJobQueue.create(JdbiJobStore.builder(jdbi).schema(db.schema()).build());
        AtomicReference<Boolean> directInside = new AtomicReference<>();

        assertThatThrownBy(() -> jdbi.useTransaction(handle -> {
            directInside.set(direct.direct());
            queue.enqueue(NOTE, new Note("rolled back with the caller's transaction"));
            throw new IllegalStateException("the caller rolls back");
        })).isInstanceOf(IllegalStateException.class);

        assertThat(directInside.get()).isFalse();
        assertThat(jobs()).isZero();
        assertThat(direct.direct()).isTrue();
    }

    @Test
    void withAPluginInstalled_everyOperationGoesThroughAHandle_soThePluginSeesItsConnection() {
        Jdbi jdbi = Jdbi.create(pool);
        JdbiJobStore store = JdbiJobStore.builder(jdbi).schema(db.schema()).build();
        DirectConnections direct = DirectConnections.of(jdbi);
        AtomicReference<Connection> customized = new AtomicReference<>();
        jdbi.installPlugin(new JdbiPlugin() {
            @Override
            public Connection customizeConnection(Connection conn) {
                customized.set(conn);
                return conn;
            }
        });

        JdbiJobQueue.create(store).enqueue(NOTE, new Note("through a handle"));

        assertThat(direct.direct()).isFalse();
        assertThat(customized.get()).isNotNull();
        assertThat(jobs()).isEqualTo(1);
    }

    @Test
    void aFailedStatement_givesTheConnectionBack_andFailsWithTheStoresError() {
        Jdbi jdbi = Jdbi.create(pool);
        JdbiJobStore store = JdbiJobStore.builder(jdbi).schema(db.schema()).build();
        db.execute("ALTER TABLE job_queue ADD CONSTRAINT direct_connections_test_check CHECK (job_type <> 'note') NOT VALID");
        try {
            assertThatThrownBy(() -> JdbiJobQueue.create(store).enqueue(NOTE, new Note("rejected")))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("could not enqueue jobs in " + db.schema() + ".job_queue [23514]");
            assertThat(pool.getHikariPoolMXBean().getActiveConnections()).isZero();
        } finally {
            db.execute("ALTER TABLE job_queue DROP CONSTRAINT direct_connections_test_check");
        }
        assertThat(store.jobGet(UUID.randomUUID())).isEmpty(); // the pool still lends
    }
}
