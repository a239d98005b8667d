package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgqueue.jdbi.JobStatements.ClaimFrom;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class NamedSqlTest {

    @Nested
    class Names {

        @Test
        void become_question_marks_numbered_in_order() {
            NamedSql sql = NamedSql.parse("SELECT CAST(:queue AS text), CAST(:limit AS int)");

            assertThat(sql.jdbc()).isEqualTo("SELECT CAST(? AS text), CAST(? AS int)");
            assertThat(sql.names()).containsExactly("queue", "limit");
            assertThat(sql.positions("queue")).containsExactly(1);
            assertThat(sql.positions("limit")).containsExactly(2);
        }

        @Test
        void repeated_name_is_bound_at_every_place() {
            NamedSql sql = NamedSql.parse("SELECT :now, :id, :now, :id_2, :now");

            assertThat(sql.jdbc()).isEqualTo("SELECT ?, ?, ?, ?, ?");
            assertThat(sql.positions("now")).containsExactly(1, 3, 5);
            assertThat(sql.positions("id")).containsExactly(2);
            assertThat(sql.positions("id_2")).containsExactly(4);
        }

        @Test
        void unknown_name_is_rejected() {
            NamedSql sql = NamedSql.parse("SELECT :a");

            assertThatThrownBy(() -> sql.positions("b")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(":b");
        }

        @Test
        void mixing_with_question_marks_is_rejected() {
            assertThatThrownBy(() -> NamedSql.parse("SELECT ?, :a")).isInstanceOf(IllegalArgumentException.class);
        }

        @Test
        void plain_question_marks_alone_pass_through() {
            NamedSql sql = NamedSql.parse("SELECT ?, ?");

            assertThat(sql.jdbc()).isEqualTo("SELECT ?, ?");
            assertThat(sql.names()).isEmpty();
        }
    }

    @Nested
    class NotParameters {

        @Test
        void double_colon_casts() {
            NamedSql sql = NamedSql.parse("SELECT '{a,b}'::text[], x::int, :p::bigint");

            assertThat(sql.jdbc()).isEqualTo("SELECT '{a,b}'::text[], x::int, ?::bigint");
            assertThat(sql.names()).containsExactly("p");
        }

        @Test
        void string_literals_with_doubled_quotes() {
            NamedSql sql = NamedSql.parse("SELECT ':no', 'it''s :no', :yes, E'\\' :no', 'x'");

            assertThat(sql.jdbc()).isEqualTo("SELECT ':no', 'it''s :no', ?, E'\\' :no', 'x'");
            assertThat(sql.names()).containsExactly("yes");
        }

        @Test
        void quoted_identifiers() {
            NamedSql sql = NamedSql.parse("SELECT \":no\", \"a\"\":no\" FROM \"my schema\".t WHERE c = :yes");

            assertThat(sql.jdbc()).isEqualTo("SELECT \":no\", \"a\"\":no\" FROM \"my schema\".t WHERE c = ?");
            assertThat(sql.names()).containsExactly("yes");
        }

        @Test
        void comments() {
            NamedSql sql = NamedSql.parse("-- Parameters: :no, it's ?\nSELECT :yes /* :no ' */ -- :no\n, :also");

            assertThat(sql.jdbc()).isEqualTo("-- Parameters: :no, it's ?\nSELECT ? /* :no ' */ -- :no\n, ?");
            assertThat(sql.names()).containsExactly("yes", "also");
        }

        @Test
        void dollar_quotes() {
            NamedSql sql = NamedSql.parse("SELECT $$ :no $$, $f$ :no $$ $f$, :yes");

            assertThat(sql.jdbc()).isEqualTo("SELECT $$ :no $$, $f$ :no $$ $f$, ?");
            assertThat(sql.names()).containsExactly("yes");
        }

        @Test
        void schema_placeholder_and_quoted_schema() {
            assertThat(NamedSql.parse("INSERT INTO {schema}.job_queue VALUES (:id)").jdbc())
                    .isEqualTo("INSERT INTO {schema}.job_queue VALUES (?)");
            assertThat(NamedSql.parse("INSERT INTO \"s:x\".job_queue VALUES (:id)").jdbc())
                    .isEqualTo("INSERT INTO \"s:x\".job_queue VALUES (?)");
        }

        @Test
        void lone_colon() {
            assertThat(NamedSql.parse("SELECT a[1 : 2], :b").jdbc()).isEqualTo("SELECT a[1 : 2], ?");
        }
    }

    @Test
    void store_statements_parse_to_their_parameter_counts() {
        NamedSql insertFull = SqlFiles.loadNamed("insert-full", "s");

        assertThat(insertFull.jdbc()).doesNotContain("CAST(:").contains("CAST(? AS timestamptz)")
                .contains("'{pending,processing}'::text[]").contains("Parameters: :now"); // comments kept as written
        assertThat(insertFull.jdbc().chars().filter(ch -> ch == '?').count()).isEqualTo(20);
        assertThat(insertFull.names()).hasSize(20); // with V8's trace context
        assertThat(JobStatements.claimStatement("s", ClaimFrom.FRONT).names()).hasSize(8);
        assertThat(JobStatements.claimStatement("s", ClaimFrom.FRONT).jdbc()).doesNotContain("{floor}").doesNotContain("{next_due_floor}");
        assertThat(JobStatements.claimStatement("s", ClaimFrom.PAST_FLOOR).names()).hasSize(11);
        assertThat(JobStatements.claimStatement("s", ClaimFrom.PAST_FLOOR).positions("floor_id")).hasSize(2); // the claim's and the next-due's
        assertThat(JobStatements.claimStatement("s", ClaimFrom.FOUND).names()).hasSize(9);
        assertThat(JobStatements.claimStatement("s", ClaimFrom.FOUND).jdbc()).doesNotContain("{floor}").doesNotContain("{next_due_floor}");
        assertThat(QueuePolicies.claimFairStatement("s", false).names()).hasSize(9).contains("cursor");
        assertThat(QueuePolicies.claimFairStatement("s", true).names()).hasSize(12).doesNotContain("cursor")
                .contains("keys", "floor_priorities", "floor_run_ats", "floor_ids");

        NamedSql list = SqlFiles.loadNamed("list", "s"); // each filter array is read twice
        assertThat(list.positions("types")).containsExactly(1, 2);
        assertThat(list.positions("statuses")).containsExactly(3, 4);
        assertThat(list.positions("limit")).containsExactly(7);
    }
}
