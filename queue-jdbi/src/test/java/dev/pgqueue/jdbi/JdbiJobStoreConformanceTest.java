package dev.pgqueue.jdbi;

import dev.pgqueue.spi.JobStore;
import dev.pgqueue.testing.JobStoreConformance;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;

/**
 * The store contract ({@link JobStoreConformance}) run against {@link JdbiJobStore} on PostgreSQL.
 * "Changes nothing" compares whole rows, every column (leases and cancellation requests too), not
 * only what the SPI reads back. What is specific to this store stays in {@link JdbiJobStoreTest}.
 */
@PostgresTest
class JdbiJobStoreConformanceTest extends JobStoreConformance {

    private final JdbiJobStore store;
    private final JobRows rows;

    JdbiJobStoreConformanceTest(TestDatabase db) {
        this.store = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
        this.rows = new JobRows(db);
    }

    @Override
    protected JobStore newStore() {
        rows.deleteAll();
        return store;
    }

    @Override
    protected Object state(UUID id) {
        return rows.row(id);
    }

    @Override
    protected Object allState() {
        return rows.all();
    }
}
