package dev.pgqueue.jdbi;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;

/**
 * When a store's floors ({@link ClaimFloor}, {@link FairFloor}) are worth an operator's attention
 * (issue 18). A floor that switches on and stays on means something holds back the xmin horizon, or
 * vacuum is far behind: that is said at INFO, once, at the first sweep after it has stayed on for
 * {@link #HELD}, and again when it goes off. Shorter spells are only DEBUG: with no horizon held, a
 * busy queue under PostgreSQL's default autovacuum switches its floors on and off every few seconds
 * (dead entries pile up between vacuum runs; a sweep's walk marks them dead for every later walk, so
 * the next sweeps find the front quick again), and an INFO line each time would drown the one that
 * matters.
 *
 * <p>Callers report each switch, and each sweep while a floor stays on; one instance per kind of floor.
 * Thread-safe.
 */
final class FloorLog {

    /**
     * What is said, each with the queue as its first argument: {@code held} and {@code released} take the
     * seconds the floor has been on as their second, {@code off} the milliseconds.
     */
    record Messages(String on, String off, String held, String released) {}

    /** How long a floor stays on before it is said at INFO. */
    static final Duration HELD = Duration.ofMinutes(1);

    /** What to log after an observation. */
    enum Event {
        /** Nothing new. */
        NONE,
        /** The floor went on (DEBUG). */
        ON,
        /** The floor went off before it was held long enough to be said (DEBUG). */
        OFF,
        /** The floor has now been on for {@link #HELD} (INFO, once per spell). */
        HELD,
        /** The floor went off after a spell of {@link #HELD} or longer (INFO). */
        RELEASED
    }

    /** What to log, and how long the floor has been on (zero for {@link Event#NONE} and {@link Event#ON}). */
    record Note(Event event, Duration on) {
        static final Note NONE = new Note(Event.NONE, Duration.ZERO);
    }

    /** A floor that is on: since when, and whether that was said at INFO. */
    private record Spell(long sinceNanos, boolean said) {}

    private final ConcurrentHashMap<Object, Spell> spells = new ConcurrentHashMap<>();
    private final Logger log;
    private final Messages messages;

    FloorLog(Logger log, Messages messages) {
        this.log = log;
        this.messages = messages;
    }

    /** {@link #observe}, then logs what it says about {@code queue}'s floor. */
    void report(String queue, Object key, boolean wasBounded, boolean bounded, long nowNanos) {
        Note note = observe(key, wasBounded, bounded, nowNanos);
        switch (note.event()) {
            case ON -> log.debug(messages.on(), queue);
            case OFF -> log.debug(messages.off(), queue, note.on().toMillis());
            case HELD -> log.info(messages.held(), queue, note.on().toSeconds());
            case RELEASED -> log.info(messages.released(), queue, note.on().toSeconds());
            case NONE -> {
            }
        }
    }

    /**
     * Records floor {@code key}'s state after a claim that switched it on, or after a sweep (which may
     * have switched it off). A minute on is seen at the first sweep after it, or at the off.
     *
     * @param wasBounded whether it was on before the claim or sweep
     * @param bounded whether it is on now
     * @param nowNanos {@link System#nanoTime()} now
     * @return what to log
     */
    Note observe(Object key, boolean wasBounded, boolean bounded, long nowNanos) {
        if (bounded && !wasBounded) {
            spells.put(key, new Spell(nowNanos, false));
            return new Note(Event.ON, Duration.ZERO);
        }
        if (!bounded && wasBounded) {
            Spell spell = spells.remove(key);
            if (spell == null) {
                return Note.NONE; // said already, by whoever saw this off first
            }
            long on = nowNanos - spell.sinceNanos();
            boolean held = spell.said() || on >= HELD.toNanos(); // no sweep in between said it: said now
            return new Note(held ? Event.RELEASED : Event.OFF, Duration.ofNanos(on));
        }
        if (!bounded) {
            return Note.NONE;
        }
        Note[] note = {Note.NONE};
        spells.compute(key, (k, spell) -> {
            if (spell == null) {
                return new Spell(nowNanos, false); // on before this log knew it: counted from now
            }
            long on = nowNanos - spell.sinceNanos();
            if (!spell.said() && on >= HELD.toNanos()) {
                note[0] = new Note(Event.HELD, Duration.ofNanos(on));
                return new Spell(spell.sinceNanos(), true);
            }
            return spell;
        });
        return note[0];
    }

    /** Forgets floor {@code key}'s spell, unsaid: it went off in a way its caller reports itself (a warning). */
    void forget(Object key) {
        spells.remove(key);
    }
}
