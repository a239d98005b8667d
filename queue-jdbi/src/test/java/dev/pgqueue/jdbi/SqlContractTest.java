package dev.pgqueue.jdbi;

import static dev.pgqueue.jdbi.JobRows.instant;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.groups.Tuple.tuple;

import dev.pgqueue.JobStatus;
import dev.pgqueue.spi.JobStore.ClaimParams;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.Finish;
import dev.pgqueue.spi.JobStore.FinishKind;
import dev.pgqueue.spi.JobStore.FinishParams;
import dev.pgqueue.spi.JobStore.FinishedJob;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import dev.pgqueue.testing.postgres.UncheckedSQLException;
import java.sql.Connection;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * The public SQL contract: what producers that are not Java (the seed's tRPC router, an Edge
 * Function, psql) do with job_queue, run on the connection's search_path as they would.
 */
@PostgresTest
class SqlContractTest {

    private static final Set<String> SEED_TYPES = Set.of("generate-image", "generate-complete-pack");

    private final TestDatabase db;
    private final JdbiJobStore store;
    private final JobRows rows;

    SqlContractTest(TestDatabase db) {
        this.db = db;
        this.store = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
        this.rows = new JobRows(db);
    }

    @BeforeEach
    void emptyTable() {
        rows.deleteAll();
    }

    private List<ClaimedJob> claim(String queue) {
        return store.jobClaim(new ClaimParams(queue, SEED_TYPES, 10, "sql-worker", UUID.randomUUID(),
                Duration.ofSeconds(30), null));
    }

    private UUID uuid(String sql, Object... params) {
        return (UUID) db.queryForList(sql, params).get(0).values().iterator().next();
    }

    @Nested
    class SeedInsert {

        @Test
        void seedInsert_makesAJobTheStoreClaims() {
            UUID user = UUID.randomUUID();

            UUID id = uuid("INSERT INTO job_queue (job_type, payload, user_id)"
                    + " VALUES ('generate-image', '{\"imageId\": \"abc\", \"projectId\": \"p1\"}', ?) RETURNING id", user);

            List<ClaimedJob> claimed = claim("default");
            assertThat(claimed).singleElement().satisfies(job -> {
                assertThat(job.id()).isEqualTo(id);
                assertThat(job.type()).isEqualTo("generate-image");
                assertThat(job.payloadJson()).isEqualTo("{\"imageId\": \"abc\", \"projectId\": \"p1\"}");
                assertThat(job.userId()).isEqualTo(user);
                assertThat(job.attempt()).isEqualTo(1);
                assertThat(job.retryCount()).isZero();
                assertThat(job.maxRetries()).isEqualTo(3);
                assertThat(job.priority()).isZero();
            });
            assertThat(rows.row(id)).containsEntry("status", "processing").containsEntry("lease_owner", "sql-worker");

            List<FinishedJob> finished = store.jobFinishMany(new FinishParams(
                    List.of(new Finish(id, claimed.get(0).leaseToken(), FinishKind.COMPLETE, null, null)), null));
            assertThat(finished).extracting(FinishedJob::status).containsExactly(JobStatus.COMPLETED);
            assertThat(rows.row(id)).containsEntry("status", "completed");
        }

        @Test
        void seedInsert_getsATimeOrderedVersion7Id() {
            List<UUID> ids = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                ids.add(uuid("INSERT INTO job_queue (job_type, payload) VALUES ('generate-image', '{}') RETURNING id"));
            }
            Instant now = ((Timestamp) db.queryForList("select now() as now").get(0).get("now")).toInstant();

            assertThat(ids).allSatisfy(id -> {
                assertThat(id.version()).isEqualTo(7);
                assertThat(id.variant()).isEqualTo(2);
                // The first 48 bits are the Unix time in milliseconds.
                long millis = id.getMostSignificantBits() >>> 16;
                assertThat(Instant.ofEpochMilli(millis)).isBetween(now.minusSeconds(60), now.plusSeconds(60));
            });
        }

        @Test
        void seedInsert_withAnUnknownStatusIsRejectedByTheStatusCheck() {
            assertThatThrownBy(() -> db.execute(
                    "INSERT INTO job_queue (job_type, payload, status) VALUES ('generate-image', '{}', 'done')"))
                    .isInstanceOf(UncheckedSQLException.class)
                    .hasMessageContaining("job_queue_status_check");
            assertThat(rows.count()).isZero();
        }

        @Test
        void seedInsert_withAnIllegalJobTypeIsRejectedByTheJobTypeCheck() {
            assertThatThrownBy(() -> db.execute(
                    "INSERT INTO job_queue (job_type, payload) VALUES ('generate image', '{}')"))
                    .hasMessageContaining("job_queue_job_type_check");
            assertThat(rows.count()).isZero();
        }
    }

    @Nested
    class EnqueueFunction {

        @Test
        void enqueueFunction_makesAJobTheStoreClaims() {
            UUID user = UUID.randomUUID();

            UUID id = uuid("SELECT job_queue_enqueue('generate-complete-pack', '{\"projectId\": \"p1\"}',"
                    + " queue => 'packs', priority => -3, max_retries => 5, user_id => ?)", user);

            Map<String, Object> row = rows.row(id);
            assertThat(row).containsEntry("job_type", "generate-complete-pack").containsEntry("queue", "packs")
                    .containsEntry("priority", -3).containsEntry("max_retries", 5).containsEntry("user_id", user)
                    .containsEntry("status", "pending").containsEntry("attempt", 0).containsEntry("retry_count", 0);
            assertThat(id.version()).isEqualTo(7);
            assertThat(claim("packs")).extracting(ClaimedJob::id, ClaimedJob::payloadJson)
                    .containsExactly(tuple(id, "{\"projectId\": \"p1\"}"));
        }

        @Test
        void enqueueFunction_takesDefaultsForNullArguments() {
            UUID id = uuid("SELECT job_queue_enqueue('generate-image', NULL, NULL, NULL, NULL, NULL, NULL)");

            Map<String, Object> row = rows.row(id);
            assertThat(row).containsEntry("queue", "default").containsEntry("priority", 0)
                    .containsEntry("max_retries", 3).containsEntry("user_id", null);
            assertThat(row.get("payload")).hasToString("{}");
            assertThat(instant(row, "run_at")).isEqualTo(instant(row, "created_at"));
        }

        @Test
        void enqueueFunction_withRunAtIsNotClaimedBeforeThen() {
            UUID id = uuid("SELECT job_queue_enqueue('generate-image', run_at => now() + interval '1 hour')");

            assertThat(claim("default")).isEmpty();
            assertThat(store.jobClaim(new ClaimParams("default", SEED_TYPES, 10, "w", UUID.randomUUID(),
                    Duration.ofSeconds(30), instant(rows.row(id), "run_at")))).extracting(ClaimedJob::id).containsExactly(id);
        }

        @Test
        void enqueueFunction_rejectsAnIllegalJobType() {
            assertRejected("SELECT job_queue_enqueue('generate image; drop table job_queue')",
                    "expected job_type to be 1-128 characters of letters, digits and _ . : / -, starting with a letter"
                            + " or digit, got: 'generate image; drop table job_queue'");
            assertRejected("SELECT job_queue_enqueue(NULL)", "expected job_type to be", "got: null");
            assertRejected("SELECT job_queue_enqueue('')", "expected job_type to be", "got: ''");
        }

        @Test
        void enqueueFunction_rejectsAnIllegalQueue() {
            assertRejected("SELECT job_queue_enqueue('generate-image', queue => 'my queue')",
                    "expected queue to be 1-63 characters of letters, digits, _ and -, starting with a letter or _,"
                            + " got: 'my queue'");
            assertRejected("SELECT job_queue_enqueue('generate-image', queue => 'x''; drop table job_queue; --')",
                    "expected queue to be", "got: 'x''; drop table job_queue; --'");
        }

        @Test
        void enqueueFunction_rejectsNegativeMaxRetries() {
            assertRejected("SELECT job_queue_enqueue('generate-image', max_retries => -1)",
                    "expected max_retries to be >= 0, got: -1");
        }

        private void assertRejected(String sql, String... messageParts) {
            long before = rows.count();

            assertThatThrownBy(() -> db.queryForList(sql))
                    .isInstanceOf(UncheckedSQLException.class)
                    .hasMessageContainingAll(messageParts)
                    .satisfies(e -> assertThat(((UncheckedSQLException) e).getCause().getSQLState()).isEqualTo("23514"));

            assertThat(rows.count()).isEqualTo(before);
        }
    }

    @Nested
    class OutsideProcessors {

        @Test
        void processingSetBySql_getsAFreshLeaseThatFencesOutEarlierWorkers() {
            UUID id = uuid("INSERT INTO job_queue (job_type, payload) VALUES ('generate-image', '{}') RETURNING id");
            UUID oldToken = claim("default").get(0).leaseToken();
            Instant oldExpiry = instant(rows.row(id), "lease_expires_at");
            // The job went back to pending (its worker's lease expired and it was rescued) ...
            db.execute("UPDATE job_queue SET status = 'pending' WHERE id = ?", id);

            // ... and a processor outside pgqueue took it, as the seed's get_next_job() does.
            db.execute("UPDATE job_queue SET status = 'processing', processed_at = now() WHERE id = ?", id);

            Map<String, Object> row = rows.row(id);
            assertThat(row).containsEntry("lease_owner", "outside-pgqueue").containsEntry("lease_token", null);
            assertThat(instant(row, "lease_expires_at")).isAfter(oldExpiry)
                    .isEqualTo(instant(row, "processed_at").plus(Duration.ofMinutes(15)));
            assertThat(store.jobFinishMany(new FinishParams(
                    List.of(new Finish(id, oldToken, FinishKind.COMPLETE, null, null)), null))).isEmpty();
            assertThat(rows.row(id)).isEqualTo(row);
        }

        @Test
        void processingInsertedBySql_getsALease() {
            UUID id = uuid("INSERT INTO job_queue (job_type, status) VALUES ('generate-image', 'processing') RETURNING id");

            Map<String, Object> row = rows.row(id);
            assertThat(row).containsEntry("lease_owner", "outside-pgqueue");
            assertThat(instant(row, "lease_expires_at")).isEqualTo(instant(row, "created_at").plus(Duration.ofMinutes(15)));
        }

        @Test
        void claimByPgqueue_keepsItsOwnLease() {
            UUID id = uuid("INSERT INTO job_queue (job_type) VALUES ('generate-image') RETURNING id");
            UUID token = UUID.randomUUID();
            Instant now = Instant.parse("2031-01-01T00:00:00Z");
            ClaimParams params = new ClaimParams("default", SEED_TYPES, 10, "sql-worker", token, Duration.ofSeconds(30), now);
            store.jobClaim(params);
            store.jobFinishMany(new FinishParams(List.of(new Finish(id, token, FinishKind.RELEASE, null, null)), now));

            // Claimed again with the same token (the SPI allows it), a second later.
            ClaimedJob claimed = store.jobClaim(new ClaimParams("default", SEED_TYPES, 10, "sql-worker", token,
                    Duration.ofSeconds(30), now.plusSeconds(1))).get(0);

            assertThat(rows.row(id)).containsEntry("lease_owner", "sql-worker").containsEntry("lease_token", token);
            assertThat(instant(rows.row(id), "lease_expires_at")).isEqualTo(claimed.leaseExpiresAt())
                    .isEqualTo(now.plusSeconds(31));
        }
    }

    @Nested
    class Notify {

        @Test
        void insert_notifiesTheSchemasChannelWithTheQueueAtCommitOnly() throws Exception {
            String channel = (String) db.queryForList("select job_queue_channel() as channel").get(0).get("channel");
            assertThat(channel).isEqualTo("job_queue_" + db.schema());

            try (Connection listener = db.dataSource().getConnection();
                    Connection producer = db.dataSource().getConnection()) {
                try (Statement st = listener.createStatement()) {
                    st.execute("LISTEN \"" + channel + "\"");
                }
                producer.setAutoCommit(false);
                try (Statement st = producer.createStatement()) {
                    st.execute("SELECT job_queue_enqueue('generate-image', queue => 'rolled_back')");
                    producer.rollback();
                    st.execute("INSERT INTO job_queue (job_type, queue) VALUES ('generate-image', 'images'),"
                            + " ('generate-image', 'images'), ('generate-complete-pack', 'packs')");
                    producer.commit();
                }
                producer.setAutoCommit(true);

                List<String> payloads = new ArrayList<>();
                PGConnection pg = listener.unwrap(PGConnection.class);
                while (payloads.size() < 2) {
                    PGNotification[] received = pg.getNotifications(10_000);
                    assertThat(received).as("notifications within 10 s").isNotNull();
                    for (PGNotification n : received) {
                        assertThat(n.getName()).isEqualTo(channel);
                        payloads.add(n.getParameter());
                    }
                }
                try (Statement st = listener.createStatement()) {
                    st.execute("UNLISTEN *");
                }

                assertThat(payloads).containsExactlyInAnyOrder("images", "packs");
            }
        }
    }

    /** Workflows and fairness from SQL: job_queue_enqueue_after() and the partition_key column. */
    @Nested
    class Workflows {

        @Test
        void enqueueAfter_makesAJobThatWaits_untilItsDependenciesComplete_thenTheStoreClaimsIt() {
            UUID a = uuid("SELECT job_queue_enqueue('generate-image', '{}')");
            UUID b = uuid("SELECT job_queue_enqueue('generate-image', '{}', queue => 'other')");
            UUID pack = uuid("SELECT job_queue_enqueue_after(ARRAY[?, ?]::uuid[], 'generate-complete-pack', '{\"n\": 2}',"
                    + " queue => 'packs', priority => -1, max_retries => 5)", a, b);

            assertThat(rows.row(pack)).containsEntry("status", "waiting").containsEntry("waiting_for", 2)
                    .containsEntry("on_dependency_failure", "cancel").containsEntry("priority", -1)
                    .containsEntry("max_retries", 5);
            assertThat(db.queryForList("SELECT depends_on FROM job_queue_dependency WHERE job_id = ? ORDER BY depends_on", pack))
                    .hasSize(2);
            assertThat(claim("packs")).isEmpty();
            db.execute("UPDATE job_queue SET status = 'completed' WHERE id IN (?, ?)", a, b);
            assertThat(claim("packs")).extracting(ClaimedJob::id).containsExactly(pack);
        }

        @Test
        void enqueueAfter_onFinishedDependencies_followsItsPolicyAtOnce() {
            UUID done = uuid("SELECT job_queue_enqueue('generate-image')");
            UUID failed = uuid("SELECT job_queue_enqueue('generate-image')");
            db.execute("UPDATE job_queue SET status = 'completed' WHERE id = ?", done);
            db.execute("UPDATE job_queue SET status = 'failed' WHERE id = ?", failed);

            UUID pending = uuid("SELECT job_queue_enqueue_after(ARRAY[?]::uuid[], 'generate-image')", done);
            UUID cancelled = uuid("SELECT job_queue_enqueue_after(ARRAY[?, ?]::uuid[], 'generate-image')", done, failed);
            UUID runs = uuid("SELECT job_queue_enqueue_after(ARRAY[?]::uuid[], 'generate-image', on_dependency_failure => 'run')",
                    failed);

            assertThat(rows.row(pending)).containsEntry("status", "pending").containsEntry("waiting_for", 0);
            assertThat(rows.row(cancelled)).containsEntry("status", "cancelled")
                    .containsEntry("error_message", "cancelled: its dependency generate-image/" + failed + " failed");
            assertThat(rows.row(runs)).containsEntry("status", "pending");
        }

        @Test
        void enqueueAfter_rejectsAnUnknownPolicy() {
            UUID a = uuid("SELECT job_queue_enqueue('generate-image')");

            assertThatThrownBy(() -> db.queryForList(
                    "SELECT job_queue_enqueue_after(ARRAY[?]::uuid[], 'generate-image', on_dependency_failure => 'retry')", a))
                    .hasMessageContaining("expected on_dependency_failure to be cancel or run, got: 'retry'");
            assertThat(rows.count()).isEqualTo(1);
        }

        @Test
        void aPartitionKeyInsertedBySql_isTheTenantOfAFairQueue() {
            store.policyPutMany(new dev.pgqueue.spi.JobStore.PolicyParams(List.of(
                    new dev.pgqueue.spi.JobStore.QueuePolicy("fair", null, null, null, null, true))));
            for (int i = 0; i < 5; i++) {
                db.execute("INSERT INTO job_queue (job_type, queue, partition_key) VALUES ('generate-image', 'fair', 'big')");
            }
            UUID small = uuid("INSERT INTO job_queue (job_type, queue, partition_key)"
                    + " VALUES ('generate-image', 'fair', 'small') RETURNING id");

            List<ClaimedJob> claimed = store.jobClaim(new ClaimParams("fair", SEED_TYPES, 2, "w", UUID.randomUUID(),
                    Duration.ofSeconds(30), null));

            assertThat(claimed).extracting(ClaimedJob::id).contains(small);
        }
    }
}
