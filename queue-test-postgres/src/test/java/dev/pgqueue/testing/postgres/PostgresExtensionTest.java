package dev.pgqueue.testing.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestInstance.Lifecycle;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;

@PostgresTest
class PostgresExtensionTest {

    private static TestDatabase fromBeforeAll;

    private final TestDatabase fromConstructor;

    PostgresExtensionTest(TestDatabase database) {
        this.fromConstructor = database;
    }

    @BeforeAll
    static void rememberDatabase(TestDatabase database) {
        fromBeforeAll = database;
    }

    @Test
    void injectsOneDatabaseIntoConstructorBeforeAllAndTests(TestDatabase database) {
        assertThat(database).isSameAs(fromConstructor).isSameAs(fromBeforeAll);
        assertThat(database.schema()).matches("t_postgresextensiontest_[a-z0-9]{6}");
        assertThat(database.queryForList("select current_schema() as schema")).containsExactly(Map.of("schema", database.schema()));
    }

    @Nested
    class WhenNested {

        @Test
        void sharesTheEnclosingClassesDatabase(TestDatabase database) {
            assertThat(database).isSameAs(fromBeforeAll);
        }
    }

    /** Runs sample classes through the JUnit engine, then looks at what they saw from outside. */
    @Nested
    class SampleClasses {

        @Test
        void givesEachClassItsOwnSchema_andDropsItAfterTheClass(TestDatabase database) {
            SCHEMAS_SEEN.clear();

            EngineExecutionResults results = EngineTestKit.engine("junit-jupiter")
                    .selectors(selectClass(FirstSample.class), selectClass(SecondSample.class),
                            selectClass(PerClassSample.class))
                    .execute();

            assertThat(results.allEvents().failed().list()).isEmpty();
            assertThat(results.testEvents().succeeded().count()).isEqualTo(4);
            assertThat(SCHEMAS_SEEN).containsOnlyKeys("first", "first.nested", "second", "perClass");
            assertThat(SCHEMAS_SEEN.get("first")).startsWith("t_firstsample_").isEqualTo(SCHEMAS_SEEN.get("first.nested"));
            assertThat(SCHEMAS_SEEN.get("second")).startsWith("t_secondsample_");
            assertThat(SCHEMAS_SEEN.get("perClass")).startsWith("t_perclasssample_");
            assertThat(database.queryForLong("select count(*) from pg_namespace where nspname = any(?)",
                    (Object) SCHEMAS_SEEN.values().toArray(String[]::new)))
                    .as("schemas left behind by %s", SCHEMAS_SEEN)
                    .isZero();
        }
    }

    private static final Map<String, String> SCHEMAS_SEEN = new ConcurrentHashMap<>();

    /** Records the schema it got, after checking that it exists and is the search_path. */
    private static void record(String key, TestDatabase database) {
        database.execute("create table if not exists marker (id int)");
        assertThat(database.queryForLong(
                "select count(*) from information_schema.tables where table_schema = ? and table_name = 'marker'",
                database.schema()))
                .isEqualTo(1);
        SCHEMAS_SEEN.put(key, database.schema());
    }

    @PostgresTest
    static class FirstSample {

        @Test
        void test(TestDatabase database) {
            record("first", database);
        }

        @Nested
        class Inner {

            @Test
            void test(TestDatabase database) {
                record("first.nested", database);
            }
        }
    }

    @PostgresTest
    static class SecondSample {

        @Test
        void test(TestDatabase database) {
            record("second", database);
        }
    }

    /** The instance is made before beforeAll here, so the constructor is the first to ask. */
    @PostgresTest
    @TestInstance(Lifecycle.PER_CLASS)
    static class PerClassSample {

        private final TestDatabase fromConstructor;

        PerClassSample(TestDatabase database) {
            this.fromConstructor = database;
        }

        @Test
        void test(TestDatabase database) {
            assertThat(database).isSameAs(fromConstructor);
            record("perClass", database);
        }
    }
}
