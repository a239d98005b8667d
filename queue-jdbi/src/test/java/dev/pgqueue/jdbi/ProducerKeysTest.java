package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobType;
import dev.pgqueue.ValidationException;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The keys a producer gives with a job (dedupe key, partition key) are stored as they were given or
 * rejected: half a surrogate pair, which UTF-8 cannot hold (the driver would store '?', so that the
 * key collided with the key "?"), is rejected, and so is a dedupe key in the prefix reserved for
 * recurring jobs' ticks. Nothing is written either way.
 */
@PostgresTest
class ProducerKeysTest {

    record Note(String text) {}

    static final JobType<Note> NOTE = JobType.of("note", Note.class);

    private final TestDatabase db;
    private final JdbiJobQueue queue;

    ProducerKeysTest(TestDatabase db) {
        this.db = db;
        this.queue = JdbiJobQueue.create(JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build());
    }

    @BeforeEach
    void emptyQueue() {
        db.execute("DELETE FROM job_queue");
    }

    private List<Map<String, Object>> rows() {
        return db.queryForList("SELECT id, dedupe_key, partition_key FROM job_queue ORDER BY id");
    }

    @Test
    void aDedupeKeyWithHalfASurrogatePair_isRejected_andNothingIsWritten() {
        queue.enqueue(NOTE, new Note("question mark"), EnqueueOptions.defaults().dedupeKey("?"));
        List<Map<String, Object>> before = rows();

        for (String key : List.of("\uD800", "a\uDC00b", "x\uD83D")) {
            assertThatThrownBy(() -> queue.enqueue(NOTE, new Note("lone"), EnqueueOptions.defaults().dedupeKey(key)))
                    .isInstanceOf(ValidationException.class)
                    .hasMessageStartingWith("expected dedupeKey to be valid Unicode (it holds half a surrogate pair, U+");
            assertThatThrownBy(() -> queue.enqueueAllUnique(NOTE, Map.of(key, new Note("lone")), EnqueueOptions.defaults()))
                    .isInstanceOf(ValidationException.class)
                    .hasMessageStartingWith("expected dedupe key to be valid Unicode");
        }
        assertThatThrownBy(() -> EnqueueOptions.defaults().dedupeKey("\uD800"))
                .hasMessage("expected dedupeKey to be valid Unicode (it holds half a surrogate pair, U+D800 at index 0,"
                        + " which UTF-8 cannot store), got: \"\\uD800\"");

        assertThat(rows()).isEqualTo(before);
        // A whole pair is a character like any other.
        queue.enqueue(NOTE, new Note("emoji"), EnqueueOptions.defaults().dedupeKey("\uD83D\uDE00"));
        assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE dedupe_key = '\uD83D\uDE00'")).isEqualTo(1);
    }

    @Test
    void aPartitionKeyWithHalfASurrogatePair_isRejected_andNothingIsWritten() {
        assertThatThrownBy(() -> queue.enqueue(NOTE, new Note("lone"), EnqueueOptions.defaults().partitionKey("tenant-\uDBFF")))
                .isInstanceOf(ValidationException.class)
                .hasMessage("expected partitionKey to be valid Unicode (it holds half a surrogate pair, U+DBFF at index 7,"
                        + " which UTF-8 cannot store), got: \"tenant-\\uDBFF\"");

        assertThat(rows()).isEmpty();
    }

    @Test
    void aDedupeKeyInTheRecurringPrefix_isRejected_andNothingIsWritten() {
        assertThatThrownBy(() -> queue.enqueue(NOTE, new Note("forged"),
                EnqueueOptions.defaults().dedupeKey("recurring:nightly@9999-01-01T00:00:00Z")))
                .isInstanceOf(ValidationException.class)
                .hasMessage("expected dedupeKey to be a key not starting with recurring: (reserved for the ticks of"
                        + " recurring jobs), got: \"recurring:nightly@9999-01-01T00:00:00Z\"");
        assertThatThrownBy(() -> queue.enqueueAllUnique(NOTE, Map.of("recurring:x", new Note("forged")), EnqueueOptions.defaults()))
                .isInstanceOf(ValidationException.class)
                .hasMessageStartingWith("expected dedupe key to be a key not starting with recurring:");

        assertThat(rows()).isEmpty();
        // Only the prefix is reserved.
        queue.enqueue(NOTE, new Note("fine"), EnqueueOptions.defaults().dedupeKey("recurring"));
        queue.enqueue(NOTE, new Note("fine"), EnqueueOptions.defaults().dedupeKey("my-recurring:x"));
        assertThat(rows()).hasSize(2);
    }
}
