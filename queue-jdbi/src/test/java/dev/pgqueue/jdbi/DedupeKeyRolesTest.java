package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgqueue.DedupeKeyHeldException;
import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.EnqueueResult;
import dev.pgqueue.JobType;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Dedupe keys between producers under the optional roles script ({@code roles.sql}), whose row-level
 * security shows each producer only the jobs it enqueued. Keys are unique per job type across the
 * schema, so one producer's job can hold another's key: the other's enqueue then fails at once with
 * an error saying so (not "try again", which would be retried forever). And the recurring: prefix is
 * the workers': a producer's job cannot hold a recurring job's tick. Roles are cluster-wide, so this
 * test's have unique names and are dropped afterwards.
 */
@PostgresTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DedupeKeyRolesTest {

    record Note(String text) {}

    static final JobType<Note> NOTE = JobType.of("note", Note.class);

    private final TestDatabase db;
    private final String suffix = UUID.randomUUID().toString().substring(0, 8).toLowerCase(Locale.ROOT);
    private final String owner = "pgq_dk_owner_" + suffix;
    private final String producerGroup = "pgq_dk_producer_" + suffix;
    private final String workerGroup = "pgq_dk_worker_" + suffix;
    private final String alice = "pgq_dk_alice_" + suffix;
    private final String bob = "pgq_dk_bob_" + suffix;
    private final String workerLogin = "pgq_dk_w_" + suffix;
    private final String schema = "pgq_dk_" + suffix;
    private final RolePools roles;

    DedupeKeyRolesTest(TestDatabase db) {
        this.db = db;
        this.roles = new RolePools(db);
    }

    @BeforeAll
    void createRolesAndSchema() throws SQLException {
        for (String role : List.of(owner, producerGroup, workerGroup, alice, bob, workerLogin)) {
            db.execute("CREATE ROLE " + role + " NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE");
        }
        db.execute("GRANT " + producerGroup + " TO " + alice + ", " + bob);
        db.execute("GRANT " + workerGroup + " TO " + workerLogin);
        db.execute("CREATE SCHEMA " + schema + " AUTHORIZATION " + owner);
        Jdbi asOwner = roles.jdbi(owner);
        JdbiJobStore.builder(asOwner).schema(schema).build();
        String script = SqlFiles.read("/db/pgqueue/optional/roles.sql")
                .replace("pgqueue_producer", producerGroup)
                .replace("pgqueue_worker", workerGroup);
        asOwner.useHandle(h -> {
            try (Statement st = h.getConnection().createStatement()) {
                st.execute("SET search_path = " + schema);
                st.execute(script);
                st.execute("RESET search_path");
            }
        });
    }

    @AfterAll
    void dropRoles() {
        roles.close();
        db.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        for (String role : List.of(alice, bob, workerLogin, producerGroup, workerGroup, owner)) {
            db.execute("DROP OWNED BY " + role + " CASCADE");
            db.execute("DROP ROLE " + role);
        }
    }

    @BeforeEach
    void emptyQueue() {
        db.execute("DELETE FROM " + schema + ".job_queue");
    }


    private JdbiJobQueue queueAs(String role) {
        return JdbiJobQueue.create(roles.store(role, schema));
    }

    private List<Map<String, Object>> rows() {
        return db.queryForList("SELECT id, dedupe_key, enqueued_by FROM " + schema + ".job_queue ORDER BY id");
    }

    /** Runs {@code sql} as {@code role} in a transaction that is rolled back; returns the failure, or null. */
    private SQLException failureAs(String role, String sql) throws SQLException {
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            try {
                st.execute("SET LOCAL ROLE " + role);
                st.execute("SET LOCAL search_path = " + schema);
                st.execute(sql);
                return null;
            } catch (SQLException e) {
                return e;
            } finally {
                c.rollback();
            }
        }
    }

    @Test
    void aKeyHeldByAnotherProducersJob_failsAtOnce_saying_soInJava() {
        UUID bobs = queueAs(bob).enqueue(NOTE, new Note("bob"), EnqueueOptions.defaults().dedupeKey("invoice-42"));
        List<Map<String, Object>> before = rows();
        JdbiJobQueue aliceQueue = queueAs(alice);

        assertThatThrownBy(() -> aliceQueue.enqueue(NOTE, new Note("alice"), EnqueueOptions.defaults().dedupeKey("invoice-42")))
                .isInstanceOf(DedupeKeyHeldException.class)
                .hasMessage("could not enqueue job note with dedupe key \"invoice-42\": the key is held by a job this role"
                        + " cannot see (row-level security hides it); dedupe keys are unique per job type across the schema,"
                        + " whoever enqueued the job holding them, so trying again does not help: use keys no other producer uses")
                .satisfies(e -> {
                    assertThat(((DedupeKeyHeldException) e).jobType()).isEqualTo("note");
                    assertThat(((DedupeKeyHeldException) e).dedupeKey()).isEqualTo("invoice-42");
                });
        assertThatThrownBy(() -> aliceQueue.enqueueAllUnique(NOTE, Map.of("invoice-42", new Note("alice")), EnqueueOptions.defaults()))
                .isInstanceOf(DedupeKeyHeldException.class);

        assertThat(rows()).isEqualTo(before);
        // The holder's own producer sees its job: a duplicate, as always.
        assertThat(queueAs(bob).enqueueUnique(NOTE, new Note("bob again"), EnqueueOptions.defaults().dedupeKey("invoice-42")))
                .isEqualTo(EnqueueResult.duplicateOf(bobs));
    }

    @Test
    void aKeyHeldByAnotherProducersJob_failsAtOnce_withUniqueViolation_inSql() throws SQLException {
        queueAs(bob).enqueue(NOTE, new Note("bob"), EnqueueOptions.defaults().dedupeKey("invoice-43"));
        List<Map<String, Object>> before = rows();

        for (String call : List.of(
                "SELECT * FROM job_queue_enqueue_unique('note', dedupe_key => 'invoice-43')",
                "SELECT job_queue_enqueue('note', dedupe_key => 'invoice-43')")) {
            SQLException failure = failureAs(alice, call);
            assertThat((Object) failure).as(call).isNotNull();
            assertThat(failure.getSQLState()).as(call).isEqualTo("23505");
            assertThat(failure.getMessage()).as(call)
                    .contains("could not enqueue job note with dedupe key 'invoice-43': the key is held by a job this role"
                            + " cannot see (row-level security hides it)")
                    .contains("Dedupe keys are unique per job type across the whole schema")
                    .contains("trying again does not help");
        }

        assertThat(rows()).isEqualTo(before);
    }

    @Test
    void aProducer_cannotWriteARecurringJobsKey_butAWorkerCan() throws SQLException {
        String tick = "recurring:nightly@9999-01-01T00:00:00Z";
        for (String insert : List.of(
                "INSERT INTO job_queue (job_type, dedupe_key, unique_states) VALUES ('note', '" + tick + "',"
                        + " '{waiting,pending,processing,completed,failed,cancelled}')",
                "SELECT job_queue_enqueue('note', dedupe_key => '" + tick + "')",
                "SELECT * FROM job_queue_enqueue_unique('note', dedupe_key => '" + tick + "')")) {
            SQLException failure = failureAs(alice, insert);
            assertThat((Object) failure).as(insert).isNotNull();
            assertThat(failure.getSQLState()).as(insert).isEqualTo("42501");
            assertThat(failure.getMessage()).as(insert).contains("expected dedupe_key not to start with recurring: (reserved"
                    + " for the ticks of recurring jobs, which workers enqueue), got: '" + tick + "'");
        }
        assertThat(rows()).isEmpty();

        assertThat((Object) failureAs(workerLogin, "INSERT INTO job_queue (job_type, dedupe_key) VALUES ('note', '" + tick + "')"))
                .as("the worker enqueues ticks").isNull();
        assertThat((Object) failureAs(owner, "INSERT INTO job_queue (job_type, dedupe_key) VALUES ('note', '" + tick + "')"))
                .as("the owner").isNull();
        assertThat((Object) failureAs(alice, "INSERT INTO job_queue (job_type, dedupe_key) VALUES ('note', 'recurring')"))
                .as("only the prefix is reserved").isNull();
    }
}
