package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.UUID;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A store warns when it is built if roles it cannot trust may create objects in its schema, as
 * PostgreSQL 14 lets PUBLIC do in the schema public (reproduced here with {@code GRANT CREATE ...
 * TO PUBLIC}, this server being newer). The warning is captured from slf4j-simple's stderr.
 */
@PostgresTest
class SchemaCreatorsWarningTest {

    private final TestDatabase db;
    private final String creator = "pgq_creator_" + UUID.randomUUID().toString().substring(0, 8).toLowerCase(Locale.ROOT);
    private boolean roleCreated;

    SchemaCreatorsWarningTest(TestDatabase db) {
        this.db = db;
    }

    @AfterEach
    void revoke() {
        db.execute("REVOKE CREATE ON SCHEMA " + db.schema() + " FROM PUBLIC");
        if (roleCreated) {
            db.execute("DROP OWNED BY " + creator + " CASCADE");
            db.execute("DROP ROLE " + creator);
        }
    }

    /** What building a store on the test schema logs. */
    private String logOfBuild() {
        ByteArrayOutputStream logged = new ByteArrayOutputStream();
        PrintStream stderr = System.err;
        System.setErr(new PrintStream(new Tee(stderr, logged), true, StandardCharsets.UTF_8));
        try {
            JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
        } finally {
            System.setErr(stderr);
        }
        return logged.toString(StandardCharsets.UTF_8);
    }

    private int warnings(String log) {
        return (int) Pattern.compile(Pattern.quote("schema " + db.schema() + " lets ")).matcher(log).results().count();
    }

    @Test
    void build_warnsOnce_whenPublicMayCreateInTheSchema() {
        db.execute("GRANT CREATE ON SCHEMA " + db.schema() + " TO PUBLIC");

        String log = logOfBuild();

        assertThat(warnings(log)).as(log).isEqualTo(1);
        assertThat(log).contains("WARN").contains("schema " + db.schema() + " lets PUBLIC create objects in it")
                .contains("REVOKE CREATE ON SCHEMA \"" + db.schema() + "\" FROM PUBLIC;");
    }

    @Test
    void build_namesEachUntrustedRoleThatMayCreate() {
        db.execute("CREATE ROLE " + creator + " NOLOGIN");
        roleCreated = true;
        db.execute("GRANT CREATE ON SCHEMA " + db.schema() + " TO " + creator);
        db.execute("GRANT CREATE ON SCHEMA " + db.schema() + " TO PUBLIC");

        assertThat(logOfBuild()).contains("schema " + db.schema() + " lets PUBLIC, " + creator + " create objects in it");
    }

    @Test
    void build_staysQuiet_whenOnlyTheOwnerAndSuperusersMayCreate() {
        db.execute("GRANT CREATE ON SCHEMA " + db.schema() + " TO postgres");

        assertThat(warnings(logOfBuild())).isZero();
    }

    private static final class Tee extends OutputStream {
        private final OutputStream first;
        private final OutputStream second;

        Tee(OutputStream first, OutputStream second) {
            this.first = first;
            this.second = second;
        }

        @Override
        public synchronized void write(int b) throws java.io.IOException {
            first.write(b);
            second.write(b);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) throws java.io.IOException {
            first.write(b, off, len);
            second.write(b, off, len);
        }
    }
}
