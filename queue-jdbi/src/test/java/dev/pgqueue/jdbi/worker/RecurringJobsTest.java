package dev.pgqueue.jdbi.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.Schedule;
import dev.pgqueue.ValidationException;
import dev.pgqueue.Worker;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import dev.pgqueue.testing.TestClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Recurring jobs on real workers sharing one settable clock: each tick enqueued exactly once however
 * many workers carry the schedule, and missed ticks after downtime handled as the schedule says.
 */
@PostgresTest
class RecurringJobsTest extends WorkerFixture {

    record Tick(String note) {}

    static final JobType<Tick> TICK = JobType.of("tick", Tick.class);
    static final Instant START = Instant.parse("2030-01-01T00:00:30Z");

    private final TestClock clock = TestClock.at(START);
    private final Map<UUID, Integer> runs = new ConcurrentHashMap<>();
    private final List<Worker> workers = new ArrayList<>();

    RecurringJobsTest(TestDatabase db) {
        super(db);
    }

    @BeforeEach
    void countDuplicateTickAttempts() {
        // Counts insert statements that inserted nothing: a worker that lost the race for a tick.
        db.execute("CREATE TABLE IF NOT EXISTS duplicate_tick_attempts (at timestamptz DEFAULT clock_timestamp())");
        db.execute("DELETE FROM duplicate_tick_attempts");
        db.execute("CREATE OR REPLACE FUNCTION count_duplicate_attempt() RETURNS trigger LANGUAGE plpgsql AS"
                + " $$ BEGIN IF NOT EXISTS (SELECT FROM inserted) THEN INSERT INTO duplicate_tick_attempts DEFAULT VALUES; END IF;"
                + " RETURN NULL; END $$");
        db.execute("DROP TRIGGER IF EXISTS count_duplicate_attempt ON job_queue");
        db.execute("CREATE TRIGGER count_duplicate_attempt AFTER INSERT ON job_queue REFERENCING NEW TABLE AS inserted"
                + " FOR EACH STATEMENT EXECUTE FUNCTION count_duplicate_attempt()");
    }

    @AfterEach
    void stopWorkers() {
        stopAll();
    }

    private Worker start(String name, Schedule schedule) {
        Worker worker = Worker.builder(store)
                .clock(clock)
                // The test clock jumps a minute per tick: with the default 3 s presence interval every
                // worker would look dead to the others right after a jump (their last renewal minutes
                // "ago"), and a rescue could take a tick job one of them is running (run twice).
                .presenceInterval(Duration.ofHours(1))
                .pollInterval(Duration.ofMillis(50))
                .handler(TICK, (job, context) -> {
                    runs.merge(job.id(), 1, Integer::sum);
                    return JobOutcome.done();
                })
                .recurring(name, TICK, new Tick("hello"), schedule)
                .build();
        worker.start();
        workers.add(worker);
        return worker;
    }

    private void stopAll() {
        workers.forEach(Worker::close);
        workers.clear();
    }

    private List<String> keys() {
        return db.queryForList("SELECT dedupe_key FROM job_queue ORDER BY dedupe_key COLLATE \"C\"").stream()
                .map(row -> (String) row.get("dedupe_key")).toList();
    }

    private void awaitCompleted(long jobs) {
        await().atMost(Duration.ofSeconds(15)).until(() ->
                db.queryForLong("SELECT count(*) FROM job_queue WHERE status = 'completed'") == jobs);
    }

    /** Moves the clock just past {@code tick}, so that running workers enqueue it. */
    private void passTick(String tick) {
        clock.set(Instant.parse(tick).plusMillis(10));
    }

    private static String key(String name, int minute) {
        return String.format("recurring:%s@2030-01-01T00:%02d:00Z", name, minute);
    }

    @Test
    void fourWorkers_overSixTicks_enqueueEachTickExactlyOnce_andEachRunsOnce() {
        Schedule everyMinute = Schedule.cron("* * * * *", "UTC");
        for (int w = 0; w < 4; w++) {
            start("minutely", everyMinute);
        }

        for (int minute = 1; minute <= 6; minute++) {
            passTick(String.format("2030-01-01T00:%02d:00Z", minute));
            awaitCompleted(minute);
            // Every worker tries this tick before the clock moves on: one that a loaded machine held back
            // would otherwise try two ticks in one statement, which inserts one and is not counted below.
            long tried = 3L * minute;
            await().atMost(Duration.ofSeconds(15)).until(() ->
                    db.queryForLong("SELECT count(*) FROM duplicate_tick_attempts") >= tried);
        }

        assertThat(keys()).containsExactlyElementsOf(IntStream.rangeClosed(1, 6).mapToObj(m -> key("minutely", m)).toList());
        assertThat(runs).hasSize(6).allSatisfy((id, count) -> assertThat(count).isEqualTo(1));
        assertThat(db.queryForLong("SELECT count(*) FROM duplicate_tick_attempts"))
                .as("every worker tried every tick: three of four lost each race")
                .isGreaterThanOrEqualTo(3 * 6);
        Map<String, Object> first = db.queryForList(
                "SELECT run_at, payload::text AS payload, queue FROM job_queue WHERE dedupe_key = ?", key("minutely", 1)).get(0);
        assertThat(((java.sql.Timestamp) first.get("run_at")).toInstant()).isEqualTo(Instant.parse("2030-01-01T00:01:00Z"));
        assertThat(first).containsEntry("payload", "{\"note\": \"hello\"}").containsEntry("queue", "default");
    }

    @Test
    void aTickIsEnqueuedAheadOfItsTime_dueAtTheTick() {
        start("minutely", Schedule.every(Duration.ofMinutes(1)));

        clock.set(Instant.parse("2030-01-01T00:00:59.980Z"));   // 20 ms before the tick; the lookahead is 50 ms
        await().atMost(Duration.ofSeconds(5)).until(() -> keys().contains(key("minutely", 1)));

        assertThat(runs).as("not due yet").isEmpty();
        passTick("2030-01-01T00:01:00Z");
        awaitCompleted(1);
    }

    @Test
    void aCronScheduleInATimeZone_firesAtTheLocalTime() {
        clock.set(Instant.parse("2030-07-01T00:59:50Z"));   // 02:59:50 in Berlin (summer time, UTC+2)
        start("nightly", Schedule.cron("0 3 * * *", "Europe/Berlin"));

        passTick("2030-07-01T01:00:00Z");
        awaitCompleted(1);

        assertThat(keys()).containsExactly("recurring:nightly@2030-07-01T01:00:00Z");
    }

    @Nested
    class AfterDowntime {

        private void runFirstTickThenStop(Schedule schedule) {
            start("minutely", schedule);
            start("minutely", schedule);
            passTick("2030-01-01T00:01:00Z");
            awaitCompleted(1);
            stopAll();
            clock.set(Instant.parse("2030-01-01T00:10:30Z"));   // ticks 00:02 to 00:10 pass with no worker up
        }

        @Test
        void catchUp_enqueuesTheNewestMissedTicks_upToItsCap_thenCarriesOn() {
            Schedule schedule = Schedule.every(Duration.ofMinutes(1)).catchUp(3);
            runFirstTickThenStop(schedule);

            start("minutely", schedule);
            start("minutely", schedule);
            awaitCompleted(4);
            assertThat(keys()).containsExactly(
                    key("minutely", 1), key("minutely", 8), key("minutely", 9), key("minutely", 10));

            passTick("2030-01-01T00:11:00Z");
            awaitCompleted(5);
            assertThat(keys()).endsWith(key("minutely", 11)).hasSize(5);
            assertThat(runs.values()).containsOnly(1);
        }

        @Test
        void byDefault_theNewestMissedTickRunsOnce() {
            Schedule schedule = Schedule.every(Duration.ofMinutes(1));
            runFirstTickThenStop(schedule);

            start("minutely", schedule);
            awaitCompleted(2);

            assertThat(keys()).containsExactly(key("minutely", 1), key("minutely", 10));
        }

        @Test
        void skipMissed_enqueuesNone_andResumesWithTheNextTick() throws InterruptedException {
            Schedule schedule = Schedule.every(Duration.ofMinutes(1)).skipMissed();
            runFirstTickThenStop(schedule);

            start("minutely", schedule);
            start("minutely", schedule);
            Thread.sleep(300);   // six rounds of each worker
            assertThat(keys()).containsExactly(key("minutely", 1));

            passTick("2030-01-01T00:11:00Z");
            awaitCompleted(2);
            assertThat(keys()).containsExactly(key("minutely", 1), key("minutely", 11));
        }

        @Test
        void aNewSchedule_catchesUpNothing_andStartsWithTheNextTick() throws InterruptedException {
            runFirstTickThenStop(Schedule.every(Duration.ofMinutes(1)));

            start("renamed", Schedule.every(Duration.ofMinutes(1)).catchUp(5));
            Thread.sleep(300);
            assertThat(keys()).containsExactly(key("minutely", 1));

            passTick("2030-01-01T00:11:00Z");
            awaitCompleted(2);
            assertThat(keys()).containsExactly(key("minutely", 1), key("renamed", 11));
        }

        @Test
        void aChangedSchedule_takesEffectWithTheWorkersThatCarryIt() {
            runFirstTickThenStop(Schedule.every(Duration.ofMinutes(1)));

            // Redeployed as every 5 minutes: the missed 00:10 tick is one of the new schedule's.
            start("minutely", Schedule.every(Duration.ofMinutes(5)));
            awaitCompleted(2);
            passTick("2030-01-01T00:11:00Z");
            passTick("2030-01-01T00:15:00Z");
            awaitCompleted(3);

            assertThat(keys()).containsExactly(key("minutely", 1), key("minutely", 10), key("minutely", 15));
        }
    }

    /** A tick far in the future (a row no worker of the schedule wrote) used to stop every tick until then. */
    @Test
    void aForgedTickFarInTheFuture_doesNotStopTheSchedule_andIsReported() {
        db.execute("INSERT INTO job_queue (job_type, dedupe_key, unique_states, run_at) VALUES ('tick',"
                + " 'recurring:hourly@9999-01-01T00:00:00Z', '{pending,processing,completed,failed,cancelled}', '9999-01-01')");
        java.io.ByteArrayOutputStream logged = new java.io.ByteArrayOutputStream();
        java.io.PrintStream stderr = System.err;
        System.setErr(new java.io.PrintStream(logged, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            start("hourly", Schedule.cron("* * * * *", "UTC"));
            passTick("2030-01-01T00:01:00Z");
            awaitCompleted(1);
        } finally {
            System.setErr(stderr);
        }

        assertThat(keys()).containsExactly(key("hourly", 1), "recurring:hourly@9999-01-01T00:00:00Z");
        // After the worker's clock plus its lookahead plus an hour: 01:00:30.050 or, if the first round
        // came after the clock moved, 01:01:00.060.
        assertThat(logged.toString(java.nio.charset.StandardCharsets.UTF_8)).containsPattern("recurring job hourly: ignoring"
                + " the job with dedupe key \"recurring:hourly@9999-01-01T00:00:00Z\": a tick after 2030-01-01T01:0[01]:[0-9.]+Z;"
                + " it was not enqueued by this schedule's workers");
    }

    /**
     * Rows no worker of the schedule wrote (by the owner: producers cannot write recurring: keys),
     * one a tick far in the future and one not a tick's key at all, whose text would forge a log
     * line. The schedule ignores both, says so once in one line, finds its real latest tick below
     * them, catches up from it and carries on.
     */
    @Test
    void forgedKeysBeyondTheLookahead_areIgnoredWithAWarning_andTicksContinue() {
        String allStates = "'{pending,processing,completed,failed,cancelled}'";
        db.execute("INSERT INTO job_queue (job_type, status, dedupe_key, unique_states, completed_at) VALUES"
                + " ('tick', 'completed', '" + key("nightly", 1) + "', " + allStates + ", now())");
        db.execute("INSERT INTO job_queue (job_type, dedupe_key, unique_states, run_at) VALUES"
                + " ('tick', 'recurring:nightly@9999-01-01T00:00:00Z', " + allStates + ", '9999-01-01'),"
                + " ('tick', 'recurring:nightly@9999-12-31T00:00:00Z' || chr(10) || 'ERROR forged log line', " + allStates + ", '9999-01-01')");
        clock.set(Instant.parse("2030-01-01T00:03:30Z"));
        java.io.ByteArrayOutputStream logged = new java.io.ByteArrayOutputStream();
        java.io.PrintStream stderr = System.err;
        System.setErr(new java.io.PrintStream(logged, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            start("nightly", Schedule.cron("* * * * *", "UTC"));
            awaitCompleted(2);
            passTick("2030-01-01T00:04:00Z");
            awaitCompleted(3);
        } finally {
            System.setErr(stderr);
        }

        assertThat(keys()).as("the newest missed tick (00:03) caught up from the real latest (00:01), then 00:04")
                .startsWith(key("nightly", 1), key("nightly", 3), key("nightly", 4));
        String log = logged.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertThat(log).contains("recurring job nightly: ignoring the job with dedupe key"
                + " \"recurring:nightly@9999-12-31T00:00:00Z\\u000AERROR forged log line\": not a tick's key;"
                + " it was not enqueued by this schedule's workers");
        assertThat(log.lines()).noneMatch(line -> line.startsWith("ERROR forged"));
    }

    @Nested
    class BadInput {

        @Test
        void invalidSchedulesAndRegistrations_failBeforeAWorkerExists_andNothingIsWritten() {
            assertThatThrownBy(() -> Schedule.cron("61 * * * *", "UTC"))
                    .isInstanceOf(ValidationException.class)
                    .hasMessage("expected cron expression to be a cron expression of 5 fields (minute hour day-of-month month"
                            + " day-of-week), of 6 fields as Spring and Quartz write them (second minute hour day-of-month"
                            + " month day-of-week, the day of week as *, ? or names such as MON-FRI) or one of @hourly, @daily,"
                            + " @midnight, @weekly, @monthly, @yearly, @annually"
                            + " (Failed to parse cron expression. Value 61 not in range [0, 59]), got: \"61 * * * *\"");
            assertThatThrownBy(() -> Schedule.cron("* * * * * * *", "UTC"))
                    .isInstanceOf(ValidationException.class)
                    .hasMessageContaining("got: \"* * * * * * *\"");
            assertThatThrownBy(() -> Schedule.cron("@reboot", "UTC"))
                    .hasMessageContaining("(Nickname @reboot not supported!), got: \"@reboot\"");
            assertThatThrownBy(() -> Schedule.cron("0 0 30 2 *", "UTC"))
                    .hasMessage("expected cron expression to be one that fires (on dates that exist), got: \"0 0 30 2 *\"");
            assertThatThrownBy(() -> Schedule.cron("0 3 * * *", "Europe/Atlantis"))
                    .hasMessage("expected time zone to be a time zone id such as UTC or Europe/Berlin (java.time.ZoneId),"
                            + " got: \"Europe/Atlantis\"");
            assertThatThrownBy(() -> Schedule.every(Duration.ofMillis(1500)))
                    .hasMessage("expected interval to be a whole number of seconds, at least 1 s, got: PT1.5S");
            assertThatThrownBy(() -> Schedule.every(Duration.ofHours(1)).catchUp(-1))
                    .hasMessage("expected catchUp to be between 0 and 1000, got: -1");

            Schedule hourly = Schedule.cron("@hourly", "UTC");
            assertThatThrownBy(() -> Worker.builder(store).handler(TICK, (job, context) -> JobOutcome.done())
                    .recurring("hourly", TICK, new Tick("a"), hourly)
                    .recurring("hourly", TICK, new Tick("b"), hourly))
                    .hasMessage("expected recurring job name to be unique on a worker, got: \"hourly (twice)\"");
            assertThatThrownBy(() -> Worker.builder(store)
                    .recurring("bad name", TICK, new Tick("a"), hourly))
                    .hasMessageStartingWith("expected recurring job name to be 1-128 characters of letters, digits and _ . : / -");
            assertThatThrownBy(() -> Worker.builder(store)
                    .recurring("hourly", TICK, new Tick("a"), hourly, EnqueueOptions.defaults().delay(Duration.ofMinutes(1))))
                    .hasMessageStartingWith("expected options of recurring job hourly to be without runAt or delay");
            assertThatThrownBy(() -> Worker.builder(store)
                    .recurring("hourly", TICK, new Tick("a"), hourly, EnqueueOptions.defaults().dedupeKey("k")))
                    .hasMessageStartingWith("expected options of recurring job hourly to be without dedupeKey or uniqueness");

            assertThat(db.queryForLong("SELECT count(*) FROM job_queue")).isZero();
        }
    }
}
