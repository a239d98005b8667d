package dev.pgqueue.jdbi;

import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Reads job_queue directly, so that tests assert on what is stored rather than on what the store says. */
final class JobRows {

    private final TestDatabase db;

    JobRows(TestDatabase db) {
        this.db = db;
    }

    /** The whole row, every column, as the driver returns it. */
    Map<String, Object> row(UUID id) {
        List<Map<String, Object>> rows = db.queryForList("select * from job_queue where id = ?", id);
        if (rows.size() != 1) {
            throw new AssertionError("expected one job_queue row with id " + id + ", got: " + rows.size());
        }
        return rows.get(0);
    }

    /** Every row, every column, ordered by id. */
    List<Map<String, Object>> all() {
        return db.queryForList("select * from job_queue order by id");
    }

    long count() {
        return db.queryForLong("select count(*) from job_queue");
    }

    long count(String status) {
        return db.queryForLong("select count(*) from job_queue where status = ?", status);
    }

    boolean exists(UUID id) {
        return db.queryForLong("select count(*) from job_queue where id = ?", id) == 1;
    }

    void deleteAll() {
        db.execute("delete from job_queue");
        db.execute("delete from job_queue_queue");
        db.execute("delete from job_queue_worker");
    }

    static Instant instant(Map<String, Object> row, String column) {
        Object value = row.get(column);
        return value == null ? null : ((Timestamp) value).toInstant();
    }
}
