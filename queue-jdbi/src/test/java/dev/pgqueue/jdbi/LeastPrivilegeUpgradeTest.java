package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.Health;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobStatus;
import dev.pgqueue.JobType;
import dev.pgqueue.Worker;
import dev.pgqueue.spi.JobStore.RescueParams;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A deployment on the least-privilege roles that upgrades pgqueue without running {@code roles.sql}
 * again: the owner ran the migrations of an older pgqueue (V5) and then that version's {@code roles.sql}
 * ({@code released/roles-at-v5.sql}), and now
 * applies this pgqueue's migrations. Its producers and workers, which start with {@code migrate(false)}
 * under {@code pgqueue_producer} and {@code pgqueue_worker}, must keep working: a migration that adds
 * something they use grants it to them where the roles script was run.
 *
 * <p>The migrations name the roles literally, so this test creates group roles of exactly those names
 * (roles are cluster-wide): it runs only where the cluster has neither and drops them afterwards; on a
 * cluster that has them (a developer's own pgqueue deployment) it is skipped, saying so.
 */
@PostgresTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LeastPrivilegeUpgradeTest {

    record Work(int n) {}

    static final JobType<Work> WORK = JobType.of("work", Work.class);

    /** The version the deployment ran roles.sql on before upgrading. */
    private static final int OLDER_VERSION = 5;

    private final TestDatabase db;
    private final String suffix = UUID.randomUUID().toString().substring(0, 8).toLowerCase(Locale.ROOT);
    private final String owner = "pgq_up_owner_" + suffix;
    private final String producerLogin = "pgq_up_p_" + suffix;
    private final String workerLogin = "pgq_up_w_" + suffix;
    private final String schema = "pgq_up_" + suffix;
    private final RolePools roles;
    private boolean createdRoles;

    LeastPrivilegeUpgradeTest(TestDatabase db) {
        this.db = db;
        this.roles = new RolePools(db);
    }

    @BeforeAll
    void anOlderDeploymentOnTheRolesScript_upgraded() throws SQLException {
        long existing = db.queryForLong("SELECT count(*) FROM pg_catalog.pg_roles WHERE rolname IN ('pgqueue_producer', 'pgqueue_worker')");
        Assumptions.assumeTrue(existing == 0, "this cluster has its own pgqueue_producer or pgqueue_worker role;"
                + " the test creates and drops roles of those names, so it runs only on a cluster without them");
        db.execute("CREATE ROLE pgqueue_producer NOLOGIN");
        db.execute("CREATE ROLE pgqueue_worker NOLOGIN");
        createdRoles = true;
        for (String role : List.of(owner, producerLogin, workerLogin)) {
            db.execute("CREATE ROLE " + role + " NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE");
        }
        db.execute("GRANT pgqueue_producer TO " + producerLogin);
        db.execute("GRANT pgqueue_worker TO " + workerLogin);
        db.execute("CREATE SCHEMA " + schema + " AUTHORIZATION " + owner);

        Jdbi asOwner = roles.jdbi(owner);
        SchemaMigrator.of(asOwner, schema).migrateTo(OLDER_VERSION);
        asOwner.useHandle(h -> {
            try (Statement st = h.getConnection().createStatement()) {
                st.execute("SET search_path = " + schema);
                st.execute(SqlFiles.read("/released/roles-at-v5.sql"));
                st.execute("RESET search_path");
            }
        });
        SchemaMigrator.of(asOwner, schema).migrate();
    }

    @AfterAll
    void dropRoles() {
        roles.close();
        if (!createdRoles) {
            return;
        }
        db.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        for (String role : List.of(producerLogin, workerLogin, "pgqueue_producer", "pgqueue_worker", owner)) {
            db.execute("DROP OWNED BY " + role + " CASCADE");
            db.execute("DROP ROLE " + role);
        }
    }

    @Test
    void theProducerEnqueues_andTheWorkerRunsIt_registered_withoutRunningTheRolesScriptAgain() throws InterruptedException {
        JdbiJobStore producerStore = roles.store(producerLogin, schema);
        JdbiJobStore workerStore = roles.store(workerLogin, schema);
        UUID id = JdbiJobQueue.create(producerStore).enqueue(WORK, new Work(1));

        try (Worker worker = Worker.builder(workerStore).queue("default", 2)
                .handler(WORK, (job, context) -> JobOutcome.done()).build()) {
            worker.start();

            await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                    assertThat(db.queryForList("SELECT status FROM " + schema + ".job_queue WHERE id = ?", id))
                            .extracting(row -> row.get("status")).containsExactly(JobStatus.COMPLETED.sqlValue()));
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(JdbiJobAdmin.create(workerStore).workers()).hasSize(1));
            assertThat(worker.health().status()).isEqualTo(Health.Status.UP);
            // The rescue of expired leases reads the registry.
            assertThat(workerStore.jobRescue(new RescueParams(10, Instant.now()))).isEmpty();

            // The worker sees a pause: a job enqueued into the paused queue waits until it is resumed.
            JdbiJobAdmin ownerAdmin = JdbiJobAdmin.create(roles.store(owner, schema));
            ownerAdmin.pause("default");
            Thread.sleep(2_500); // workers stop claiming within about a second of a pause (docs/operations.md); more on a loaded machine
            UUID paused = JdbiJobQueue.create(producerStore).enqueue(WORK, new Work(2));
            await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(15)).untilAsserted(() ->
                    assertThat(status(paused)).isEqualTo(JobStatus.PENDING.sqlValue()));
            ownerAdmin.resume("default");
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                    assertThat(status(paused)).isEqualTo(JobStatus.COMPLETED.sqlValue()));
        }
    }

    private Object status(UUID id) {
        return db.queryForList("SELECT status FROM " + schema + ".job_queue WHERE id = ?", id).get(0).get("status");
    }

}
