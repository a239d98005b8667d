package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import dev.pgqueue.JobStatus;
import dev.pgqueue.StoreException;
import dev.pgqueue.spi.JobStore.CancelParams;
import dev.pgqueue.spi.JobStore.CancelResult;
import dev.pgqueue.spi.JobStore.ClaimParams;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.PruneParams;
import dev.pgqueue.spi.JobStore.RescueParams;
import dev.pgqueue.spi.JobStore.RescuedJob;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import dev.pgqueue.testing.postgres.UncheckedSQLException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A database that already has the seed's job_queue, with rows in every status and the seed's helper
 * functions, is adopted by the migration: nothing of it changes, and pgqueue runs its jobs. Each test
 * starts from a fresh copy of the seed (test resource seed/seed_job_queue.sql) in a schema of its own.
 */
@PostgresTest
class SeedAdoptionTest {

    /** The seed's columns, with payload as text so that rows compare by value. */
    private static final String SEED_COLUMNS = "id, job_type, payload::text as payload, status, retry_count,"
            + " max_retries, error_message, user_id, created_at, processed_at, completed_at";
    private static final Set<String> SEED_TYPES = Set.of("generate-image", "generate-complete-pack");

    private static final UUID PENDING_1 = seedId(1);
    private static final UUID PENDING_RETRIED = seedId(2);
    private static final UUID PENDING_3 = seedId(3);
    private static final UUID PROCESSING = seedId(4);
    private static final UUID COMPLETED_5 = seedId(5);
    private static final UUID COMPLETED_6 = seedId(6);
    private static final UUID FAILED = seedId(7);
    private static final Instant PROCESSING_STARTED = Instant.parse("2025-01-10T08:00:10Z");

    private final TestDatabase db;
    private String schema;
    private HikariDataSource dataSource;
    private Jdbi jdbi;

    SeedAdoptionTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void createTheSeedsTable() throws Exception {
        schema = db.schema() + "_seed";
        db.execute("create schema " + schema);
        dataSource = db.server().newDataSource(schema, "seed-adoption", 2);
        jdbi = Jdbi.create(dataSource);
        execute(resource("/seed/seed_job_queue.sql"));
        assertThat(snapshot()).hasSize(7);
    }

    @AfterEach
    void dropTheSeedsSchema() {
        dataSource.close();
        db.execute("drop schema if exists " + schema + " cascade");
    }

    private JdbiJobStore adopt() {
        return JdbiJobStore.builder(jdbi).schema(schema).build();
    }

    @Test
    void migrate_keepsEverySeedValueOfEveryRow() {
        List<Map<String, Object>> before = snapshot();

        List<Integer> applied = SchemaMigrator.of(jdbi, schema).migrate();

        assertThat(applied).hasSameSizeAs(SchemaMigrator.MIGRATIONS);
        assertThat(snapshot()).isEqualTo(before);
        assertThat(query("select count(*) as n from information_schema.columns where table_schema = ?"
                + " and table_name = 'job_queue'", schema)).as("the seed's 11 columns, V1's 8, V2's 7, V3's 4, V6's 1 and V8's 1")
                .containsExactly(Map.of("n", 32L));
    }

    @Test
    void migrate_twiceOnAnAdoptedTableChangesNothing() {
        SchemaMigrator migrator = SchemaMigrator.of(jdbi, schema);
        migrator.migrate();
        List<Map<String, Object>> adopted = query("select * from job_queue order by id");

        assertThat(migrator.migrate()).isEmpty();

        assertThat(query("select * from job_queue order by id")).isEqualTo(adopted);
    }

    @Test
    void adoptedPendingRows_areClaimedByTheStore() {
        JdbiJobStore store = adopt();

        List<ClaimedJob> claimed = store.jobClaim(new ClaimParams("default", SEED_TYPES, 100, "pgqueue-worker",
                UUID.randomUUID(), Duration.ofSeconds(30), null));

        assertThat(claimed).extracting(ClaimedJob::id).containsExactlyInAnyOrder(PENDING_1, PENDING_RETRIED, PENDING_3);
        ClaimedJob retried = claimed.stream().filter(job -> job.id().equals(PENDING_RETRIED)).findFirst().orElseThrow();
        assertThat(retried.type()).isEqualTo("generate-complete-pack");
        assertThat(retried.payloadJson()).isEqualTo("{\"imageIds\": [\"img-1\", \"img-2\"], \"projectId\": \"p-1\"}");
        assertThat(retried.attempt()).isEqualTo(1);
        assertThat(retried.retryCount()).isEqualTo(1);
        assertThat(retried.maxRetries()).isEqualTo(3);
        assertThat(retried.userId()).isEqualTo(UUID.fromString("6a0e6c9e-1b1e-4f57-8d55-0000000000aa"));
        assertThat(retried.createdAt()).isEqualTo(Instant.parse("2025-01-10T09:01:00Z"));
        assertThat(query("select status from job_queue where id = ?", PROCESSING))
                .as("the seed's running job is not claimed again").containsExactly(Map.of("status", "processing"));
    }

    @Test
    void adoptedProcessingRow_getsALeaseAndIsRescuedOnceItExpires() {
        JdbiJobStore store = adopt();
        Instant expiry = PROCESSING_STARTED.plus(Duration.ofMinutes(15));

        Map<String, Object> row = query("select lease_owner, lease_expires_at from job_queue where id = ?", PROCESSING).get(0);
        assertThat(row.get("lease_owner")).isEqualTo("adopted-from-seed");
        assertThat(((Timestamp) row.get("lease_expires_at")).toInstant()).isEqualTo(expiry);

        assertThat(store.jobRescue(new RescueParams(10, expiry.minusSeconds(1)))).isEmpty();
        List<RescuedJob> rescued = store.jobRescue(new RescueParams(10, expiry.plusSeconds(1)));

        assertThat(rescued).containsExactly(
                new RescuedJob(PROCESSING, "generate-image", "default", JobStatus.PENDING, "adopted-from-seed", 0));
        assertThat(query("select status, retry_count from job_queue where id = ?", PROCESSING))
                .containsExactly(Map.of("status", "pending", "retry_count", 1));
    }

    @Test
    void statusCheck_allowsCancelledAfterAdoption() {
        assertThatThrownBy(() -> execute("update job_queue set status = 'cancelled' where id = '" + PENDING_1 + "'"))
                .hasMessageContaining("job_queue_status_check");
        JdbiJobStore store = adopt();

        assertThat(store.jobCancel(new CancelParams(PENDING_1, null))).isEqualTo(CancelResult.CANCELLED);

        assertThat(query("select status from job_queue where id = ?", PENDING_1))
                .containsExactly(Map.of("status", "cancelled"));
        assertThat(query("select pg_get_constraintdef(oid) as def from pg_constraint"
                + " where conrelid = 'job_queue'::regclass and conname = 'job_queue_status_check'"))
                .singleElement().satisfies(c -> assertThat((String) c.get("def")).contains("'cancelled'"));
        assertThatThrownBy(() -> execute("update job_queue set status = 'done' where id = '" + PENDING_3 + "'"))
                .hasMessageContaining("job_queue_status_check");
    }

    @Test
    void seedInsert_afterAdoptionIsClaimedByTheStore() {
        JdbiJobStore store = adopt();
        UUID user = UUID.randomUUID();

        UUID id = (UUID) query("INSERT INTO job_queue (job_type, payload, user_id)"
                + " VALUES ('generate-image', '{\"imageId\": \"new\"}', ?) RETURNING id", user).get(0).get("id");

        List<ClaimedJob> claimed = store.jobClaim(new ClaimParams("default", Set.of("generate-image"), 100, "w",
                UUID.randomUUID(), Duration.ofSeconds(30), null));
        assertThat(claimed).extracting(ClaimedJob::id).contains(id);
    }

    @Test
    void seedHelperFunctions_keepWorkingAfterAdoption() {
        JdbiJobStore store = adopt();

        List<Map<String, Object>> taken =
                query("select id, status, lease_owner, lease_expires_at, processed_at from get_next_job()");

        assertThat(taken).singleElement().satisfies(job -> {
            assertThat(job.get("id")).isEqualTo(PENDING_1);
            assertThat(job.get("status")).isEqualTo("processing");
            assertThat(job.get("lease_owner")).isEqualTo("outside-pgqueue");
        });
        Instant started = ((Timestamp) taken.get(0).get("processed_at")).toInstant();
        Instant expiry = ((Timestamp) taken.get(0).get("lease_expires_at")).toInstant();
        assertThat(expiry).as("a lease, so that pgqueue rescues the job if the seed's processor dies")
                .isEqualTo(started.plus(Duration.ofMinutes(15)));
        assertThat(store.jobRescue(new RescueParams(10, expiry.minusSeconds(1)))).extracting(RescuedJob::id)
                .as("only the adopted job, whose lease ran out long ago").containsExactly(PROCESSING);
        assertThat(store.jobRescue(new RescueParams(10, expiry.plusSeconds(1)))).extracting(RescuedJob::id)
                .containsExactly(PENDING_1);

        // The seed's claim takes the oldest pending job: the adopted one that was just rescued.
        assertThat(query("select id from get_next_job()")).extracting(r -> r.get("id")).containsExactly(PROCESSING);
        execute("select finish_job('" + PROCESSING + "')");
        assertThat(query("select status, retry_count from job_queue where id = ?", PROCESSING))
                .containsExactly(Map.of("status", "completed", "retry_count", 1));
    }

    @Test
    void adoptedFinishedRows_arePrunedLikeAnyOther() {
        JdbiJobStore store = adopt();

        int deleted = store.jobPrune(new PruneParams(EnumSet.of(JobStatus.COMPLETED, JobStatus.FAILED),
                Duration.ofDays(1), 100, Instant.parse("2025-01-20T00:00:00Z")));

        assertThat(deleted).isEqualTo(3);
        assertThat(query("select id from job_queue")).extracting(r -> r.get("id"))
                .containsExactlyInAnyOrder(PENDING_1, PENDING_RETRIED, PENDING_3, PROCESSING)
                .doesNotContain(COMPLETED_5, COMPLETED_6, FAILED);
    }

    @Test
    void migrate_rollsBackWhollyWhenASeedRowCannotBeAdopted() {
        execute("insert into job_queue (job_type) values ('generate-image')");
        List<Map<String, Object>> before = snapshot();

        assertThatThrownBy(() -> SchemaMigrator.of(jdbi, schema).migrate())
                .isInstanceOf(StoreException.class)
                .hasMessageContaining("could not migrate schema " + schema)
                .hasMessageContaining("\"payload\"")
                .hasMessageContaining("null values");

        assertThat(snapshot()).isEqualTo(before);
        assertThat(SchemaMigrator.of(jdbi, schema).currentVersion()).isZero();
        assertThat(query("select count(*) as n from information_schema.columns where table_schema = ?"
                + " and table_name = 'job_queue'", schema)).containsExactly(Map.of("n", 11L));
    }

    // ---------------------------------------------------------------------------------------------

    private List<Map<String, Object>> snapshot() {
        return query("select " + SEED_COLUMNS + " from job_queue order by id");
    }

    private List<Map<String, Object>> query(String sql, Object... params) {
        return jdbi.withHandle(handle -> {
            var query = handle.createQuery(sql);
            for (int i = 0; i < params.length; i++) {
                query.bind(i, params[i]);
            }
            return query.mapToMap().list();
        });
    }

    /** Runs SQL as psql would: on a plain connection whose search_path is the seed's schema. */
    private void execute(String sql) {
        jdbi.useHandle(handle -> {
            Connection connection = handle.getConnection();
            try (Statement st = connection.createStatement()) {
                st.execute(sql);
            } catch (SQLException e) {
                throw new UncheckedSQLException(sql, e);
            }
        });
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = SeedAdoptionTest.class.getResourceAsStream(name)) {
            assertThat(in).as(name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static UUID seedId(int n) {
        return UUID.fromString(String.format("0f7c1a52-3d4e-4b6a-9c1d-%012d", n));
    }
}
