package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.internal.UuidV7;
import dev.pgqueue.spi.JobStore.ClaimParams;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.InsertParams;
import dev.pgqueue.spi.JobStore.NewJob;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A worker's start calls {@link JdbiJobStore#warmUp}: it runs outcome statements for ids no job has, so it changes nothing. */
@PostgresTest
class WarmUpTest {

    private static final String TYPE = "t";

    private final TestDatabase db;
    private final JdbiJobStore store;
    private final JobRows rows;

    WarmUpTest(TestDatabase db) {
        this.db = db;
        this.store = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
        this.rows = new JobRows(db);
    }

    @BeforeEach
    void emptyTable() {
        rows.deleteAll();
    }

    @Test
    void warmUp_leavesPendingAndRunningJobsAsTheyWere() {
        store.jobInsertMany(new InsertParams(List.of(
                NewJob.builder(UuidV7.next(), TYPE, "{\"n\": 1}").build(),
                NewJob.builder(UuidV7.next(), TYPE, "{\"n\": 2}").build()), null));
        List<ClaimedJob> claimed = store.jobClaim(new ClaimParams(EnqueueOptions.DEFAULT_QUEUE, Set.of(TYPE), 1, "w",
                UUID.randomUUID(), Duration.ofMinutes(1), null));
        assertThat(claimed).hasSize(1);
        var before = rows.all();

        store.warmUp(Set.of(TYPE));

        assertThat(rows.all()).isEqualTo(before);
        assertThat(rows.count("pending")).isEqualTo(1);
        assertThat(rows.count("processing")).isEqualTo(1);
    }

    @Test
    void warmUp_whenTheDatabaseFails_doesNotThrow() {
        JdbiJobStore broken = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
        db.execute("ALTER TABLE " + db.schema() + ".job_queue RENAME TO job_queue_away");
        try {
            assertThatCode(() -> broken.warmUp(Set.of(TYPE))).doesNotThrowAnyException();
        } finally {
            db.execute("ALTER TABLE " + db.schema() + ".job_queue_away RENAME TO job_queue");
        }
    }
}
