package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * When a fair queue's claims start each key past its floor: only while a claim from the fair index's
 * front is much slower per job than a bounded one; and then a sweep each period finds new keys and jobs
 * before their key's floor, so that such a job waits at most that long (plus the sweep). The clock is
 * passed in, so each step is exact.
 */
class FairFloorTest {

    private static final long MS = 1_000_000L;
    private static final Instant T = Instant.parse("2026-12-07T12:00:00Z");

    private final FairFloor floor = new FairFloor();

    @Test
    void fastClaimsFromTheFront_neverBound() {
        long now = 0;
        for (int i = 0; i < 100; i++) {
            assertThat(floor.bound(null)).isNull();
            floor.claimed(null, floor.generation(), now, 5 * MS, 500, Map.of("a", key(0, i, i), "b", key(0, i, 1_000 + i)));
            assertThat(floor.startSweep(now)).isFalse();
            now += 10 * MS;
        }
        assertThat(floor.isBounded()).isFalse();
    }

    @Test
    void oneSlowClaimFromTheFront_isNotProbed_twoInARowAre() {
        floor.claimed(null, floor.generation(), 0, 300 * MS, 500, Map.of("a", key(0, 1, 1)));
        assertThat(floor.bound(null)).as("one slow claim (a pause, a fresh JVM's first)").isNull();
        floor.claimed(null, floor.generation(), 400 * MS, 5 * MS, 500, Map.of("a", key(0, 2, 2)));
        floor.claimed(null, floor.generation(), 500 * MS, 300 * MS, 500, Map.of("a", key(0, 3, 3)));
        assertThat(floor.bound(null)).as("a quick one between").isNull();
        floor.claimed(null, floor.generation(), 900 * MS, 300 * MS, 500, Map.of("a", key(0, 4, 4)));
        assertThat(floor.bound(null).floors()).as("two in a row: a probe").containsExactly(key(0, 4, 4));
    }

    @Test
    void aSlowClaimFromTheFront_thatIsSlowForItsJobsToo_isProbedOnce_thenFromTheFrontAgain() {
        floor.claimed(null, floor.generation(), -50 * MS, 40 * MS, 500, Map.of("a", key(0, 0, 1)));
        floor.claimed(null, floor.generation(), 0, 40 * MS, 500, Map.of("a", key(0, 1, 1)));
        FairFloor.Bounds probe = floor.bound(null);
        assertThat(probe.keys()).containsExactly("a");
        floor.claimed(probe, floor.generation(), 50 * MS, 40 * MS, 500, Map.of("a", key(0, 2, 2)));
        assertThat(floor.isBounded()).isFalse();
        assertThat(floor.bound(null)).isNull();
        assertThat(floor.startSweep(100_000 * MS)).isFalse();
    }

    @Test
    void aClaimFromTheFrontSlowFromDeadEntries_boundsClaims_withASweepEachPeriod() {
        bound();

        // Bounded, each key past the last job claimed from it, in key order from the cursor round to it.
        FairFloor.Bounds bounds = floor.bound("b");
        assertThat(bounds.keys()).containsExactly("c", "a", "b");
        assertThat(bounds.floors()).containsExactly(key(0, 3, 3), key(0, 2, 1), key(0, 2, 2));
        floor.claimed(bounds, floor.generation(), 400 * MS, 10 * MS, 500, Map.of("c", key(0, 4, 3)));
        assertThat(floor.bound(null).floors()).containsExactly(key(0, 2, 1), key(0, 2, 2), key(0, 4, 3));

        // The period is ten times the claim from the front (300 ms), from when it began; one sweep at a time.
        assertThat(floor.startSweep(2_999 * MS)).isFalse();
        assertThat(floor.startSweep(3_000 * MS)).as("a sweep, 3 s after the claim from the front began").isTrue();
        assertThat(floor.startSweep(3_100 * MS)).as("one sweep at a time").isFalse();
        // It found a more urgent job of a, b's next job (past its floor) and a new key d.
        boolean moved = floor.swept(3_300 * MS, 300 * MS, found("a", key(-1, 9, 9), "b", key(0, 8, 8), "d", key(0, 5, 5)));
        assertThat(moved).isTrue();
        assertThat(floor.isBounded()).isTrue();
        FairFloor.Bounds after = floor.bound(null);
        assertThat(after.keys()).containsExactly("a", "b", "c", "d");
        assertThat(after.floors()).as("just before the jobs found; b where it was")
                .containsExactly(justBefore(key(-1, 9, 9)), key(0, 2, 2), key(0, 4, 3), justBefore(key(0, 5, 5)));
        assertThat(floor.startSweep(5_999 * MS)).isFalse();
        assertThat(floor.startSweep(6_000 * MS)).isTrue();
        assertThat(floor.swept(6_300 * MS, 300 * MS, found("b", key(0, 8, 8)))).as("nothing before a floor: nothing moved").isFalse();
    }

    @Test
    void aSweepFindingTheLastClaimedJobPendingAgain_movesItsKeysFloorBackBeforeIt() {
        bound();
        assertThat(floor.startSweep(3_000 * MS)).isTrue();
        assertThat(floor.swept(3_300 * MS, 300 * MS, found("b", key(0, 2, 2)))).isTrue(); // released, or its claim rolled back
        assertThat(floor.bound(null).floors()).containsExactly(key(0, 2, 1), justBefore(key(0, 2, 2)), key(0, 3, 3));
    }

    @Test
    void aFailedSweep_isTriedAgainAPeriodAfterIt_andSweepsThatStall_unboundClaims() {
        bound();
        assertThat(floor.startSweep(3_000 * MS)).isTrue();
        floor.sweepFailed();
        assertThat(floor.isBounded()).isTrue();
        assertThat(floor.startSweep(5_999 * MS)).isFalse();
        assertThat(floor.startSweep(6_000 * MS)).isTrue();
        floor.sweepFailed();
        assertThat(floor.unboundIfSweepsStalled(310 * MS + ClaimFloor.SWEEPS_STALLED_NANOS - 1)).isFalse();
        assertThat(floor.unboundIfSweepsStalled(310 * MS + ClaimFloor.SWEEPS_STALLED_NANOS)).isTrue();
        assertThat(floor.bound(null)).isNull();
    }

    @Test
    void whenTwoSweepsInARowAreQuickAgain_claimsAreFromTheFrontAgain() {
        bound();
        assertThat(floor.startSweep(3_000 * MS)).isTrue();
        // The reader that held the horizon ended and vacuum ran: the sweeps are quick.
        floor.swept(3_008 * MS, 8 * MS, found());
        assertThat(floor.isBounded()).isTrue();
        assertThat(floor.startSweep(4_000 * MS)).isTrue();
        floor.swept(4_008 * MS, 8 * MS, found());
        assertThat(floor.isBounded()).isFalse();
        assertThat(floor.bound(null)).isNull();
        assertThat(floor.startSweep(100_000 * MS)).isFalse();
    }

    @Test
    void aBoundedClaimThatEndsAfterASweep_doesNotRaiseAFloorTheSweepMovedBack() {
        bound();
        FairFloor.Bounds stale = floor.bound(null); // a: past (0, 2, 1)
        assertThat(floor.startSweep(3_000 * MS)).isTrue();
        floor.swept(3_300 * MS, 300 * MS, found("a", key(0, 1, 7))); // ends first: a job of a before its floor
        floor.claimed(stale, floor.generation(), 2_900 * MS, 500 * MS, 500, Map.of("a", key(0, 30, 30), "b", key(0, 31, 31)));
        assertThat(floor.bound(null).floors()).as("a goes on from before the job the sweep found; b after the bounded claim")
                .containsExactly(justBefore(key(0, 1, 7)), key(0, 31, 31), key(0, 3, 3));
    }

    /**
     * A's claim took a's jobs up to 10 and locked 11 without taking it (the limit cut its round); B's, on
     * another thread meanwhile, skipped 11 as locked and raised a's floor to 20. Once A's locks are gone,
     * the store owes 11: a's claims start before it until a claim that began after the owing takes a job
     * of a from there. One that began before may have skipped it as locked again: it settles nothing.
     */
    @Test
    void aJobOwed_boundsItsKeysClaims_thoughAClaimOfAnotherThreadRaisedTheFloorPastIt() {
        bound();
        long sinceA = floor.generation();
        FairFloor.Bounds a = floor.bound(null);
        long sinceB = floor.generation();
        FairFloor.Bounds b = floor.bound(null);
        floor.claimed(a, sinceA, 400 * MS, 10 * MS, 10, Map.of("a", key(0, 10, 10)));
        floor.claimed(b, sinceB, 401 * MS, 10 * MS, 10, Map.of("a", key(0, 20, 20)));
        assertThat(floor.bound(null).floors()).containsExactly(key(0, 20, 20), key(0, 2, 2), key(0, 3, 3));

        long sinceEarly = floor.generation();
        FairFloor.Bounds early = floor.bound(null);
        floor.owe(Map.of("a", key(0, 11, 11)), 420 * MS);
        assertThat(floor.bound(null).floors()).containsExactly(justBefore(key(0, 11, 11)), key(0, 2, 2), key(0, 3, 3));
        floor.claimed(early, sinceEarly, 410 * MS, 20 * MS, 10, Map.of("a", key(0, 21, 21)));
        assertThat(floor.bound(null).floors()).as("a claim that began before the owing: still owed")
                .containsExactly(justBefore(key(0, 11, 11)), key(0, 2, 2), key(0, 3, 3));

        long since = floor.generation();
        FairFloor.Bounds after = floor.bound(null);
        floor.claimed(after, since, 430 * MS, 10 * MS, 2, Map.of("a", key(0, 12, 12))); // took 11 and 12
        assertThat(floor.bound(null).floors()).as("settled: a goes on from the last job that claim took, below the old floor")
                .containsExactly(key(0, 12, 12), key(0, 2, 2), key(0, 3, 3));
        floor.claimed(floor.bound(null), floor.generation(), 440 * MS, 10 * MS, 2, Map.of("a", key(0, 22, 22)));
        assertThat(floor.bound(null).floors()).containsExactly(key(0, 22, 22), key(0, 2, 2), key(0, 3, 3));
    }

    /**
     * Several threads' claims each leave jobs of a key (a limit of 10 over 3 keys leaves two keys' fourth
     * jobs every time), so a claim's window often spans another's owing: each debt settles on its own, or
     * the key's claims would start at its first debt for good, walking every entry left since.
     */
    @Test
    void eachDebtSettlesOnItsOwn_thoughAClaimsWindowSpansALaterOne() {
        bound();
        floor.owe(Map.of("a", key(0, 11, 11)), 400 * MS);
        long since = floor.generation();
        FairFloor.Bounds bounds = floor.bound(null);
        floor.owe(Map.of("a", key(0, 15, 15)), 405 * MS); // another thread's claim left 15 meanwhile
        floor.claimed(bounds, since, 401 * MS, 10 * MS, 10, Map.of("a", key(0, 20, 20)));
        assertThat(floor.bound(null).floors()).as("the first debt settled; the one owed while that claim ran still bounds a")
                .containsExactly(justBefore(key(0, 15, 15)), key(0, 2, 2), key(0, 3, 3));
        floor.claimed(floor.bound(null), floor.generation(), 420 * MS, 10 * MS, 10, Map.of("a", key(0, 21, 21)));
        assertThat(floor.bound(null).floors()).containsExactly(key(0, 21, 21), key(0, 2, 2), key(0, 3, 3));
    }

    @Test
    void aClaimThatRollsBack_owesTheJobsItTook_pastTheFloorsOrFromTheFront() {
        bound();
        long since = floor.generation();
        FairFloor.Bounds bounds = floor.bound(null);
        floor.claimed(bounds, since, 400 * MS, 10 * MS, 500, Map.of("a", key(0, 10, 10), "c", key(0, 11, 11)));
        floor.owe(Map.of("a", key(0, 5, 5), "c", key(0, 4, 4)), 410 * MS); // its first of each key: it rolled back
        assertThat(floor.bound(null).floors()).containsExactly(justBefore(key(0, 5, 5)), key(0, 2, 2), justBefore(key(0, 4, 4)));

        FairFloor unbounded = new FairFloor();
        unbounded.claimed(null, unbounded.generation(), -300 * MS, 300 * MS, 500, Map.of("a", key(0, 9, 9)));
        unbounded.claimed(null, unbounded.generation(), 0, 300 * MS, 500, Map.of("a", key(0, 10, 10)));
        unbounded.owe(Map.of("a", key(0, 1, 1), "new", key(0, 3, 3)), 310 * MS); // a claim from the front rolled back
        assertThat(unbounded.bound(null).floors()).as("the probe after the slow claim from the front")
                .containsExactly(justBefore(key(0, 1, 1)), justBefore(key(0, 3, 3)));
    }

    @Test
    void aSweepThatBeganAfterAnOwing_settlesIt_andOneThatBeganBefore_doesNot() {
        bound();
        floor.claimed(floor.bound(null), floor.generation(), 400 * MS, 10 * MS, 10, Map.of("a", key(0, 20, 20), "b", key(0, 20, 21)));
        assertThat(floor.startSweep(3_000 * MS)).isTrue();
        floor.owe(Map.of("a", key(0, 11, 11), "b", key(0, 12, 12)), 3_100 * MS);
        floor.swept(3_300 * MS, 300 * MS, found("c", key(0, 30, 30)));
        assertThat(floor.bound(null).floors()).as("it began before: both still owed")
                .containsExactly(justBefore(key(0, 11, 11)), justBefore(key(0, 12, 12)), key(0, 3, 3));

        assertThat(floor.startSweep(6_000 * MS)).isTrue();
        floor.swept(6_300 * MS, 300 * MS, found("a", key(0, 11, 11))); // b has no due job left: a claim from the front took it
        assertThat(floor.bound(null).floors()).as("a from before its first due job; b owes nothing")
                .containsExactly(justBefore(key(0, 11, 11)), key(0, 20, 21), key(0, 3, 3));
        floor.claimed(floor.bound(null), floor.generation(), 6_400 * MS, 10 * MS, 10, Map.of("a", key(0, 25, 25)));
        assertThat(floor.bound(null).floors()).containsExactly(key(0, 25, 25), key(0, 20, 21), key(0, 3, 3));
    }

    @Test
    void aSweepThatFindsAsManyKeysAsItLooksFor_isFollowedByAnother_afterItsLastKey() {
        bound();
        assertThat(floor.startSweep(3_000 * MS)).isTrue();
        assertThat(floor.sweepFrom()).isNull();
        LinkedHashMap<String, ClaimFloor.Key> page = new LinkedHashMap<>();
        for (int i = 0; i < FairFloor.SWEEP_KEYS; i++) {
            page.put(String.format("p%04d", i), key(0, 9, i));
        }
        floor.swept(3_300 * MS, 300 * MS, page);
        assertThat(floor.sweepFrom()).isEqualTo(String.format("p%04d", FairFloor.SWEEP_KEYS - 1));
        assertThat(floor.startSweep(3_301 * MS)).as("more keys may follow").isTrue();
        floor.swept(3_600 * MS, 300 * MS, found("a", key(0, 9, 9)));
        assertThat(floor.sweepFrom()).as("round to the first key again").isNull();
        assertThat(floor.startSweep(3_601 * MS)).isFalse();
    }

    @Test
    void aKeyNoClaimOrSweepTouchedForTwoSweepPeriods_isForgotten() {
        bound(); // a, b, c, touched at 300 and 320 ms
        long later = 320 * MS + FairFloor.FORGET_NANOS;
        floor.claimed(floor.bound(null), floor.generation(), later, 10 * MS, 500, Map.of("b", key(0, 50, 50)));
        assertThat(floor.bound(null).keys()).as("a and c forgotten; b claimed from just now").containsExactly("b");
        // A sweep that finds a due job of a forgotten key learns it again, just before that job.
        assertThat(floor.startSweep(later + 20 * MS)).isTrue();
        assertThat(floor.swept(later + 320 * MS, 300 * MS, found("a", key(0, 60, 60)))).isTrue();
        assertThat(floor.bound(null).floors()).containsExactly(justBefore(key(0, 60, 60)), key(0, 50, 50));
    }

    @Test
    void aSweepFindingAKeyThatCannotBeKept_makesClaimsStartFromTheFrontAgain() {
        Map<String, ClaimFloor.Key> many = new HashMap<>();
        for (int i = 0; i < FairFloor.MAX_KEYS; i++) {
            many.put(String.format("k%06d", i), key(0, 1, i));
        }
        floor.claimed(null, floor.generation(), -300 * MS, 300 * MS, 500, many);
        floor.claimed(null, floor.generation(), 0, 300 * MS, 500, many);
        floor.claimed(floor.bound(null), floor.generation(), 310 * MS, 10 * MS, 500, Map.of());
        assertThat(floor.isBounded()).isTrue();
        assertThat(floor.startSweep(3_000 * MS)).isTrue();
        assertThat(floor.swept(3_300 * MS, 300 * MS, found("new-tenant", key(0, 2, 1)))).isTrue();
        assertThat(floor.isBounded()).as("claims past the floors would never visit it").isFalse();
        assertThat(floor.bound(null)).isNull();
    }

    @Test
    void keepsTheFloorsOfAtMostMaxKeys() {
        Map<String, ClaimFloor.Key> many = new HashMap<>();
        for (int i = 0; i <= FairFloor.MAX_KEYS; i++) {
            many.put(String.format("k%06d", i), key(0, 1, i));
        }
        floor.claimed(null, floor.generation(), -300 * MS, 300 * MS, many.size(), many);
        floor.claimed(null, floor.generation(), 0, 300 * MS, many.size(), many);
        assertThat(floor.bound(null).keys()).hasSize(FairFloor.MAX_KEYS);
    }

    @Test
    void justBeforeAJobAtRunAtMinusInfinity_isBeforeEveryOtherIdThere() {
        ClaimFloor.Key urgent = new ClaimFloor.Key(0, JdbcTime.NEGATIVE_INFINITY, new UUID(5, 5));
        assertThat(FairFloor.justBefore(urgent)).isEqualTo(new ClaimFloor.Key(0, JdbcTime.NEGATIVE_INFINITY, new UUID(0, 0)));
        assertThat(FairFloor.justBefore(key(0, 2, 2))).isEqualTo(justBefore(key(0, 2, 2)));
    }

    /** Keys a, b, c claimed from the front in 300 ms twice in a row, then a bounded probe of 10 ms: claims are bounded. */
    private void bound() {
        floor.claimed(null, floor.generation(), -300 * MS, 300 * MS, 500, Map.of("a", key(0, 0, 1), "b", key(0, 1, 2), "c", key(0, 2, 3)));
        floor.claimed(null, floor.generation(), 0, 300 * MS, 500, Map.of("a", key(0, 1, 1), "b", key(0, 2, 2), "c", key(0, 3, 3)));
        FairFloor.Bounds probe = floor.bound(null);
        assertThat(probe.keys()).containsExactly("a", "b", "c");
        floor.claimed(probe, floor.generation(), 310 * MS, 10 * MS, 500, Map.of("a", key(0, 2, 1)));
        assertThat(floor.isBounded()).isTrue();
        List<ClaimFloor.Key> floors = floor.bound(null).floors();
        assertThat(floors).containsExactly(key(0, 2, 1), key(0, 2, 2), key(0, 3, 3));
    }

    /** A sweep's answer: keys and their first due jobs, in the order given. */
    private static LinkedHashMap<String, ClaimFloor.Key> found(Object... keysAndJobs) {
        LinkedHashMap<String, ClaimFloor.Key> found = new LinkedHashMap<>();
        for (int i = 0; i < keysAndJobs.length; i += 2) {
            found.put((String) keysAndJobs[i], (ClaimFloor.Key) keysAndJobs[i + 1]);
        }
        return found;
    }

    private static ClaimFloor.Key justBefore(ClaimFloor.Key job) {
        return new ClaimFloor.Key(job.priority(), job.runAt().minusNanos(1_000), job.id());
    }

    private static ClaimFloor.Key key(int priority, int second, long id) {
        return new ClaimFloor.Key(priority, T.plusSeconds(second), new UUID(0, id));
    }
}
