package dev.pgqueue.jdbi.worker;

import dev.pgqueue.Worker;
import dev.pgqueue.jdbi.JdbiJobQueue;
import dev.pgqueue.jdbi.JdbiJobStore;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * The setup the worker tests share, written once: a store and a queue on the test class's schema,
 * an empty job table before each test, and every worker a test started closed after it (also when
 * the test fails), so that none keeps claiming into the next test.
 */
@PostgresTest
abstract class WorkerFixture {

    protected final TestDatabase db;
    protected final Jdbi jdbi;
    protected final JdbiJobStore store;
    protected final JdbiJobQueue queue;
    /** The worker of tests that run one at a time; closed after each test. */
    protected Worker worker;
    private final List<Worker> started = new CopyOnWriteArrayList<>();

    WorkerFixture(TestDatabase db) {
        this.db = db;
        this.jdbi = Jdbi.create(db.dataSource());
        this.store = JdbiJobStore.builder(jdbi).schema(db.schema()).build();
        this.queue = JdbiJobQueue.create(store);
    }

    @BeforeEach
    final void deleteJobs() {
        db.execute("DELETE FROM job_queue");
    }

    @AfterEach
    final void closeWorkers() {
        if (worker != null) {
            worker.close();
            worker = null;
        }
        started.forEach(Worker::close);
        started.clear();
    }

    /** Builds and starts a worker, closed after the test. */
    protected Worker start(Worker.Builder builder) {
        Worker built = builder.build();
        started.add(built);
        built.start();
        return built;
    }
}
