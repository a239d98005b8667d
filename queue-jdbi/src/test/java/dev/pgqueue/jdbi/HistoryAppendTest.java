package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;

/** {@code job_queue_history_append} (V12), which every outcome statement that records an entry calls. */
@PostgresTest
class HistoryAppendTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final TestDatabase db;

    HistoryAppendTest(TestDatabase db) {
        this.db = db;
        JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
    }

    private JsonNode append(String history, int attempt, String kind, String message, String worker) throws Exception {
        Object text = db.queryForList("SELECT CAST(job_queue_history_append(CAST(? AS jsonb), ?, "
                + "CAST('2031-03-14T09:26:53Z' AS timestamptz), ?, ?, ?) AS text) AS h", history, attempt, kind, message, worker)
                .get(0).get("h");
        return JSON.readTree((String) text);
    }

    @Test
    void appendsOneEntry_toNoHistory() throws Exception {
        JsonNode history = append(null, 3, "failed", "boom", "worker-a");

        assertThat(history.size()).isEqualTo(1);
        assertThat(history.get(0).get("attempt").asInt()).isEqualTo(3);
        assertThat(history.get(0).get("kind").asText()).isEqualTo("failed");
        assertThat(history.get(0).get("message").asText()).isEqualTo("boom");
        assertThat(history.get(0).get("worker").asText()).isEqualTo("worker-a");
        assertThat(history.get(0).get("at").asText()).startsWith("2031-03-14T");
    }

    @Test
    void appendsAfterTheEntriesThereAre_andKeepsANullWorker() throws Exception {
        JsonNode history = append("[{\"attempt\": 1}]", 2, "admin-retry", "again", null);

        assertThat(history.size()).isEqualTo(2);
        assertThat(history.get(0).get("attempt").asInt()).isEqualTo(1);
        assertThat(history.get(1).get("kind").asText()).isEqualTo("admin-retry");
        assertThat(history.get(1).get("worker").isNull()).isTrue();
    }

    @Test
    void keepsTheLatest20_droppingTheOldest() throws Exception {
        StringBuilder twenty = new StringBuilder("[");
        for (int i = 1; i <= 20; i++) {
            twenty.append(i > 1 ? ", " : "").append("{\"attempt\": ").append(i).append('}');
        }
        JsonNode history = append(twenty.append(']').toString(), 21, "failed", "the 21st", "w");

        assertThat(history.size()).isEqualTo(20);
        assertThat(history.get(0).get("attempt").asInt()).isEqualTo(2);
        assertThat(history.get(19).get("attempt").asInt()).isEqualTo(21);
    }
}
