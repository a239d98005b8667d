package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.JobOutcome;
import dev.pgqueue.StoreException;
import dev.pgqueue.Worker;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import liquibase.Liquibase;
import liquibase.database.Database;
import liquibase.database.DatabaseFactory;
import liquibase.database.jvm.JdbcConnection;
import liquibase.resource.ClassLoaderResourceAccessor;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * pgqueue's migrations applied by someone else: the application's real Flyway (with its own V1
 * beside pgqueue's), a real Liquibase run of the shipped changelog, a DBA running
 * {@link SchemaMigrator#pendingSql()}; and {@code migrate(false)}'s check of the objects, whoever
 * applied them. Each test migrates schemas of its own and drops them afterwards.
 */
@PostgresTest
class SchemaOwnershipTest {

    /** The history table docs/schema-ownership.md tells Flyway users to give pgqueue's migrations. */
    private static final String FLYWAY_TABLE = "pgqueue_flyway_history";

    private final TestDatabase db;
    private final Jdbi jdbi;
    private final List<String> schemas = new ArrayList<>();

    SchemaOwnershipTest(TestDatabase db) {
        this.db = db;
        this.jdbi = Jdbi.create(db.dataSource());
    }

    @AfterEach
    void dropSchemas() {
        schemas.forEach(schema -> db.execute("drop schema if exists " + schema + " cascade"));
    }

    private String newSchema(String suffix) {
        String schema = db.schema() + "_" + suffix;
        schemas.add(schema);
        return schema;
    }

    /** The application's Flyway, configured as an application would: its own migrations only. */
    private FluentConfiguration applicationFlyway(String schema) {
        return Flyway.configure().dataSource(db.dataSource()).schemas(schema).locations("classpath:db/app/migration");
    }

    /**
     * pgqueue's migrations through Flyway, as docs/schema-ownership.md says: the application's
     * settings, pgqueue's location and history table, and a baseline at 0, so that it also runs in a
     * schema that already holds the application's tables and still applies every pgqueue version.
     */
    private static Flyway pgqueueFlyway(FluentConfiguration application) {
        return Flyway.configure().configuration(application)
                .locations("classpath:db/pgqueue/migration")
                .table(FLYWAY_TABLE)
                .baselineOnMigrate(true)
                .baselineVersion("0")
                .target("latest")
                .load();
    }

    /** The store a service without DDL rights builds: no migration, only the check. */
    private JdbiJobStore checkedStore(String schema) {
        return JdbiJobStore.builder(jdbi).schema(schema).migrate(false).build();
    }

    private void runsAJob(String schema) {
        JdbiJobStore store = checkedStore(schema);
        JdbiJobQueue.create(store).enqueue(Payloads.GENERATE_IMAGE, new Payloads.GenerateImage("img", 1));
        try (Worker worker = Worker.builder(store).pollInterval(Duration.ofMillis(100))
                .handler(Payloads.GENERATE_IMAGE, (job, context) -> JobOutcome.done())
                .build()) {
            worker.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> db.queryForLong(
                    "select count(*) from " + schema + ".job_queue where job_type = 'generate-image' and status = 'completed'") == 1);
        }
    }

    @Nested
    class WithFlyway {

        @Test
        void flyway_afterTheApplicationsOwn_appliesPgqueuesInATableOfTheirOwn_besideTheApplicationsV1() {
            String schema = newSchema("flyway");
            FluentConfiguration application = applicationFlyway(schema);

            application.load().migrate();
            pgqueueFlyway(application).migrate();

            assertThat(flywayHistory(schema, FLYWAY_TABLE)).containsExactlyElementsOf(
                    SchemaMigrator.MIGRATIONS.stream().map(script -> SchemaMigrator.version(script) + " " + script).toList());
            assertThat(flywayHistory(schema, "flyway_schema_history")).containsExactly("1 V1__create_orders.sql");
            // The application's V1 uses pgqueue's SQL contract (a PL/pgSQL body, resolved when it runs).
            db.execute("select " + schema + ".place_order(42)");
            assertThat(db.queryForLong("select count(*) from " + schema + ".job_queue where job_type = 'send-confirmation'"))
                    .isEqualTo(1);
            runsAJob(schema);
        }

        @Test
        void flyway_beforeTheApplicationsOwn_theApplicationBaselinesAtZero() {
            String schema = newSchema("flyway_first");
            FluentConfiguration application = applicationFlyway(schema);

            pgqueueFlyway(application).migrate();
            assertThatThrownBy(() -> application.load().migrate()).as("Flyway refuses a non-empty schema without its history")
                    .isInstanceOf(FlywayException.class).hasMessageContaining("non-empty schema");
            application.baselineOnMigrate(true).baselineVersion("0").load().migrate();

            assertThat(flywayHistory(schema, FLYWAY_TABLE)).hasSize(SchemaMigrator.MIGRATIONS.size());
            assertThat(flywayHistory(schema, "flyway_schema_history")).containsExactly("1 V1__create_orders.sql");
            db.execute("select " + schema + ".place_order(42)");
            runsAJob(schema);
        }

        @Test
        void flyway_takesOverASchemaThatPgqueueMigratedItself() {
            String schema = newSchema("flyway_takeover");
            SchemaMigrator.of(jdbi, schema).migrate();
            db.execute("insert into " + schema + ".job_queue (job_type) values ('kept-job')");

            pgqueueFlyway(applicationFlyway(schema)).migrate();

            assertThat(flywayHistory(schema, FLYWAY_TABLE)).hasSize(SchemaMigrator.MIGRATIONS.size());
            assertThat(db.queryForLong("select count(*) from " + schema + ".job_queue")).isEqualTo(1);
            runsAJob(schema);
        }

        private List<String> flywayHistory(String schema, String table) {
            return db.queryForList("select version, script from " + schema + "." + table
                    + " where type = 'SQL' and success order by installed_rank").stream()
                    .map(row -> row.get("version") + " " + row.get("script")).toList();
        }

        @Test
        void flyway_secondRunAppliesNothing_andValidates() {
            String schema = newSchema("flyway_again");
            FluentConfiguration application = applicationFlyway(schema);
            pgqueueFlyway(application).migrate();

            assertThat(pgqueueFlyway(application).migrate().migrationsExecuted).isZero();
            pgqueueFlyway(application).validate();
        }

        @Test
        void flyway_oneConfigurationWithBothLocations_failsOnTheSharedVersion() {
            // Why pgqueue's migrations need a history table of their own (docs/schema-ownership.md).
            String schema = newSchema("flyway_shared");

            assertThatThrownBy(() -> applicationFlyway(schema)
                    .locations("classpath:db/app/migration", "classpath:db/pgqueue/migration").load().migrate())
                    .isInstanceOf(FlywayException.class)
                    .hasMessageContaining("Found more than one migration with version 1");
        }
    }

    @Nested
    class WithLiquibase {

        @Test
        @SuppressWarnings("deprecation")
        void liquibase_appliesTheShippedChangelog_fromTheApplicationsMasterChangelog() throws Exception {
            String schema = newSchema("liquibase");
            db.execute("create schema " + schema);
            // Offline builds: no usage report (Liquibase 4.30 and newer send one by default).
            System.setProperty("liquibase.analytics.enabled", "false");

            // A pool of its own: Liquibase sets the session's search_path to its default schema.
            for (int run = 0; run < 2; run++) {
                try (HikariDataSource own = db.newDataSource("liquibase", 1); Connection connection = own.getConnection()) {
                    Database database = DatabaseFactory.getInstance().findCorrectDatabaseImplementation(new JdbcConnection(connection));
                    database.setDefaultSchemaName(schema);
                    database.setLiquibaseSchemaName(schema);
                    try (Liquibase liquibase = new Liquibase("db/app/changelog.yaml", new ClassLoaderResourceAccessor(), database)) {
                        liquibase.update("");
                    }
                }
            }

            assertThat(db.queryForList("select id, filename from " + schema + ".databasechangelog order by orderexecuted"))
                    .extracting(row -> row.get("filename") + " " + row.get("id"))
                    .containsExactlyElementsOf(Stream.concat(
                            SchemaMigrator.MIGRATIONS.stream().map(s -> "db/pgqueue/changelog.yaml " + s.replace(".sql", "")),
                            Stream.of("db/app/changelog.yaml 1-create-orders")).toList());
            db.execute("select " + schema + ".place_order(7)");
            runsAJob(schema);
        }

        @Test
        void changelog_listsEveryMigrationFileInOrder() throws Exception {
            String changelog = resource("/db/pgqueue/changelog.yaml");
            List<String> listed = new ArrayList<>();
            Matcher path = Pattern.compile("path: migration/(\\S+)").matcher(changelog);
            while (path.find()) {
                listed.add(path.group(1));
            }
            List<String> ids = new ArrayList<>();
            Matcher id = Pattern.compile("id: (\\S+)").matcher(changelog);
            while (id.find()) {
                ids.add(id.group(1) + ".sql");
            }

            assertThat(listed).as("the changelog's files, in order").containsExactlyElementsOf(SchemaMigrator.MIGRATIONS);
            assertThat(ids).as("changeset ids are the file names").containsExactlyElementsOf(SchemaMigrator.MIGRATIONS);
            assertThat(changelog).doesNotContain("splitStatements: true");
        }
    }

    @Nested
    class MigrationsInTheJar {

        @Test
        void everyFileInTheMigrationFolder_isListed_inVersionOrder() throws Exception {
            URL folder = SchemaOwnershipTest.class.getResource("/db/pgqueue/migration");
            List<String> files;
            try (Stream<Path> list = Files.list(Path.of(folder.toURI()))) {
                files = list.map(p -> p.getFileName().toString())
                        .sorted((a, b) -> Integer.compare(SchemaMigrator.version(a), SchemaMigrator.version(b)))
                        .toList();
            }

            assertThat(SchemaMigrator.MIGRATIONS).containsExactlyElementsOf(files);
            assertThat(SchemaMigrator.migrations()).extracting(SchemaMigrator.Migration::script).containsExactlyElementsOf(files);
            assertThat(SchemaMigrator.migrations()).extracting(SchemaMigrator.Migration::version)
                    .isSorted().doesNotHaveDuplicates();
        }
    }

    @Nested
    class ForADba {

        @Test
        void pendingSql_isEveryMigrationForANewSchema_andRunsAsOneScript() throws Exception {
            String schema = newSchema("dba");
            SchemaMigrator migrator = SchemaMigrator.of(jdbi, schema);

            String script = migrator.pendingSql();
            runScript(script);

            assertThat(script).startsWith("-- pgqueue migrations for schema " + schema).contains("BEGIN;").endsWith("COMMIT;\n");
            migrator.verify();
            assertThat(migrator.currentVersion()).isEqualTo(SchemaMigrator.latestVersion());
            assertThat(migrator.migrate()).as("recorded, so the migrator finds nothing to do").isEmpty();
            assertThat(migrator.pendingSql()).isEmpty();
            runsAJob(schema);
        }

        @Test
        void pendingSql_holdsOnlyTheVersionsNotYetRecorded() {
            String schema = newSchema("dba_partial");
            SchemaMigrator migrator = SchemaMigrator.of(jdbi, schema);
            migrator.migrateTo(3);

            String script = migrator.pendingSql();

            assertThat(script).doesNotContain("-- ---- V1__").doesNotContain("-- ---- V3__").contains("-- ---- V4__").contains("-- ---- V5__");
            runScript(script);
            migrator.verify();
        }

        @Test
        void pendingSql_failedScriptChangesNothing() {
            String schema = newSchema("dba_fail");
            String broken = SchemaMigrator.of(jdbi, schema).pendingSql().replace("COMMIT;", "SELECT 1/0;\nCOMMIT;");

            assertThatThrownBy(() -> runScript(broken)).hasMessageContaining("division by zero");
            assertThat(db.queryForLong("select count(*) from pg_namespace where nspname = ?", schema)).isZero();
        }

        /** As psql -f runs it: the whole script, its own BEGIN and COMMIT included. */
        private void runScript(String script) {
            try (Connection connection = db.dataSource().getConnection(); Statement st = connection.createStatement()) {
                try {
                    st.execute(script);
                } catch (Exception e) {
                    st.execute("rollback");
                    throw e;
                }
            } catch (Exception e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        }
    }

    @Nested
    class Verify {

        @Test
        void verify_acceptsASchemaWhoseObjectsWereCreatedByHand_withNoHistory() throws Exception {
            String schema = newSchema("by_hand");
            db.execute("create schema " + schema);
            try (Connection connection = db.dataSource().getConnection(); Statement st = connection.createStatement()) {
                st.execute("set search_path = " + schema);
                for (SchemaMigrator.Migration migration : SchemaMigrator.migrations()) {
                    st.execute(migration.sql());
                }
                st.execute("reset search_path");
            }
            SchemaMigrator migrator = SchemaMigrator.of(jdbi, schema);

            assertThat(migrator.currentVersion()).isZero();
            migrator.verify();
            runsAJob(schema);
        }

        @Test
        void verify_detectsEachVersion_aSchemaOneVersionBehindFails() {
            // Over the versions in the jar, which need not be consecutive (a number may be left unused).
            List<Integer> versions = SchemaMigrator.MIGRATIONS.stream().map(SchemaMigrator::version).toList();
            for (int i = 0; i + 1 < versions.size(); i++) {
                int version = versions.get(i);
                String schema = newSchema("at_v" + version);
                SchemaMigrator migrator = SchemaMigrator.of(jdbi, schema);
                migrator.migrateTo(version);
                int next = versions.get(i + 1);

                migrator.verify(version);
                assertThatThrownBy(() -> migrator.verify(next))
                        .as("a schema at V%d checked for V%d: every migration must create or change something verify() sees"
                                + " (a table, column, index, named constraint, trigger or function body)", version, next)
                        .isInstanceOf(StoreException.class)
                        .hasMessageContaining("is not ready for this pgqueue (migrations V1 to V" + next + "; V" + version
                                + " recorded in pgqueue_schema_history)");
            }
        }

        @Test
        void verify_acceptsANewerSchema_forAnOlderPgqueue() {
            String schema = newSchema("newer");
            SchemaMigrator migrator = SchemaMigrator.of(jdbi, schema);
            migrator.migrate();

            for (int version = 1; version <= SchemaMigrator.latestVersion(); version++) {
                migrator.verify(version);
            }
        }

        @Test
        void verify_acceptsASchemaAfterEveryMigrationRanAgain() throws Exception {
            String schema = newSchema("rerun");
            SchemaMigrator migrator = SchemaMigrator.of(jdbi, schema);
            migrator.migrate();
            try (Connection connection = db.dataSource().getConnection(); Statement st = connection.createStatement()) {
                st.execute("set search_path = " + schema);
                for (SchemaMigrator.Migration migration : SchemaMigrator.migrations()) {
                    st.execute(migration.sql());
                }
                st.execute("reset search_path");
            }

            migrator.verify();
        }

        @Test
        void verify_namesAMissingColumnAndAnOutdatedFunction() {
            String schema = newSchema("damaged");
            SchemaMigrator migrator = SchemaMigrator.of(jdbi, schema);
            migrator.migrate();
            db.execute("drop index " + schema + ".job_queue_fair_idx");
            db.execute("alter table " + schema + ".job_queue drop column partition_key");
            // V1's body of the channel function, as a schema that skipped V4 has it.
            String v1Body = MigrationCatalog.statements(SchemaMigrator.migrations().get(0).sql()).stream()
                    .filter(s -> s.head().startsWith("CREATE OR REPLACE FUNCTION job_queue_channel("))
                    .findFirst().orElseThrow().bodies().get(0);
            db.execute("create or replace function " + schema + ".job_queue_channel() returns text language sql stable as $body$"
                    + v1Body + "$body$");

            assertThatThrownBy(migrator::verify)
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("schema " + schema + " is not ready for this pgqueue (migrations V1 to V"
                            + SchemaMigrator.latestVersion() + "; V" + SchemaMigrator.latestVersion() + " recorded")
                    .hasMessageContaining("missing column job_queue.partition_key")
                    .hasMessageContaining("missing index job_queue_fair_idx")
                    .hasMessageContaining("function job_queue_channel is the one of V1, replaced by a later migration")
                    .hasMessageContaining("docs/schema-ownership.md");
            assertThatThrownBy(() -> checkedStore(schema)).hasMessageContaining("missing column job_queue.partition_key");
        }

        @Test
        void verify_onASchemaWithoutJobQueue_saysTheMigrationsNeverRan() {
            String schema = newSchema("empty");
            db.execute("create schema " + schema);

            assertThatThrownBy(() -> checkedStore(schema))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("schema " + schema + " is not ready for this pgqueue (migrations V1 to V"
                            + SchemaMigrator.latestVersion() + "): it has no job_queue table: pgqueue's migrations were never applied here")
                    .hasMessageNotContaining("version 0");
        }

        @Test
        void verify_onAMissingSchema_saysSo() {
            String schema = newSchema("absent");

            assertThatThrownBy(() -> checkedStore(schema))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("schema " + schema + " is not ready for this pgqueue")
                    .hasMessageContaining("the schema does not exist");
            assertThat(db.queryForLong("select count(*) from pg_namespace where nspname = ?", schema)).isZero();
        }
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = SchemaOwnershipTest.class.getResourceAsStream(name)) {
            assertThat(in).as(name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
