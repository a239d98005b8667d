package dev.pgqueue.jdbi;

import static dev.pgqueue.jdbi.JobRows.instant;
import static dev.pgqueue.jdbi.Payloads.GENERATE_IMAGE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobQueue;
import dev.pgqueue.JobStatus;
import dev.pgqueue.JobType;
import dev.pgqueue.jdbi.Payloads.GenerateImage;
import dev.pgqueue.spi.JobStore.ClaimParams;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import dev.pgqueue.testing.TestClock;
import java.time.Instant;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

@PostgresTest
class JdbiJobQueueTest {

    private final TestDatabase db;
    private final Jdbi jdbi;
    private final JdbiJobStore store;
    private final JdbiJobQueue queue;
    private final JobRows rows;
    private final TestClock clock = TestClock.at(Instant.parse("2031-03-14T09:26:53.589793Z"));

    JdbiJobQueueTest(TestDatabase db) {
        this.db = db;
        this.jdbi = Jdbi.create(db.dataSource());
        this.store = JdbiJobStore.builder(jdbi).schema(db.schema()).build();
        this.queue = JdbiJobQueue.builder(store).clock(clock).build();
        this.rows = new JobRows(db);
    }

    @BeforeEach
    void emptyTables() {
        db.execute("create table if not exists projects (id uuid primary key, status text not null)");
        db.execute("delete from projects");
        rows.deleteAll();
    }

    private static GenerateImage image(int n) {
        return new GenerateImage("img-" + n, n);
    }

    private static final class Rollback extends RuntimeException {
        Rollback() {
            super("roll back");
        }
    }

    @Nested
    class EnqueueInHandle {

        @Test
        void enqueue_inARolledBackTransactionNeverExists() {
            AtomicReference<UUID> id = new AtomicReference<>();

            assertThatThrownBy(() -> jdbi.useTransaction(handle -> {
                id.set(queue.in(handle).enqueue(GENERATE_IMAGE, image(1)));
                assertThat(handle.createQuery("select count(*) from job_queue where id = :id").bind("id", id.get())
                        .mapTo(Long.class).one()).as("visible inside its own transaction").isEqualTo(1);
                throw new Rollback();
            })).isInstanceOf(Rollback.class);

            assertThat(id.get()).isNotNull();
            assertThat(rows.exists(id.get())).isFalse();
            assertThat(rows.count()).isZero();
        }

        @Test
        void enqueue_inACommittedTransactionExists() {
            UUID id = jdbi.inTransaction(handle -> queue.in(handle).enqueue(GENERATE_IMAGE, image(1),
                    EnqueueOptions.defaults().queue("images").priority(1)));

            assertThat(rows.row(id)).containsEntry("status", "pending").containsEntry("queue", "images")
                    .containsEntry("priority", 1);
            assertThat(instant(rows.row(id), "created_at")).isEqualTo(clock.instant());
        }

        @Test
        void enqueue_commitsOrRollsBackWithTheCallersOwnWrites() {
            UUID project = UUID.randomUUID();

            assertThatThrownBy(() -> jdbi.useTransaction(handle -> {
                handle.execute("insert into projects (id, status) values (?, 'PROCESSING')", project);
                queue.in(handle).enqueue(GENERATE_IMAGE, image(1));
                handle.execute("insert into projects (id, status) values (?, 'duplicate')", project);
            })).hasMessageContaining("projects_pkey");

            assertThat(rows.count()).isZero();
            assertThat(db.queryForLong("select count(*) from projects")).isZero();

            UUID id = jdbi.inTransaction(handle -> {
                handle.execute("insert into projects (id, status) values (?, 'PROCESSING')", project);
                return queue.in(handle).enqueue(GENERATE_IMAGE, image(2));
            });

            assertThat(rows.exists(id)).isTrue();
            assertThat(db.queryForLong("select count(*) from projects where id = ?", project)).isEqualTo(1);
        }

        @Test
        void enqueue_isInvisibleToWorkersUntilCommit() {
            try (Handle handle = jdbi.open()) {
                handle.begin();
                UUID id = queue.in(handle).enqueue(GENERATE_IMAGE, image(1));

                assertThat(rows.exists(id)).isFalse();
                assertThat(claimAll()).isEmpty();

                handle.commit();
                assertThat(claimAll()).containsExactly(id);
            }
        }

        @Test
        void enqueue_onAHandleWithoutTransactionCommitsAtOnce() {
            try (Handle handle = jdbi.open()) {
                UUID id = queue.in(handle).enqueue(GENERATE_IMAGE, image(1));

                assertThat(rows.exists(id)).isTrue();
            }
        }

        @Test
        void enqueueAll_inARolledBackTransactionInsertsNothing() {
            assertThatThrownBy(() -> jdbi.useTransaction(handle -> {
                assertThat(queue.in(handle).enqueueAll(GENERATE_IMAGE, List.of(image(1), image(2), image(3)),
                        EnqueueOptions.defaults())).hasSize(3);
                throw new Rollback();
            })).isInstanceOf(Rollback.class);

            assertThat(rows.count()).isZero();
        }

        @Test
        void enqueueAll_inACommittedTransactionInsertsEveryJob() {
            List<UUID> ids = jdbi.inTransaction(handle -> queue.in(handle).enqueueAll(GENERATE_IMAGE,
                    List.of(image(1), image(2), image(3)), EnqueueOptions.defaults().maxRetries(1)));

            assertThat(db.queryForList("select id from job_queue where max_retries = 1 order by id"))
                    .extracting(r -> r.get("id")).containsExactlyElementsOf(ids);
        }
    }

    @Nested
    class EnqueueInConnection {

        @Test
        void enqueue_inARolledBackTransactionNeverExists() throws Exception {
            UUID id;
            try (Connection connection = db.dataSource().getConnection()) {
                connection.setAutoCommit(false);
                id = queue.in(connection).enqueue(GENERATE_IMAGE, image(1));
                try (PreparedStatement ps = connection.prepareStatement("select 1 from job_queue where id = ?")) {
                    ps.setObject(1, id);
                    assertThat(ps.executeQuery().next()).as("visible inside its own transaction").isTrue();
                }
                connection.rollback();
                connection.setAutoCommit(true);
            }

            assertThat(rows.exists(id)).isFalse();
            assertThat(rows.count()).isZero();
        }

        @Test
        void enqueue_inACommittedTransactionExists() throws Exception {
            UUID id;
            try (Connection connection = db.dataSource().getConnection()) {
                connection.setAutoCommit(false);
                id = queue.in(connection).enqueue(GENERATE_IMAGE, image(1), EnqueueOptions.defaults().priority(9));
                assertThat(rows.exists(id)).as("not visible before commit").isFalse();
                connection.commit();
                connection.setAutoCommit(true);
            }

            assertThat(rows.row(id)).containsEntry("priority", 9).containsEntry("status", "pending");
        }

        @Test
        void enqueueAll_inARolledBackTransactionInsertsNothing() throws Exception {
            try (Connection connection = db.dataSource().getConnection()) {
                connection.setAutoCommit(false);
                assertThat(queue.in(connection).enqueueAll(GENERATE_IMAGE, List.of(image(1), image(2)),
                        EnqueueOptions.defaults())).hasSize(2);
                connection.rollback();
                connection.setAutoCommit(true);
            }

            assertThat(rows.count()).isZero();
        }

        @Test
        void enqueue_onAnAutoCommitConnectionCommitsAtOnce() throws Exception {
            try (Connection connection = db.dataSource().getConnection()) {
                UUID id = queue.in(connection).enqueue(GENERATE_IMAGE, image(1));

                assertThat(rows.exists(id)).isTrue();
            }
        }
    }

    @Nested
    class Producer {

        @Test
        void cancel_cancelsAPendingJob() {
            UUID id = queue.enqueue(GENERATE_IMAGE, image(1));

            assertThat(queue.cancel(id)).isTrue();

            assertThat(rows.row(id)).containsEntry("status", "cancelled");
            assertThat(queue.find(id)).hasValueSatisfying(job -> assertThat(job.status()).isEqualTo(JobStatus.CANCELLED));
        }

        @Test
        void cancel_ofAnUnknownJobIsFalse() {
            assertThat(queue.cancel(UUID.randomUUID())).isFalse();
        }

        @Test
        void find_ofAnUnknownJobIsEmpty() {
            assertThat(queue.find(UUID.randomUUID())).isEmpty();
        }

        @Test
        void boundView_keepsTheQueuesClock() {
            UUID id = jdbi.inTransaction(handle -> queue.in(handle)
                    .enqueue(GENERATE_IMAGE, image(4), EnqueueOptions.defaults().delay(Duration.ofSeconds(5))));

            assertThat(instant(rows.row(id), "run_at")).isEqualTo(clock.instant().plusSeconds(5));
        }
    }

    @Nested
    class MaxRetries {

        private final JobType<GenerateImage> patient = JobType.of("generate-image", GenerateImage.class).withMaxRetries(7);

        @Test
        void aJobGetsItsTypesMaxRetries() {
            UUID id = queue.enqueue(patient, image(1));

            assertThat(rows.row(id)).containsEntry("max_retries", 7);
        }

        @Test
        void theEnqueueOptionOverridesTheTypes() {
            UUID id = queue.enqueue(patient, image(1), EnqueueOptions.defaults().maxRetries(1));
            List<UUID> all = queue.enqueueAll(patient, List.of(image(2)), EnqueueOptions.defaults().maxRetries(0));

            assertThat(rows.row(id)).containsEntry("max_retries", 1);
            assertThat(rows.row(all.get(0))).containsEntry("max_retries", 0);
        }

        @Test
        void aTypeWithoutOneGetsTheDefault() {
            UUID id = queue.enqueue(GENERATE_IMAGE, image(1));
            UUID batched = queue.enqueueBatch(patient, List.of(image(2)), EnqueueOptions.defaults(),
                    GENERATE_IMAGE, image(3), EnqueueOptions.defaults()).jobIds().get(0);

            assertThat(rows.row(id)).containsEntry("max_retries", EnqueueOptions.DEFAULT_MAX_RETRIES);
            assertThat(rows.row(batched)).containsEntry("max_retries", 7);
        }
    }

    private List<UUID> claimAll() {
        return store.jobClaim(new ClaimParams(EnqueueOptions.DEFAULT_QUEUE, Set.of(GENERATE_IMAGE.name()), 100, "w",
                        UUID.randomUUID(), Duration.ofSeconds(30), clock.instant()))
                .stream().map(c -> c.id()).toList();
    }
}
