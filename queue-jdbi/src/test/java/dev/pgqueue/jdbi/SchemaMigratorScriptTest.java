package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgqueue.ValidationException;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The migration script a DBA is handed ({@code pgqueue migrate --print}): it lists exactly what
 * {@link SchemaMigrator#migrate()} would apply, reading changes nothing, and applied by hand it leaves
 * a schema that pgqueue accepts as migrated.
 */
@PostgresTest
class SchemaMigratorScriptTest {

    private final TestDatabase db;
    private final Jdbi jdbi;
    private final String schema;

    SchemaMigratorScriptTest(TestDatabase db) {
        this.db = db;
        this.jdbi = Jdbi.create(db.dataSource());
        this.schema = db.schema() + "_s";
    }

    @AfterEach
    void dropSchema() {
        db.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    }

    private boolean schemaExists() {
        return db.queryForLong("SELECT count(*) FROM pg_namespace WHERE nspname = ?", schema) == 1;
    }

    private void runByHand(String script) throws Exception {
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            st.execute(script);
        }
    }

    @Test
    void pendingSql_onADatabaseNeverMigrated_listsEveryVersion_andCreatesNothing() {
        String script = SchemaMigrator.of(jdbi, schema).pendingSql();

        assertThat(script).contains(SchemaMigrator.MIGRATIONS).startsWith("-- pgqueue migrations for schema " + schema);
        assertThat(script).isEqualTo(SchemaMigrator.script(schema));
        assertThat(schemaExists()).as("reading the plan creates nothing").isFalse();
    }

    @Test
    void script_appliedByHand_leavesASchemaPgqueueAcceptsAsMigrated() throws Exception {
        runByHand(SchemaMigrator.script(schema));

        assertThat(SchemaMigrator.of(jdbi, schema).currentVersion()).isEqualTo(SchemaMigrator.latestVersion());
        assertThat(SchemaMigrator.of(jdbi, schema).migrate()).as("nothing left, checksums match").isEmpty();
        JdbiJobStore store = JdbiJobStore.builder(jdbi).schema(schema).migrate(false).build();
        assertThat(JdbiJobQueue.create(store).enqueue(dev.pgqueue.JobType.of("probe", Probe.class), new Probe(1))).isNotNull();
        assertThat(SchemaMigrator.of(jdbi, schema).pendingSql()).as("nothing pending").isEmpty();
    }

    @Test
    void pendingSql_onAnOlderSchema_holdsOnlyTheMissingVersions() throws Exception {
        SchemaMigrator migrator = SchemaMigrator.of(jdbi, schema);
        migrator.migrateTo(3);

        String script = migrator.pendingSql();

        List<String> applied = SchemaMigrator.MIGRATIONS.subList(0, 3);
        List<String> pending = SchemaMigrator.MIGRATIONS.subList(3, SchemaMigrator.MIGRATIONS.size());
        assertThat(script).contains(pending);
        applied.forEach(m -> assertThat(script).doesNotContain(m));
        assertThat(migrator.currentVersion()).as("reading the plan applies nothing").isEqualTo(3);
        runByHand(script);
        assertThat(migrator.currentVersion()).isEqualTo(SchemaMigrator.latestVersion());
        assertThat(migrator.migrate()).isEmpty();
    }

    @Test
    void script_refusesASchemaNameThatIsNotAPlainIdentifier() {
        assertThatThrownBy(() -> SchemaMigrator.script("x\"; DROP TABLE job_queue; --"))
                .isInstanceOf(ValidationException.class);
    }

    record Probe(int n) {}
}
