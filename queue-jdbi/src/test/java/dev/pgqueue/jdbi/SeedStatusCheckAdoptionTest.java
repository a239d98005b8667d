package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.pgqueue.Batch;
import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.Worker;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import dev.pgqueue.testing.postgres.UncheckedSQLException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A seed table whose status check has a name of its own (not PostgreSQL's default
 * {@code job_queue_status_check}, which V1 replaces) is adopted all the same: the foreign check is
 * dropped (V5), so the statuses pgqueue adds ({@code cancelled}, {@code waiting}) are accepted, both
 * on a fresh adoption and on a table that V1-V3 adopted before V5 existed. Each test starts from the
 * seed (test resource seed/seed_job_queue.sql) with its check renamed, in a schema of its own.
 */
@PostgresTest
class SeedStatusCheckAdoptionTest {

    record Task(int n) {}

    static final JobType<Task> TASK = JobType.of("task", Task.class);
    static final JobType<Task> CALLBACK = JobType.of("callback", Task.class);
    private static final UUID SEED_PENDING = UUID.fromString("0f7c1a52-3d4e-4b6a-9c1d-000000000001");

    private final TestDatabase db;
    private String schema;
    private HikariDataSource dataSource;
    private Jdbi jdbi;

    SeedStatusCheckAdoptionTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void createTheSeedsTableWithANamedStatusCheck() throws Exception {
        schema = db.schema() + "_named";
        db.execute("create schema " + schema);
        dataSource = db.server().newDataSource(schema, "seed-named-check", 4);
        jdbi = Jdbi.create(dataSource);
        String seed = resource("/seed/seed_job_queue.sql");
        String columnCheck = "status TEXT DEFAULT 'pending' CHECK (status IN ('pending', 'processing', 'completed', 'failed')),";
        assertThat(seed).contains(columnCheck);
        execute(seed.replace(columnCheck, "status TEXT DEFAULT 'pending'"
                + " CONSTRAINT job_status_valid CHECK (status IN ('pending', 'processing', 'completed', 'failed')),"));
        assertThat(statusChecks()).containsExactly("job_status_valid");
    }

    @AfterEach
    void dropTheSeedsSchema() {
        dataSource.close();
        db.execute("drop schema if exists " + schema + " cascade");
    }

    @Test
    void freshAdoption_dropsTheNamedCheck_andEveryStatusOfPgqueueWorks() {
        JdbiJobStore store = JdbiJobStore.builder(jdbi).schema(schema).build();

        everyStatusWorks(store);
        assertThat(statusChecks()).containsExactly("job_queue_dependencies_check", "job_queue_lease_check",
                "job_queue_status_check");
    }

    @Test
    void aTableAdoptedByV1ToV3_losesTheNamedCheckWhenMigrated() {
        SchemaMigrator migrator = SchemaMigrator.of(jdbi, schema);
        migrator.migrateTo(3);
        assertThat(statusChecks()).as("what V1-V3 left: the seed's check beside pgqueue's")
                .contains("job_status_valid");
        assertThat(tryExecute("update job_queue set status = 'cancelled' where id = '" + SEED_PENDING + "'"))
                .as("before V5").contains("job_status_valid");

        migrator.migrate();

        assertThat(statusChecks()).doesNotContain("job_status_valid");
        everyStatusWorks(JdbiJobStore.builder(jdbi).schema(schema).build());
    }

    /** cancel(), a handler's JobOutcome.cancel, job_queue_enqueue_after and enqueueBatch. */
    private void everyStatusWorks(JdbiJobStore store) {
        JdbiJobQueue queue = JdbiJobQueue.create(store);

        assertThat(queue.cancel(SEED_PENDING)).isTrue();
        assertThat(status(SEED_PENDING)).isEqualTo("cancelled");

        UUID cancelledByHandler = queue.enqueue(TASK, new Task(1));
        Worker worker = Worker.builder(store).pollInterval(Duration.ofMillis(100))
                .handler(TASK, (job, context) -> JobOutcome.cancel("not wanted"))
                .build();
        worker.start();
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> !"pending".equals(status(cancelledByHandler))
                    && !"processing".equals(status(cancelledByHandler)));
        } finally {
            worker.close();
        }
        assertThat(status(cancelledByHandler)).isEqualTo("cancelled");

        UUID first = queue.enqueue(TASK, new Task(2));
        UUID after = jdbi.withHandle(h -> h.createQuery("select job_queue_enqueue_after(array[:first]::uuid[], 'task')")
                .bind("first", first).mapTo(UUID.class).one());
        assertThat(status(after)).isEqualTo("waiting");

        Batch batch = queue.enqueueBatch(TASK, List.of(new Task(3), new Task(4)), EnqueueOptions.defaults(),
                CALLBACK, new Task(5), EnqueueOptions.defaults());
        assertThat(status(batch.callbackId())).isEqualTo("waiting");
    }

    private List<String> statusChecks() {
        return jdbi.withHandle(h -> h.createQuery("select c.conname from pg_constraint c"
                        + " join pg_attribute a on a.attrelid = c.conrelid and a.attname = 'status'"
                        + " where c.conrelid = 'job_queue'::regclass and c.contype = 'c' and a.attnum = any (c.conkey)"
                        + " order by c.conname")
                .mapTo(String.class).list());
    }

    private String status(UUID id) {
        return jdbi.withHandle(h -> h.createQuery("select status from job_queue where id = :id").bind("id", id)
                .mapTo(String.class).one());
    }

    private void execute(String sql) {
        jdbi.useHandle(handle -> {
            try (Statement st = handle.getConnection().createStatement()) {
                st.execute(sql);
            } catch (SQLException e) {
                throw new UncheckedSQLException(sql, e);
            }
        });
    }

    /** The error message of {@code sql} (rolled back), or null if it succeeded (also rolled back). */
    private String tryExecute(String sql) {
        return jdbi.inTransaction(handle -> {
            try (Statement st = handle.getConnection().createStatement()) {
                st.execute(sql);
                return null;
            } catch (SQLException e) {
                return e.getMessage();
            } finally {
                handle.rollback();
            }
        });
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = SeedStatusCheckAdoptionTest.class.getResourceAsStream(name)) {
            assertThat(in).as(name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
