package dev.pgqueue.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgqueue.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 18's storage prototypes do what a claim/complete cycle needs, so that their benchmark
 * figures are for a queue and not for something that loses jobs: priority order, jobs due later
 * wait, a completion is fenced by its lease token after a retry, segments are truncated with no job
 * lost (a job whose enqueue commits late included), and a reader holding a segment makes the
 * truncation give up and retry instead of blocking. Each test in a database of its own.
 */
class PrototypeTest {

    private static final String ADMIN_URL = PostgresServer.shared().jdbcUrl();
    /** Short segments, so that rotation happens within a test. */
    private static final long SEGMENT_MILLIS = 50;

    private Server server;
    private Server.Fresh database;
    private final List<Connection> connections = new ArrayList<>();

    static Stream<Arguments> prototypes() {
        return Stream.of(Arguments.of("receipts", (LongFunction<SegmentRing>) ReceiptRingPrototype::new),
                Arguments.of("rotate", (LongFunction<SegmentRing>) RotatingPrototype::new));
    }

    @BeforeEach
    void freshDatabase() throws SQLException {
        server = Server.open(ADMIN_URL);
        database = server.fresh("prototype");
    }

    @AfterEach
    void drop() throws SQLException {
        for (Connection c : connections) {
            c.close();
        }
        database.close();
        server.close();
    }

    private Connection connect() throws SQLException {
        Connection c = Server.connect(database.url());
        connections.add(c);
        return c;
    }

    private SegmentRing create(LongFunction<SegmentRing> make) throws SQLException {
        SegmentRing p = make.apply(SEGMENT_MILLIS);
        p.create(connect());
        return p;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("prototypes")
    void claim_lowerPriorityFirst_laterJobsWait(String name, LongFunction<SegmentRing> make) throws Exception {
        SegmentRing p = create(make);
        Connection c = connect();
        p.enqueue(c, 3, 5, (short) 5, 0);
        p.enqueue(c, 2, 1, (short) 1, 0);
        p.enqueue(c, 1, 9, (short) 0, 3600);

        List<Prototype.Claimed> claimed = p.claim(c, 10);

        assertThat(claimed).extracting(Prototype.Claimed::stamp).containsExactly(1L, 1L, 5L, 5L, 5L);
        assertThat(p.unfinished(c)).isEqualTo(6);
        assertThat(p.complete(c, claimed)).isEqualTo(5);
        assertThat(p.claim(c, 10)).isEmpty();
        assertThat(p.unfinished(c)).isEqualTo(1); // the one due in an hour
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("prototypes")
    void retry_fencesTheOldLease_nextAttemptRunsOnce(String name, LongFunction<SegmentRing> make) throws Exception {
        SegmentRing p = create(make);
        Connection c = connect();
        p.enqueue(c, 1, 7, (short) 0, 0);
        Prototype.Claimed first = p.claim(c, 10).get(0);

        assertThat(p.retry(c, first, 0)).isTrue();
        assertThat(p.complete(c, List.of(first))).isZero(); // fenced: this lease is closed
        assertThat(p.retry(c, first, 0)).isFalse();
        List<Prototype.Claimed> second = p.claim(c, 10);
        assertThat(second).hasSize(1);
        assertThat(second.get(0).stamp()).isEqualTo(7);
        assertThat(p.complete(c, second)).isEqualTo(1);
        assertThat(p.complete(c, second)).isZero();
        assertThat(p.unfinished(c)).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("prototypes")
    void rotation_truncatesSegments_noJobLost_evenOneWhoseEnqueueCommitsLate(String name, LongFunction<SegmentRing> make)
            throws Exception {
        SegmentRing p = create(make);
        Connection c = connect();
        Connection maintenance = connect();
        Connection late = connect();
        late.setAutoCommit(false);
        p.enqueue(late, 1, -1, (short) 0, 0); // takes an id now, commits after younger jobs were claimed
        int completed = 0;
        int enqueued = 1;
        for (int round = 0; round < 40; round++) {
            p.enqueue(c, 25, round, (short) 0, 0);
            enqueued += 25;
            List<Prototype.Claimed> claimed = p.claim(c, 20);
            completed += p.complete(c, claimed);
            if (round == 10) {
                late.commit();
            }
            Thread.sleep(SEGMENT_MILLIS / 2);
            p.maintain(maintenance);
        }
        for (int round = 0; round < 200 && completed < enqueued; round++) {
            completed += p.complete(c, p.claim(c, 100));
            p.maintain(maintenance);
            Thread.sleep(SEGMENT_MILLIS / 5);
        }
        // the late job held its segment (and so the ring) until it was found and closed; now the ring wraps
        for (int round = 0; round < 40; round++) {
            p.enqueue(c, 25, round, (short) 0, 0);
            enqueued += 25;
            completed += p.complete(c, p.claim(c, 100));
            Thread.sleep(SEGMENT_MILLIS / 2);
            p.maintain(maintenance);
        }
        completed += p.complete(c, p.claim(c, 1000));

        assertThat(completed).isEqualTo(enqueued);
        assertThat(p.unfinished(c)).isZero();
        assertThat(p.rotations.get()).isGreaterThan(SegmentRing.SEGMENTS);
        assertThat(p.truncations.get()).isGreaterThan(0);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("prototypes")
    void truncation_readerHoldsTheSegment_givesUpAndRetriesLater(String name, LongFunction<SegmentRing> make)
            throws Exception {
        SegmentRing p = create(make);
        Connection c = connect();
        Connection maintenance = connect();
        p.enqueue(c, 10, 1, (short) 0, 0);
        assertThat(p.complete(c, p.claim(c, 10))).isEqualTo(10);
        String segment0 = p.ringTables.get(0) + "_0";
        Connection reader = connect();
        reader.setAutoCommit(false);
        try (Statement st = reader.createStatement()) {
            st.executeQuery("SELECT count(*) FROM " + segment0).close(); // holds ACCESS SHARE until it ends
        }

        long start = System.nanoTime();
        for (int i = 0; i < 10; i++) {
            Thread.sleep(SEGMENT_MILLIS);
            p.maintain(maintenance);
        }

        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5_000);
        assertThat(p.lockTimeouts.get()).isGreaterThan(0);
        assertThat(p.empty[0][0]).isFalse();
        reader.rollback();
        for (int i = 0; i < 5 && !p.empty[0][0]; i++) {
            p.maintain(maintenance);
        }
        assertThat(p.empty[0][0]).isTrue();
        p.enqueue(c, 1, 2, (short) 0, 0);
        assertThat(p.complete(c, p.claim(c, 10))).isEqualTo(1);
    }
}
