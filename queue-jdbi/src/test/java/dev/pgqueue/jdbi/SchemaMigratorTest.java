package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgqueue.StoreException;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Each test migrates schemas of its own, named after the class's schema, and drops them afterwards. */
@PostgresTest
class SchemaMigratorTest {

    private static final String MIGRATION = "/db/pgqueue/migration/V1__create_job_queue.sql";

    private final TestDatabase db;
    private final Jdbi jdbi;
    private final ScratchSchemas schemas;

    SchemaMigratorTest(TestDatabase db) {
        this.db = db;
        this.schemas = new ScratchSchemas(db);
        this.jdbi = Jdbi.create(db.dataSource());
    }

    @AfterEach
    void dropSchemas() {
        schemas.dropAll();
    }

    private long historyRows(String schema) {
        return db.queryForLong("select count(*) from " + schema + ".pgqueue_schema_history");
    }

    private long count(String sql, Object... params) {
        return db.queryForLong(sql, params);
    }

    /** Every version in this jar, in order. */
    private static List<Integer> allVersions() {
        return SchemaMigrator.MIGRATIONS.stream()
                .map(script -> Integer.parseInt(script.substring(1, script.indexOf("__"))))
                .toList();
    }

    @Nested
    class Migrate {

        @Test
        void migrate_createsTheSchemaAndAppliesEveryVersion() {
            String schema = schemas.name("fresh");

            List<Integer> applied = SchemaMigrator.of(jdbi, schema).migrate();

            assertThat(applied).containsExactlyElementsOf(allVersions());
            assertThat(db.queryForList("select version, script from " + schema + ".pgqueue_schema_history order by version"))
                    .containsExactly(
                            Map.of("version", 1, "script", "V1__create_job_queue.sql"),
                            Map.of("version", 2, "script", "V2__unique_jobs_results_progress.sql"),
                            Map.of("version", 3, "script", "V3__workflows_limits_fairness.sql"),
                            Map.of("version", 4, "script", "V4__harden_sql_and_payload_limit.sql"),
                            Map.of("version", 5, "script", "V5__adoption_keys_and_chains.sql"),
                            Map.of("version", 6, "script", "V6__admin_history_and_operations.sql"),
                            Map.of("version", 7, "script", "V7__pause_and_worker_registry.sql"),
                            Map.of("version", 8, "script", "V8__trace_context.sql"),
                            Map.of("version", 9, "script", "V9__cheap_queue_stats.sql"),
                            Map.of("version", 10, "script", "V10__payload_limit_per_row.sql"),
                            Map.of("version", 11, "script", "V11__rights_on_v6_and_v7_objects_for_existing_roles.sql"),
                            Map.of("version", 12, "script", "V12__history_append_function.sql"),
                            Map.of("version", 13, "script", "V13__cheaper_insert_notify.sql"),
                            Map.of("version", 14, "script", "V14__inlined_payload_limit_for_claims.sql"),
                            Map.of("version", 15, "script", "V15__inlined_history_append.sql"));
            assertThat(count("select count(*) from pg_tables where schemaname = ? and tablename = 'job_queue'", schema))
                    .isEqualTo(1);
        }

        @Test
        void migrate_secondRunAppliesNothing() {
            String schema = schemas.name("twice");
            SchemaMigrator migrator = SchemaMigrator.of(jdbi, schema);
            migrator.migrate();
            db.execute("insert into " + schema + ".job_queue (job_type) values ('generate-image')");

            List<Integer> applied = migrator.migrate();

            assertThat(applied).isEmpty();
            assertThat(historyRows(schema)).isEqualTo(SchemaMigrator.MIGRATIONS.size());
            assertThat(count("select count(*) from " + schema + ".job_queue")).isEqualTo(1);
        }

        @Test
        void migrate_createsTheNamedConstraintsAndIndexes() {
            String schema = schemas.name("names");
            SchemaMigrator.of(jdbi, schema).migrate();

            assertThat(db.queryForList("select conname from pg_constraint where conrelid = ?::regclass and contype = 'c'"
                    + " order by conname", schema + ".job_queue")).extracting(r -> r.get("conname")).containsExactly(
                    "job_queue_counts_check", "job_queue_dedupe_check", "job_queue_dependencies_check",
                    "job_queue_job_type_check", "job_queue_lease_check", "job_queue_partition_key_check",
                    "job_queue_progress_check", "job_queue_queue_check", "job_queue_status_check",
                    "job_queue_trace_context_check", "job_queue_unique_states_check");
            assertThat(db.queryForList("select indexname from pg_indexes where schemaname = ? and tablename = 'job_queue'"
                    + " order by indexname", schema)).extracting(r -> r.get("indexname")).containsExactly(
                    "job_queue_claim_idx", "job_queue_dedupe_idx", "job_queue_failed_idx", "job_queue_fair_idx", "job_queue_finished_idx",
                    "job_queue_lease_idx", "job_queue_pkey", "job_queue_waiting_idx");
            assertThat(db.queryForList("select indexname from pg_indexes where schemaname = ? and tablename like 'job_queue_%'"
                    + " order by indexname", schema)).extracting(r -> r.get("indexname")).containsExactly(
                    "job_queue_dependency_depends_on_idx", "job_queue_dependency_pkey", "job_queue_policy_pkey",
                    "job_queue_policy_start_pkey", "job_queue_queue_pkey",
                    "job_queue_setting_pkey", "job_queue_worker_pkey");
        }

        @Test
        void migrate_fromFourProcessesAtOnceAppliesEachVersionOnce() throws Exception {
            String schema = schemas.name("race");
            int processes = 4;
            CyclicBarrier start = new CyclicBarrier(processes);
            ExecutorService pool = Executors.newFixedThreadPool(processes);
            try {
                List<Future<List<Integer>>> results = new ArrayList<>();
                for (int i = 0; i < processes; i++) {
                    // Each "process" has a connection of its own.
                    Jdbi own = Jdbi.create(db.newDataSource("migrator-" + i, 1));
                    results.add(pool.submit(() -> {
                        start.await(10, TimeUnit.SECONDS);
                        return SchemaMigrator.of(own, schema).migrate();
                    }));
                }
                List<List<Integer>> applied = new ArrayList<>();
                for (Future<List<Integer>> result : results) {
                    applied.add(result.get(60, TimeUnit.SECONDS));
                }

                assertThat(applied).containsExactlyInAnyOrder(allVersions(), List.of(), List.of(), List.of());
            } finally {
                pool.shutdownNow();
            }
            assertThat(db.queryForList("select version from " + schema + ".pgqueue_schema_history order by version"))
                    .extracting(row -> row.get("version"))
                    .containsExactlyElementsOf(allVersions());
        }

        @Test
        void migrate_givesUpAfterTheLockTimeoutAndAppliesNothing() throws Exception {
            String schema = schemas.name("busy");
            db.execute("create schema " + schema);
            db.execute("create table " + schema + ".job_queue (id uuid primary key, job_type text not null)");

            try (Connection busy = db.dataSource().getConnection()) {
                busy.setAutoCommit(false);
                try (Statement st = busy.createStatement()) {
                    st.execute("lock table " + schema + ".job_queue in access share mode");
                }
                long started = System.nanoTime();

                assertThatThrownBy(() -> SchemaMigrator.of(jdbi, schema).lockTimeout(Duration.ofMillis(200)).migrate())
                        .isInstanceOf(StoreException.class)
                        .hasMessageContaining("could not migrate schema " + schema)
                        .hasMessageContaining("lock timeout");

                assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
                busy.rollback();
            }
            assertThat(SchemaMigrator.of(jdbi, schema).currentVersion()).isZero();
            assertThat(count("select count(*) from information_schema.columns where table_schema = ?"
                    + " and table_name = 'job_queue'", schema)).isEqualTo(2);
        }
    }

    @Nested
    class CurrentVersion {

        @Test
        void currentVersion_isZeroWhereNothingWasMigrated() {
            assertThat(SchemaMigrator.of(jdbi, schemas.name("missing")).currentVersion()).isZero();
            String empty = schemas.name("empty");
            db.execute("create schema " + empty);
            assertThat(SchemaMigrator.of(jdbi, empty).currentVersion()).isZero();
        }

        @Test
        void currentVersion_isTheLatestAfterMigrating() {
            String schema = schemas.name("current");
            SchemaMigrator migrator = SchemaMigrator.of(jdbi, schema);
            migrator.migrate();

            assertThat(migrator.currentVersion()).isEqualTo(SchemaMigrator.latestVersion()).isEqualTo(allVersions().get(allVersions().size() - 1));
        }
    }

    @Nested
    class StoreWithoutMigrations {

        @Test
        void build_failsClearlyOnAnUnmigratedSchema() {
            String schema = schemas.name("unmigrated");
            db.execute("create schema " + schema);

            assertThatThrownBy(() -> JdbiJobStore.builder(jdbi).schema(schema).migrate(false).build())
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("schema " + schema + " is not ready for this pgqueue (migrations V1 to V"
                            + SchemaMigrator.latestVersion() + ")")
                    .hasMessageContaining("no job_queue table");

            assertThat(count("select count(*) from pg_tables where schemaname = ?", schema)).as("nothing created")
                    .isZero();
        }

        @Test
        void build_failsClearlyOnAMissingSchema() {
            String schema = schemas.name("absent");

            assertThatThrownBy(() -> JdbiJobStore.builder(jdbi).schema(schema).migrate(false).build())
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("schema " + schema + " is not ready for this pgqueue")
                    .hasMessageContaining("the schema does not exist");
            assertThat(count("select count(*) from pg_namespace where nspname = ?", schema)).isZero();
        }

        @Test
        void build_usesAMigratedSchema() {
            String schema = schemas.name("migrated");
            SchemaMigrator.of(jdbi, schema).migrate();

            JdbiJobStore store = JdbiJobStore.builder(jdbi).schema(schema).migrate(false).build();
            JdbiJobQueue.create(store).enqueue(Payloads.GENERATE_IMAGE, new Payloads.GenerateImage("img", 1));

            assertThat(count("select count(*) from " + schema + ".job_queue")).isEqualTo(1);
        }
    }

    @Nested
    class PlainSql {

        @Test
        void migrationFile_runsTwiceByHandWithSearchPathSet() throws Exception {
            String schema = schemas.name("by_hand");
            db.execute("create schema " + schema);
            String sql = migrationFile();

            try (Connection connection = db.dataSource().getConnection(); Statement st = connection.createStatement()) {
                st.execute("set search_path = " + schema);
                st.execute(sql);
                st.execute("insert into job_queue (job_type, payload) values ('generate-image', '{\"n\": 1}')");
                st.execute(sql);
                st.execute("select job_queue_enqueue('generate-image')");
                st.execute("reset search_path");
            }

            assertThat(count("select count(*) from " + schema + ".job_queue")).isEqualTo(2);
            assertThat(count("select count(*) from pg_constraint where conrelid = ?::regclass and contype = 'c'",
                    schema + ".job_queue")).isEqualTo(5);
            assertThat(db.queryForList("select tgname from pg_trigger where tgrelid = ?::regclass and not tgisinternal"
                    + " order by tgname", schema + ".job_queue")).extracting(r -> r.get("tgname")).containsExactly(
                    "job_queue_default_lease_insert", "job_queue_default_lease_update", "job_queue_notify_insert");
            // Every function is pinned to the schema it was created in, whatever the caller's search_path.
            assertThat(db.queryForList("select proname, proconfig::text as config from pg_proc"
                    + " where pronamespace = ?::regnamespace and proname like 'job_queue%' order by proname", schema))
                    .extracting(r -> r.get("config"))
                    .hasSize(5)
                    .containsOnly("{\"search_path=" + schema + ", pg_temp\"}");
            // Nothing was recorded, so the migrator applies V1 once more, harmlessly.
            SchemaMigrator migrator = SchemaMigrator.of(jdbi, schema);
            assertThat(migrator.currentVersion()).isZero();
            assertThat(migrator.migrate()).containsExactlyElementsOf(allVersions());
            assertThat(count("select count(*) from " + schema + ".job_queue")).isEqualTo(2);
        }

        @Test
        void enqueueFunction_insertsIntoItsOwnSchemaWhateverTheCallersSearchPath() throws Exception {
            String schema = schemas.name("pinned");
            SchemaMigrator.of(jdbi, schema).migrate();

            try (Connection connection = db.dataSource().getConnection(); Statement st = connection.createStatement()) {
                st.execute("set search_path = public");
                st.execute("select " + schema + ".job_queue_enqueue('generate-image')");
                st.execute("reset search_path");
            }

            assertThat(count("select count(*) from " + schema + ".job_queue")).isEqualTo(1);
        }
    }

    private static String migrationFile() throws IOException {
        try (InputStream in = SchemaMigratorTest.class.getResourceAsStream(MIGRATION)) {
            assertThat(in).as(MIGRATION).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
