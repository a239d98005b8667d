package dev.pgqueue.internal;

import dev.pgqueue.EnqueueResult;
import dev.pgqueue.Schedule;
import dev.pgqueue.spi.JobStore;
import dev.pgqueue.spi.JobStore.InsertParams;
import dev.pgqueue.spi.JobStore.LatestDedupeKeyParams;
import dev.pgqueue.spi.JobStore.NewJob;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Enqueues the ticks of recurring jobs (Oban's cron plugin, without a leader). Every worker with a
 * schedule runs this on its own; they agree because each tick's job carries a dedupe key made of the
 * schedule's name and the tick's time, unique in every status, so the database keeps exactly one of
 * the competing inserts and the rest come back as duplicates.
 *
 * <p>Each round (every poll interval) enqueues the ticks that came due since the previous round and
 * those due within the next poll interval, with {@code run_at} set to the tick, so that a tick runs on
 * time rather than up to a poll interval late. A round that fails is retried with the same ticks, so a
 * tick that comes due while this worker runs is enqueued even if the database was briefly away.
 *
 * <p>On its first round the scheduler does not know what happened before it started: it reads the
 * schedule's latest tick from the table and treats the ticks after it that are already past as
 * missed (no worker was running to enqueue them); the schedule's policy decides how many of those to
 * enqueue. A schedule with no tick in the table is new: it starts with the next tick. Nothing else is
 * stored, so changing or removing a schedule takes effect with the next deploy.
 *
 * <p>"Now" is the worker's clock, or the system clock: it only decides when a tick is inserted; each
 * tick's key and due time come from the schedule alone.
 */
public final class RecurringScheduler {

    private static final Logger log = LoggerFactory.getLogger(RecurringScheduler.class);
    /** Most ticks of one schedule enqueued per round; the rest follow in the next rounds. */
    static final int MAX_TICKS_PER_ROUND = 100;
    /**
     * How far past this worker's lookahead a schedule's latest tick in the table may lie before it is
     * ignored: other workers enqueue ticks up to their own lookahead ahead, by clocks that may run a
     * little fast. A tick further out was not enqueued by a worker of this schedule (a hand-written
     * row, say), and taking it as the latest would skip every tick until then.
     */
    static final Duration FUTURE_TICK_TOLERANCE = Duration.ofHours(1);
    /** Longest dedupe key quoted in a log line. */
    private static final int MAX_LOGGED_KEY_LENGTH = 80;

    /** What this scheduler knows of one schedule. */
    private static final class State {
        final RecurringJob job;
        /** Every tick up to here has been enqueued by this scheduler (or skipped); null before the first round. */
        Instant coveredUntil;

        State(RecurringJob job) {
            this.job = job;
        }
    }

    private final JobStore store;
    private final Clock clock;
    private final Duration lookahead;
    private final List<State> states = new ArrayList<>();

    /**
     * @param clock     the clock deciding when ticks are due; null for the system clock
     * @param lookahead how long before its time a tick is enqueued (the worker's poll interval)
     */
    public RecurringScheduler(JobStore store, List<RecurringJob> jobs, Clock clock, Duration lookahead) {
        this.store = store;
        this.clock = clock != null ? clock : Clock.systemUTC();
        this.lookahead = lookahead;
        jobs.forEach(job -> states.add(new State(job)));
    }

    /** One round; never throws (a failure is logged and the round's ticks are tried again next time). */
    public synchronized void round() {
        try {
            enqueueDueTicks();
        } catch (Throwable e) {
            log.warn("could not enqueue recurring jobs ({}); trying again next round", LogText.of(e.getMessage()));
        }
    }

    /**
     * One round that reports failure: enqueues what is due and returns the jobs' results by key.
     *
     * @throws dev.pgqueue.StoreException if the database fails; the same ticks are tried next round
     */
    public synchronized Map<String, EnqueueResult> enqueueDueTicks() {
        Instant now = clock.instant();
        Instant horizon = now.plus(lookahead);
        Map<State, Instant> covered = new LinkedHashMap<>();
        List<NewJob> jobs = new ArrayList<>();
        for (State state : states) {
            Schedule schedule = state.job.schedule();
            List<Instant> ticks = new ArrayList<>();
            Instant from = state.coveredUntil;
            if (from == null) {
                Optional<Instant> last = latestTick(state.job, horizon.plus(FUTURE_TICK_TOLERANCE));
                if (last.isPresent() && last.get().isBefore(now)) {
                    List<Instant> missed = newest(schedule, last.get(), now, schedule.maxCatchUp());
                    logMissed(state.job, last.get(), now, missed);
                    ticks.addAll(missed);
                }
                from = last.filter(now::isBefore).orElse(now);
            }
            List<Instant> coming = between(schedule, from, horizon, MAX_TICKS_PER_ROUND);
            ticks.addAll(coming);
            covered.put(state, coming.size() == MAX_TICKS_PER_ROUND ? coming.get(coming.size() - 1) : max(from, horizon));
            ticks.forEach(tick -> jobs.add(state.job.jobFor(tick)));
        }
        Map<String, EnqueueResult> results = new LinkedHashMap<>();
        if (!jobs.isEmpty()) {
            List<EnqueueResult> inserted = store.jobInsertMany(new InsertParams(jobs, null));
            for (int i = 0; i < jobs.size(); i++) {
                NewJob job = jobs.get(i);
                EnqueueResult result = inserted.get(i);
                results.put(job.dedupeKey(), result);
                if (result.duplicate()) {
                    try (JobMdc mdc = JobMdc.of(result.jobId(), job.type())) {
                        log.debug("recurring job {} was already enqueued (job {})", job.dedupeKey(), result.jobId());
                    }
                } else {
                    try (JobMdc mdc = JobMdc.of(result.jobId(), job.type())) {
                        log.info("enqueued recurring job {} as {}/{}, due {}", job.dedupeKey(), job.type(), result.jobId(), job.runAt());
                    }
                }
            }
        }
        covered.forEach((state, until) -> state.coveredUntil = until);
        return results;
    }

    /**
     * The schedule's latest tick in the table, at most {@code bound}. A greater key (a tick far in the
     * future, or a key that is not a tick) is ignored with a warning, and the latest key up to the
     * bound taken instead.
     */
    private Optional<Instant> latestTick(RecurringJob job, Instant bound) {
        Optional<String> key = store.jobLatestDedupeKey(new LatestDedupeKeyParams(job.type(), job.keyPrefix()));
        Optional<Instant> tick = key.flatMap(job::tickOf);
        if (key.isPresent() && (tick.isEmpty() || tick.get().isAfter(bound))) {
            log.warn("recurring job {}: ignoring the job with dedupe key {}: {}; it was not enqueued by this schedule's workers",
                    job.name(), loggable(key.get()), tick.isEmpty() ? "not a tick's key" : "a tick after " + bound);
            key = store.jobLatestDedupeKey(new LatestDedupeKeyParams(job.type(), job.keyPrefix(), job.key(bound)));
            tick = key.flatMap(job::tickOf).filter(t -> !t.isAfter(bound));
            if (key.isPresent() && tick.isEmpty()) {
                log.warn("recurring job {}: the latest dedupe key {} is not one of a tick; treating the schedule as new",
                        job.name(), loggable(key.get()));
            }
        }
        return tick;
    }

    /** A key as a log line may quote it: cut short, control characters and quotes escaped. */
    static String loggable(String key) {
        StringBuilder out = new StringBuilder("\"");
        int shown = Math.min(key.length(), MAX_LOGGED_KEY_LENGTH);
        for (int i = 0; i < shown; i++) {
            char c = key.charAt(i);
            if (c < 0x20 || c == 0x7f || c == '"' || c == '\\' || Character.isSurrogate(c)
                    || Character.getType(c) == Character.LINE_SEPARATOR || Character.getType(c) == Character.PARAGRAPH_SEPARATOR) {
                out.append(String.format("\\u%04X", (int) c));
            } else {
                out.append(c);
            }
        }
        out.append('"');
        if (key.length() > shown) {
            out.append("… (").append(key.length()).append(" chars)");
        }
        return out.toString();
    }

    private static void logMissed(RecurringJob job, Instant last, Instant now, List<Instant> enqueued) {
        Optional<Instant> firstMissed = job.schedule().nextTick(last).filter(t -> !t.isAfter(now));
        if (firstMissed.isEmpty()) {
            return;
        }
        if (enqueued.isEmpty()) {
            log.info("recurring job {}: skipping the ticks missed since {} (no worker was running); the schedule skips missed ticks",
                    job.name(), last);
        } else if (!enqueued.get(0).equals(firstMissed.get())) {
            log.info("recurring job {}: enqueuing the newest {} of the ticks missed since {} (from {}); older ones are skipped",
                    job.name(), enqueued.size(), last, enqueued.get(0));
        } else {
            log.info("recurring job {}: enqueuing all {} ticks missed since {}", job.name(), enqueued.size(), last);
        }
    }

    /** Ticks in {@code (after, upTo]}, oldest first, at most {@code limit}. */
    static List<Instant> between(Schedule schedule, Instant after, Instant upTo, int limit) {
        List<Instant> ticks = new ArrayList<>();
        Optional<Instant> tick = schedule.nextTick(after);
        while (tick.isPresent() && !tick.get().isAfter(upTo) && ticks.size() < limit) {
            ticks.add(tick.get());
            tick = schedule.nextTick(tick.get());
        }
        return ticks;
    }

    /**
     * The newest {@code limit} ticks in {@code (after, upTo]}, oldest first. Walks back from
     * {@code upTo} only to find where to start, then forward, so that the ticks are exactly those a
     * running worker's forward walk produces (cron-utils' backward and forward walks need not agree
     * around daylight-saving changes), however long ago {@code after} was.
     */
    static List<Instant> newest(Schedule schedule, Instant after, Instant upTo, int limit) {
        if (limit <= 0) {
            return List.of();
        }
        Optional<Instant> start = schedule.latestTick(upTo);
        for (int i = 0; i < limit && start.isPresent() && start.get().isAfter(after); i++) {
            start = schedule.latestTick(start.get().minusSeconds(1));
        }
        Instant from = start.filter(s -> s.isAfter(after)).orElse(after);
        Deque<Instant> window = new ArrayDeque<>(limit + 1);
        Optional<Instant> tick = schedule.nextTick(from);
        while (tick.isPresent() && !tick.get().isAfter(upTo)) {
            window.addLast(tick.get());
            if (window.size() > limit) {
                window.removeFirst();
            }
            tick = schedule.nextTick(tick.get());
        }
        return List.copyOf(window);
    }

    private static Instant max(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }
}
