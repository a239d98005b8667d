package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * V13: the insert trigger's function names the channel itself instead of calling job_queue_channel().
 * Upgrading a V12 schema that holds jobs changes none of them, and listeners hear exactly what they heard
 * before: the schema's channel (also when its name is long enough to be a digest), one notification per
 * queue that got a pending job, at commit only.
 */
@PostgresTest
class MigrationV13Test {

    private final TestDatabase db;
    private final Jdbi jdbi;
    private final ScratchSchemas schemas;

    MigrationV13Test(TestDatabase db) {
        this.db = db;
        this.jdbi = Jdbi.create(db.dataSource());
        this.schemas = new ScratchSchemas(db);
    }

    @AfterEach
    void dropSchemas() {
        schemas.dropAll();
    }

    @Test
    void upgradeFromV12_keepsTheJobs_andListenersHearTheSameNotifications() throws Exception {
        String schema = schemas.name("v13");
        SchemaMigrator migrator = SchemaMigrator.of(jdbi, schema);
        migrator.migrateTo(12);
        db.execute("INSERT INTO " + schema + ".job_queue (job_type, queue, payload) VALUES ('generate-image', 'images', '{\"n\": 1}'),"
                + " ('generate-image', 'packs', '{\"n\": 2}')");
        db.execute("INSERT INTO " + schema + ".job_queue (job_type, status, lease_expires_at) VALUES ('generate-image', 'processing', now())");
        List<Map<String, Object>> before = rows(schema);
        String channel = channel(schema);

        assertThat(migrator.migrateTo(13)).containsExactly(13);

        assertThat(rows(schema)).isEqualTo(before);
        assertThat(channel(schema)).isEqualTo(channel).isEqualTo("job_queue_" + schema);
        assertThat(notificationsOfOneTransaction(schema, channel)).containsExactlyInAnyOrder("images", "packs");
        assertThat(db.queryForList("SELECT pg_get_triggerdef(t.oid) AS def FROM pg_trigger t"
                + " WHERE t.tgrelid = CAST(? AS regclass) AND t.tgname = 'job_queue_notify_insert'", schema + ".job_queue"))
                .extracting(r -> (String) r.get("def"))
                .singleElement().asString().contains("AFTER INSERT", "REFERENCING NEW TABLE AS inserted_jobs", "FOR EACH STATEMENT");
        assertThat(db.queryForList("SELECT CAST(proconfig AS text) AS config FROM pg_proc"
                + " WHERE pronamespace = CAST(? AS regnamespace) AND proname = 'job_queue_notify_insert'", schema))
                .extracting(r -> r.get("config"))
                .containsExactly("{\"search_path=" + schema + ", pg_temp\"}");
    }

    @Test
    void aSchemaNameTooLongForTheChannel_getsTheDigestChannel_asJobQueueChannelSays() throws Exception {
        String schema = schemas.name("v13_" + "x".repeat(Math.max(1, 58 - db.schema().length())));
        assertThat(schema.length()).isGreaterThan(53).isLessThanOrEqualTo(63);
        SchemaMigrator.of(jdbi, schema).migrate();
        String channel = channel(schema);
        assertThat(channel).startsWith("job_queue_").doesNotContain(schema);

        assertThat(notificationsOfOneTransaction(schema, channel)).containsExactlyInAnyOrder("images", "packs");
    }

    /**
     * Listens on {@code channel}; inserts, in one transaction, two statements' worth of jobs in queues
     * images and packs (and one that waits for nothing: not pending, so not announced), after a rolled
     * back insert in queue rolled_back; returns the payloads heard.
     */
    private List<String> notificationsOfOneTransaction(String schema, String channel) throws SQLException {
        try (Connection listener = db.dataSource().getConnection(); Connection producer = db.dataSource().getConnection()) {
            try (Statement st = listener.createStatement()) {
                st.execute("LISTEN \"" + channel + "\"");
            }
            producer.setAutoCommit(false);
            try (Statement st = producer.createStatement()) {
                st.execute("INSERT INTO " + schema + ".job_queue (job_type, queue) VALUES ('generate-image', 'rolled_back')");
                producer.rollback();
                st.execute("INSERT INTO " + schema + ".job_queue (job_type, queue) VALUES ('generate-image', 'images'),"
                        + " ('generate-image', 'images'), ('generate-complete-pack', 'packs')");
                st.execute("INSERT INTO " + schema + ".job_queue (job_type, queue) VALUES ('generate-image', 'images')");
                st.execute("INSERT INTO " + schema + ".job_queue (job_type, queue, status) VALUES ('generate-image', 'cancelled_q', 'cancelled')");
                producer.commit();
            } finally {
                producer.setAutoCommit(true);
            }
            List<String> payloads = new ArrayList<>();
            PGConnection pg = listener.unwrap(PGConnection.class);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (payloads.size() < 2 && System.nanoTime() < deadline) {
                PGNotification[] received = pg.getNotifications(1_000);
                if (received != null) {
                    for (PGNotification n : received) {
                        assertThat(n.getName()).isEqualTo(channel);
                        payloads.add(n.getParameter());
                    }
                }
            }
            PGNotification[] late = pg.getNotifications(300); // nothing more arrives
            if (late != null) {
                for (PGNotification n : late) {
                    payloads.add(n.getParameter());
                }
            }
            try (Statement st = listener.createStatement()) {
                st.execute("UNLISTEN *");
            }
            return payloads;
        }
    }

    private String channel(String schema) {
        return (String) db.queryForList("SELECT " + schema + ".job_queue_channel() AS channel").get(0).get("channel");
    }

    private List<Map<String, Object>> rows(String schema) {
        return db.queryForList("SELECT CAST(j.* AS text) AS row FROM " + schema + ".job_queue j ORDER BY id");
    }
}
