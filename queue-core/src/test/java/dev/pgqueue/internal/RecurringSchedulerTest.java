package dev.pgqueue.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.EnqueueResult;
import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobStatus;
import dev.pgqueue.Schedule;
import dev.pgqueue.StoreException;
import dev.pgqueue.spi.JobStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The scheduler's windows, against an in-memory store that keeps dedupe keys the way the database does. */
class RecurringSchedulerTest {

    /** Holds keys forever (every status), fails on demand; the rest of the SPI is not needed here. */
    static final class KeyStore implements JobStore {
        final Map<String, UUID> keys = new LinkedHashMap<>();
        final List<List<String>> inserts = new ArrayList<>();
        boolean failing;

        @Override
        public synchronized List<EnqueueResult> jobInsertMany(InsertParams params) {
            if (failing) {
                throw new StoreException("database away");
            }
            List<EnqueueResult> results = new ArrayList<>();
            List<String> batch = new ArrayList<>();
            for (NewJob job : params.jobs()) {
                assertThat(job.uniqueStates()).containsExactlyInAnyOrder(JobStatus.values());
                String key = job.type() + "|" + job.dedupeKey();
                batch.add(job.dedupeKey());
                UUID held = keys.putIfAbsent(key, job.id());
                results.add(held == null ? EnqueueResult.inserted(job.id()) : EnqueueResult.duplicateOf(held));
            }
            inserts.add(batch);
            return results;
        }

        @Override
        public synchronized Optional<String> jobLatestDedupeKey(LatestDedupeKeyParams params) {
            if (failing) {
                throw new StoreException("database away");
            }
            return keys.keySet().stream()
                    .filter(k -> k.startsWith(params.type() + "|" + params.prefix()))
                    .map(k -> k.substring(params.type().length() + 1))
                    .filter(k -> params.atMost() == null || k.compareTo(params.atMost()) <= 0)
                    .max(String::compareTo);
        }

        synchronized List<String> keysOf(String name) {
            return keys.keySet().stream().map(k -> k.substring(k.indexOf('|') + 1))
                    .filter(k -> k.startsWith("recurring:" + name + "@")).sorted().toList();
        }

        // Not used by the scheduler.
        @Override public List<ClaimedJob> jobClaim(ClaimParams p) { throw new UnsupportedOperationException(); }
        @Override public List<FinishedJob> jobFinishMany(FinishParams p) { throw new UnsupportedOperationException(); }
        @Override public List<LeaseStatus> jobExtendLeaseMany(ExtendLeaseParams p) { throw new UnsupportedOperationException(); }
        @Override public List<RescuedJob> jobRescue(RescueParams p) { throw new UnsupportedOperationException(); }
        @Override public CancelResult jobCancel(CancelParams p) { throw new UnsupportedOperationException(); }
        @Override public int jobPrune(PruneParams p) { throw new UnsupportedOperationException(); }
        @Override public Optional<JobSnapshot> jobGet(UUID id) { throw new UnsupportedOperationException(); }
        @Override public List<JobSnapshot> jobDependencies(UUID id) { throw new UnsupportedOperationException(); }
        @Override public List<JobSnapshot> jobList(ListParams p) { throw new UnsupportedOperationException(); }
        @Override public Optional<ClaimedJob> jobClaimById(ClaimByIdParams p) { throw new UnsupportedOperationException(); }
        @Override public void policyPutMany(PolicyParams p) { throw new UnsupportedOperationException(); }
        @Override public List<QueuePolicy> policyList() { throw new UnsupportedOperationException(); }
        @Override public List<UUID> jobProgressMany(ProgressParams p) { throw new UnsupportedOperationException(); }
        @Override public Optional<Duration> jobNextDue(NextDueParams p) { throw new UnsupportedOperationException(); }
        @Override public Subscription subscribe(StoreListener l) { throw new UnsupportedOperationException(); }
    }

    static final class MovableClock extends Clock {
        final AtomicReference<Instant> now;

        MovableClock(String start) {
            now = new AtomicReference<>(Instant.parse(start));
        }

        void set(String instant) {
            now.set(Instant.parse(instant));
        }

        @Override public Instant instant() { return now.get(); }
        @Override public ZoneOffset getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(java.time.ZoneId zone) { throw new UnsupportedOperationException(); }
    }

    private final KeyStore store = new KeyStore();
    private final MovableClock clock = new MovableClock("2030-01-01T00:00:30Z");

    private RecurringScheduler scheduler(String name, Schedule schedule) {
        RecurringJob job = new RecurringJob(name, "tick", "{}", EnqueueOptions.defaults(), schedule);
        return new RecurringScheduler(store, List.of(job), clock, Duration.ofSeconds(2));
    }

    private static String key(String name, String tick) {
        return "recurring:" + name + "@" + tick;
    }

    @Nested
    class ForgedKeys {

        @Test
        void aTickFarInTheFuture_isIgnored_andTheRealLatestTickBelowItDecidesTheCatchUp() {
            store.keys.put("tick|" + key("m", "2030-01-01T00:00:00Z"), UUID.randomUUID());
            store.keys.put("tick|" + key("m", "9999-01-01T00:00:00Z"), UUID.randomUUID());
            clock.set("2030-01-01T00:02:30Z");
            RecurringScheduler scheduler = scheduler("m", Schedule.every(Duration.ofMinutes(1)));

            scheduler.round();
            clock.set("2030-01-01T00:03:01Z");
            scheduler.round();

            assertThat(store.keysOf("m")).containsExactly(key("m", "2030-01-01T00:00:00Z"), key("m", "2030-01-01T00:02:00Z"),
                    key("m", "2030-01-01T00:03:00Z"), key("m", "9999-01-01T00:00:00Z"));
        }

        @Test
        void aKeyIsQuotedInALogLine_cutShort_withControlCharactersAndQuotesEscaped() {
            assertThat(RecurringScheduler.loggable("recurring:m@x\nERROR \"forged\"\u2028"))
                    .isEqualTo("\"recurring:m@x\\u000AERROR \\u0022forged\\u0022\\u2028\"");
            assertThat(RecurringScheduler.loggable("k".repeat(255))).isEqualTo("\"" + "k".repeat(80) + "\"… (255 chars)");
        }
    }

    @Nested
    class SteadyState {

        @Test
        void eachTickIsEnqueuedOnce_aheadOfItsTime_byTheFirstRoundWhoseLookaheadReachesIt() {
            RecurringScheduler scheduler = scheduler("m", Schedule.every(Duration.ofMinutes(1)));
            scheduler.round();
            assertThat(store.keys).isEmpty();

            clock.set("2030-01-01T00:00:58.500Z");
            scheduler.round();
            clock.set("2030-01-01T00:00:59.500Z");
            scheduler.round();
            clock.set("2030-01-01T00:01:01Z");
            scheduler.round();

            assertThat(store.keysOf("m")).containsExactly(key("m", "2030-01-01T00:01:00Z"));
            assertThat(store.inserts).hasSize(1);
        }

        @Test
        void aFailedRound_isRetriedWithTheSameTicks_soNoTickIsLostWhileTheWorkerRuns() {
            RecurringScheduler scheduler = scheduler("m", Schedule.every(Duration.ofMinutes(1)).skipMissed());
            scheduler.round();
            store.failing = true;
            clock.set("2030-01-01T00:01:30Z");
            assertThatThrownBy(scheduler::enqueueDueTicks).isInstanceOf(StoreException.class);
            clock.set("2030-01-01T00:02:30Z");
            scheduler.round();   // logged, not thrown
            store.failing = false;

            clock.set("2030-01-01T00:03:30Z");
            scheduler.round();

            assertThat(store.keysOf("m")).containsExactly(
                    key("m", "2030-01-01T00:01:00Z"), key("m", "2030-01-01T00:02:00Z"), key("m", "2030-01-01T00:03:00Z"));
        }

        @Test
        void aLongJump_isPaced_atMostAHundredTicksPerRound_withoutSkippingAny() {
            RecurringScheduler scheduler = scheduler("s", Schedule.every(Duration.ofSeconds(1)));
            scheduler.round();
            clock.set("2030-01-01T00:05:30Z");   // 300 ticks later

            for (int round = 0; round < 3; round++) {
                scheduler.round();
            }

            assertThat(store.inserts).as("the start's look-ahead, then the paced rounds")
                    .extracting(List::size).containsExactly(2, 100, 100, 100);
            assertThat(store.keysOf("s")).hasSize(302).first().isEqualTo(key("s", "2030-01-01T00:00:31Z"));
        }
    }

    @Nested
    class FirstRound {

        @Test
        void aNewSchedule_startsWithTheNextTick() {
            clock.set("2030-01-01T10:00:00.500Z");
            scheduler("new", Schedule.every(Duration.ofHours(1)).catchUp(5)).round();
            assertThat(store.keys).isEmpty();
        }

        @Test
        void missedTicks_newestUpToTheCap_afterTheLatestEnqueued() {
            RecurringScheduler before = scheduler("m", Schedule.every(Duration.ofMinutes(1)));
            before.round();
            clock.set("2030-01-01T00:01:30Z");
            before.round();
            clock.set("2030-01-02T00:00:30Z");   // a day of downtime: 1439 ticks missed

            scheduler("m", Schedule.every(Duration.ofMinutes(1)).catchUp(3)).round();

            assertThat(store.keysOf("m")).containsExactly(key("m", "2030-01-01T00:01:00Z"),
                    key("m", "2030-01-01T23:58:00Z"), key("m", "2030-01-01T23:59:00Z"), key("m", "2030-01-02T00:00:00Z"));
        }

        @Test
        void aYearOfDowntimeOnAOneSecondSchedule_costsOnlyTheCap() {
            scheduler("s", Schedule.every(Duration.ofSeconds(1))).round();
            clock.set("2030-01-01T00:00:31.500Z");
            scheduler("s", Schedule.every(Duration.ofSeconds(1))).round();   // enqueues 00:00:31 as missed
            clock.set("2031-01-01T00:00:00Z");

            long started = System.nanoTime();
            scheduler("s", Schedule.cron("* * * * *", "UTC").catchUp(2)).round();

            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(2));
            assertThat(store.keysOf("s")).endsWith(key("s", "2030-12-31T23:59:00Z"), key("s", "2031-01-01T00:00:00Z"));
        }

        @Test
        void aTickEnqueuedAheadByAnotherWorker_isNotMissed() {
            scheduler("m", Schedule.every(Duration.ofMinutes(1))).round();
            clock.set("2030-01-01T00:00:59Z");
            scheduler("m", Schedule.every(Duration.ofMinutes(1))).round();   // enqueues 00:01 ahead
            assertThat(store.keysOf("m")).containsExactly(key("m", "2030-01-01T00:01:00Z"));

            scheduler("m", Schedule.every(Duration.ofMinutes(1)).catchUp(10)).round();

            assertThat(store.keysOf("m")).containsExactly(key("m", "2030-01-01T00:01:00Z"));
        }
    }

    @Test
    void newest_agreesWithTheForwardWalk_acrossDaylightSavingChanges() {
        Schedule halfHourly = Schedule.cron("*/30 * * * *", "Europe/Berlin");
        Instant after = Instant.parse("2030-10-26T22:00:00Z");
        Instant upTo = Instant.parse("2030-10-27T03:00:00Z");

        List<Instant> all = RecurringScheduler.between(halfHourly, after, upTo, 1_000);

        assertThat(RecurringScheduler.newest(halfHourly, after, upTo, 4)).containsExactlyElementsOf(all.subList(all.size() - 4, all.size()));
        assertThat(RecurringScheduler.newest(halfHourly, after, upTo, 1_000)).containsExactlyElementsOf(all);
        assertThat(RecurringScheduler.newest(halfHourly, after, upTo, 0)).isEmpty();
    }
}
