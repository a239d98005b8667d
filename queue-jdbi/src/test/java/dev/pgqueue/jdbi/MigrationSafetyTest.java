package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.StoreException;
import dev.pgqueue.Worker;
import dev.pgqueue.spi.JobStore.ClaimParams;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Migrations against a live queue: they give up after their lock timeout instead of hanging behind
 * (and stalling every claim behind) a busy table, and a worker of the previous version keeps working
 * while the next version's migration is applied under it.
 */
@PostgresTest
class MigrationSafetyTest {

    record Step(int n) {}

    static final JobType<Step> STEP = JobType.of("step", Step.class);

    private final TestDatabase db;
    private final Jdbi jdbi;
    private final String schema;

    MigrationSafetyTest(TestDatabase db) {
        this.db = db;
        this.jdbi = Jdbi.create(db.dataSource());
        this.schema = db.schema() + "_m";
    }

    @AfterEach
    void dropSchema() {
        db.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    }

    private long history() {
        return db.queryForLong("SELECT count(*) FROM " + schema + ".pgqueue_schema_history");
    }

    @Test
    void migrationBehindABusyTable_givesUpAfterItsLockTimeout_rollsBackWhole_andHoldsUpClaimsNoLonger() throws Exception {
        JdbiJobStore store = JdbiJobStore.builder(jdbi).schema(schema).build();
        db.execute("DELETE FROM " + schema + ".pgqueue_schema_history"); // so that V1 runs again, with its ALTER TABLEs
        SchemaMigrator migrator = SchemaMigrator.of(jdbi, schema).lockTimeout(Duration.ofMillis(500));

        try (Connection busy = db.dataSource().getConnection(); Statement st = busy.createStatement()) {
            busy.setAutoCommit(false);
            st.execute("UPDATE " + schema + ".job_queue SET priority = priority WHERE false"); // a transaction on the table
            long started = System.nanoTime();
            CompletableFuture<List<Integer>> migration = CompletableFuture.supplyAsync(migrator::migrate);
            LockWaits.awaitBlockedBy(db, busy);
            // A claim arriving now queues behind the migration's lock request, so only as long as it waits.
            long claimStarted = System.nanoTime();
            CompletableFuture<Integer> claim = CompletableFuture.supplyAsync(() -> store.jobClaim(new ClaimParams(
                    "default", Set.of("step"), 10, "claimer", UUID.randomUUID(), Duration.ofSeconds(30), null)).size());

            assertThatThrownBy(() -> migration.get(10, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(StoreException.class)
                    .hasMessageContaining("could not migrate schema " + schema)
                    .hasMessageContaining("lock timeout");
            // Both wait for the lock timeout (0.5 s), not for the busy transaction, which stays open until
            // after these bounds; the bounds leave a loaded CI machine seconds of room.
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(8));
            assertThat(claim.get(10, TimeUnit.SECONDS)).isZero();
            assertThat(Duration.ofNanos(System.nanoTime() - claimStarted)).isLessThan(Duration.ofSeconds(8));
            busy.rollback();
        }
        assertThat(history()).as("nothing of the failed migration was kept").isZero();
        assertThat(migrator.migrate()).as("applies once the table is free")
                .containsExactlyElementsOf(SchemaMigrator.MIGRATIONS.stream().map(SchemaMigrator::version).toList());
    }
}
