package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgqueue.internal.UuidV7;
import dev.pgqueue.spi.JobStore.ClaimParams;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.InsertParams;
import dev.pgqueue.spi.JobStore.NewJob;
import dev.pgqueue.spi.JobStore.NextDueParams;
import dev.pgqueue.spi.JobStore.PolicyParams;
import dev.pgqueue.spi.JobStore.QueuePolicy;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A claim that comes back with fewer jobs than asked also says when the queue's next job is due, so
 * that the worker's fetcher, which asks {@code jobNextDue} right after such a claim to know how long to
 * sleep, needs no second round trip (nor a second connection from the pool).
 */
@PostgresTest
class ClaimNextDueTest {

    private final TestDatabase db;
    private final AtomicInteger borrowed = new AtomicInteger();
    private final JdbiJobStore store;

    ClaimNextDueTest(TestDatabase db) {
        this.db = db;
        DataSource counting = (DataSource) Proxy.newProxyInstance(DataSource.class.getClassLoader(),
                new Class<?>[] {DataSource.class}, (proxy, method, args) -> {
                    if (method.getName().equals("getConnection")) {
                        borrowed.incrementAndGet();
                    }
                    try {
                        return method.invoke(db.dataSource(), args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        this.store = JdbiJobStore.builder(Jdbi.create(counting)).schema(db.schema()).build();
    }

    @BeforeEach
    void cleanSlate() {
        db.execute("DELETE FROM job_queue");
    }

    @Test
    void aShortClaim_answersTheNextDueTime_withoutAnotherRoundTrip() {
        NewJob now = NewJob.builder(UuidV7.next(), "blob", "{}").build();
        NewJob later = NewJob.builder(UuidV7.next(), "blob", "{}").runAt(Instant.now().plus(Duration.ofHours(1))).build();
        store.jobInsertMany(new InsertParams(List.of(now, later), null));

        assertThat(claim(10)).extracting(ClaimedJob::id).containsExactly(now.id());
        int afterClaim = borrowed.get();
        Optional<Duration> due = store.jobNextDue(new NextDueParams("default", Set.of("blob"), null));

        assertThat(borrowed.get()).as("connections borrowed by jobNextDue").isEqualTo(afterClaim);
        assertThat(due).hasValueSatisfying(d -> assertThat(d).isBetween(Duration.ofMinutes(59), Duration.ofHours(1)));
        // Asked again, with no claim in between: the database answers, the same.
        assertThat(store.jobNextDue(new NextDueParams("default", Set.of("blob"), null)))
                .hasValueSatisfying(d -> assertThat(d).isBetween(Duration.ofMinutes(59), Duration.ofHours(1)));
        assertThat(borrowed.get()).isEqualTo(afterClaim + 1);
    }

    /**
     * A limited claim runs at the database's time its limits' room was counted at: its answer serves a
     * worker that asks on the database's clock, as an unlimited claim's does (before, every short limited
     * claim was followed by next-due.sql, a walk of the claim index from its front).
     */
    @Test
    void aShortLimitedClaim_answersTheNextDueTime_withoutAnotherRoundTrip() {
        store.policyPutMany(new PolicyParams(List.of(new QueuePolicy("limited", "*", 100, null, null, false))));
        NewJob now = NewJob.builder(UuidV7.next(), "blob", "{}").queue("limited").build();
        NewJob later = NewJob.builder(UuidV7.next(), "blob", "{}").queue("limited").runAt(Instant.now().plus(Duration.ofHours(1))).build();
        store.jobInsertMany(new InsertParams(List.of(now, later), null));

        assertThat(claim("limited", 10)).extracting(ClaimedJob::id).containsExactly(now.id());
        int afterClaim = borrowed.get();
        Optional<Duration> due = store.jobNextDue(new NextDueParams("limited", Set.of("blob"), null));

        assertThat(borrowed.get()).as("connections borrowed by jobNextDue").isEqualTo(afterClaim);
        assertThat(due).hasValueSatisfying(d -> assertThat(d).isBetween(Duration.ofMinutes(59), Duration.ofHours(1)));
        assertThat(claim("limited", 10)).isEmpty();
        assertThat(store.jobNextDue(new NextDueParams("limited", Set.of("blob", "other"), null))).isPresent();
        assertThat(borrowed.get()).as("other types: the database answers").isEqualTo(afterClaim + 2);
    }

    /**
     * A claim held back by a limit, with due jobs left behind it, leaves a hint to look again when the
     * limit frees up; for the same types that is the answer, whatever becomes due before: nothing more can
     * be claimed. No next-due.sql, which would walk every due job of the queue to find the first not due.
     */
    @Test
    void aLimitedClaimHeldBack_answersWithItsHint_withoutAnotherRoundTrip() {
        store.policyPutMany(new PolicyParams(List.of(new QueuePolicy("held", "*", 1, null, null, false))));
        List<NewJob> jobs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            jobs.add(NewJob.builder(UuidV7.next(), "blob", "{}").queue("held").build());
        }
        jobs.add(NewJob.builder(UuidV7.next(), "blob", "{}").queue("held").runAt(Instant.now().plusMillis(20)).build());
        store.jobInsertMany(new InsertParams(jobs, null));

        long before = System.nanoTime();
        assertThat(claim("held", 10)).hasSize(1);
        int afterClaim = borrowed.get();
        Optional<Duration> hint = store.jobNextDue(new NextDueParams("held", Set.of("blob"), null));
        if (System.nanoTime() - before < QueuePolicies.LIMITED_RETRY.toNanos()) { // else the hint has passed (a stalled machine)
            assertThat(borrowed.get()).as("connections borrowed by jobNextDue").isEqualTo(afterClaim);
            assertThat(hint).hasValueSatisfying(d -> assertThat(d).isPositive().isLessThanOrEqualTo(QueuePolicies.LIMITED_RETRY));
        }
        int beforeOtherTypes = borrowed.get();
        store.jobNextDue(new NextDueParams("held", Set.of("blob", "other"), null));
        assertThat(borrowed.get()).as("other types: the database answers").isEqualTo(beforeOtherTypes + 1);
    }

    /**
     * Held back by two limits at once, a claim's hint is the one that frees up first: a full hour-long rate
     * window of one type (first in name order, as the limits are claimed) must not keep a worker from the
     * other type, whose concurrency limit is polled.
     */
    @Test
    void aClaimHeldBackByTwoLimits_hintsAtTheFirstToFreeUp() {
        store.policyPutMany(new PolicyParams(List.of(new QueuePolicy("two", "hourly", null, 1, Duration.ofHours(1), false),
                new QueuePolicy("two", "polled", 1, null, null, false))));
        List<NewJob> jobs = new ArrayList<>();
        for (String type : List.of("hourly", "hourly", "polled", "polled")) {
            jobs.add(NewJob.builder(UuidV7.next(), type, "{}").queue("two").build());
        }
        store.jobInsertMany(new InsertParams(jobs, null));
        Set<String> types = Set.of("hourly", "polled");
        assertThat(store.jobClaim(new ClaimParams("two", types, 10, "w", UUID.randomUUID(), Duration.ofMinutes(5), null)))
                .extracting(ClaimedJob::type).containsExactlyInAnyOrder("hourly", "polled");

        assertThat(store.jobClaim(new ClaimParams("two", types, 10, "w", UUID.randomUUID(), Duration.ofMinutes(5), null)))
                .as("the rate window is full for an hour; the one polled job still runs").isEmpty();
        Optional<Duration> hint = store.jobNextDue(new NextDueParams("two", types, null));
        // Empty once the hint has passed (on a stalled machine): then nothing is due later either.
        assertThat(hint.orElse(Duration.ZERO)).as("the concurrency limit's poll, not the rate window's hour")
                .isLessThanOrEqualTo(QueuePolicies.LIMITED_RETRY);
    }

    @Test
    void aClaimThatTakesNoJob_answersToo_alsoThatNothingWaits() {
        assertThat(claim(10)).isEmpty();
        int afterClaim = borrowed.get();

        assertThat(store.jobNextDue(new NextDueParams("default", Set.of("blob"), null))).isEmpty();
        assertThat(borrowed.get()).isEqualTo(afterClaim);
    }

    @Test
    void aFullClaim_orOtherTypes_leaveTheQuestionToTheDatabase() {
        NewJob now = NewJob.builder(UuidV7.next(), "blob", "{}").build();
        NewJob later = NewJob.builder(UuidV7.next(), "blob", "{}").runAt(Instant.now().plus(Duration.ofHours(1))).build();
        store.jobInsertMany(new InsertParams(List.of(now, later), null));

        assertThat(claim(1)).hasSize(1); // full: more may be due, so it did not ask
        int afterClaim = borrowed.get();
        assertThat(store.jobNextDue(new NextDueParams("default", Set.of("blob"), null))).isPresent();
        assertThat(borrowed.get()).isEqualTo(afterClaim + 1);

        assertThat(claim(10)).isEmpty();
        assertThat(store.jobNextDue(new NextDueParams("default", Set.of("blob", "other"), null))).isPresent();
        assertThat(borrowed.get()).isEqualTo(afterClaim + 3); // the claim, and the other types' question
    }

    /**
     * claim.sql computes the next due time with a copy of next-due.sql's query; both must answer the
     * same for the same rows and clock, whatever else the table holds.
     */
    @Test
    void theClaimsAnswer_isNextDueSqlsAnswer() {
        Instant now = Instant.parse("2030-01-01T00:00:00Z");
        JdbiJobStore database = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
        NewJob laterBlob = job("blob", "default", now.plusSeconds(5));
        NewJob soonerOther = job("other", "default", now.plusSeconds(2));
        NewJob soonestElsewhere = job("blob", "elsewhere", now.plusSeconds(1));
        NewJob soonerButFinished = job("blob", "default", now.plusMillis(1_500));
        NewJob soonerButRunning = job("blob", "default", now.plusMillis(2_500));
        store.jobInsertMany(new InsertParams(List.of(job("blob", "default", now.minusSeconds(1)),
                job("blob", "default", now), laterBlob, soonerOther, soonestElsewhere, soonerButFinished,
                soonerButRunning), null));
        db.execute("UPDATE job_queue SET status = 'completed' WHERE id = '" + soonerButFinished.id() + "'");
        db.execute("UPDATE job_queue SET status = 'processing' WHERE id = '" + soonerButRunning.id() + "'");

        for (Set<String> types : List.of(Set.of("blob"), Set.of("blob", "other"), Set.of("other"), Set.of("none"))) {
            assertThat(claimAt(types, now)).allSatisfy(j -> assertThat(j.runAt()).isBeforeOrEqualTo(now));
            int afterClaim = borrowed.get();
            Optional<Duration> claims = store.jobNextDue(new NextDueParams("default", types, now));
            assertThat(borrowed.get()).as("answered by the claim, not by next-due.sql").isEqualTo(afterClaim);
            Optional<Duration> nextDueSql = database.jobNextDue(new NextDueParams("default", types, now));

            assertThat(claims).as("the claim's answer for %s", types).isEqualTo(nextDueSql);
        }
        assertThat(database.jobNextDue(new NextDueParams("default", Set.of("blob"), now))).contains(Duration.ofSeconds(5));
        assertThat(database.jobNextDue(new NextDueParams("default", Set.of("blob", "other"), now))).contains(Duration.ofSeconds(2));
        assertThat(database.jobNextDue(new NextDueParams("default", Set.of("none"), now))).isEmpty();
    }

    /**
     * The answer belongs to the claim's snapshot, so only the thread that claimed gets it: a worker's
     * fetcher must not sleep on what another worker's earlier claim of the same queue saw.
     */
    @Test
    void aClaimsAnswer_goesToTheThreadThatClaimed_only() throws Exception {
        store.jobInsertMany(new InsertParams(List.of(
                NewJob.builder(UuidV7.next(), "blob", "{}").runAt(Instant.now().plus(Duration.ofHours(1))).build()), null));
        NextDueParams question = new NextDueParams("default", Set.of("blob"), null);

        assertThat(claim(10)).isEmpty();
        onNewThread(() -> {
            assertThat(claim(10)).isEmpty();
            int before = borrowed.get();
            assertThat(store.jobNextDue(question)).isPresent();
            assertThat(borrowed.get()).as("the other thread's own answer").isEqualTo(before);
        });
        int afterClaims = borrowed.get();

        assertThat(store.jobNextDue(question)).isPresent();
        assertThat(borrowed.get()).as("this thread's own answer, still there").isEqualTo(afterClaims);
        onNewThread(() -> assertThat(store.jobNextDue(question)).isPresent());
        assertThat(borrowed.get()).as("a thread that claimed nothing asks the database").isEqualTo(afterClaims + 1);
    }

    /** Runs {@code body} on a thread of its own and waits for it; its failure fails the caller. */
    private static void onNewThread(Runnable body) throws Exception {
        FutureTask<Void> task = new FutureTask<>(body, null);
        new Thread(task).start();
        try {
            task.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw e;
        }
    }

    private static NewJob job(String type, String queue, Instant runAt) {
        return NewJob.builder(UuidV7.next(), type, "{}").queue(queue).runAt(runAt).build();
    }

    private List<ClaimedJob> claimAt(Set<String> types, Instant now) {
        return store.jobClaim(new ClaimParams("default", types, 10, "w", UUID.randomUUID(), Duration.ofMinutes(5), now));
    }

    private List<ClaimedJob> claim(int limit) {
        return claim("default", limit);
    }

    private List<ClaimedJob> claim(String queue, int limit) {
        return store.jobClaim(new ClaimParams(queue, Set.of("blob"), limit, "w", UUID.randomUUID(),
                Duration.ofMinutes(5), null));
    }
}
