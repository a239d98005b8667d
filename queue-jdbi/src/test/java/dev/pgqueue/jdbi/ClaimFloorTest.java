package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * When claims start past the floor: only while a claim from the index's front is much slower per job
 * than a bounded one; and then a sweep at least every period finds what sorts before the floor, so that
 * such a job waits at most that long (plus the sweep). The clock is passed in, so each step is exact.
 */
class ClaimFloorTest {

    private static final long MS = 1_000_000L;
    private static final Instant T = Instant.parse("2026-12-06T12:00:00Z");

    private final ClaimFloor floor = new ClaimFloor();

    @Test
    void fastFullClaims_neverBound() {
        long now = 0;
        for (int i = 0; i < 100; i++) {
            assertThat(floor.bound()).isNull();
            floor.claimed(null, now, 5 * MS, 500, key(0, i, i));
            assertThat(floor.startSweep(now)).isFalse();
            now += 10 * MS;
        }
        assertThat(floor.isBounded()).isFalse();
    }

    /**
     * One slow claim from the front is not enough to probe: a pause, a loaded machine or a fresh JVM's
     * first claim slows one, and a quick probe after it would bound claims, so that a job enqueued more
     * urgent than the floor waited for a sweep (1 s or more). Two in a row are; each probe needs two more.
     */
    @Test
    void oneSlowFullClaim_isNotProbed_twoInARowAre() {
        floor.claimed(null, 0, 300 * MS, 500, key(0, 1, 1));
        assertThat(floor.bound()).as("one slow claim").isNull();
        floor.claimed(null, 400 * MS, 5 * MS, 500, key(0, 2, 2));
        floor.claimed(null, 500 * MS, 300 * MS, 500, key(0, 3, 3));
        assertThat(floor.bound()).as("a quick one between: one slow claim in a row").isNull();
        floor.claimed(null, 900 * MS, 300 * MS, 500, key(0, 4, 4));
        assertThat(floor.bound()).as("two slow claims in a row: a probe").isEqualTo(key(0, 4, 4));
        floor.claimed(key(0, 4, 4), 1_300 * MS, 200 * MS, 500, key(0, 5, 5)); // as slow per job: not bounded
        assertThat(floor.isBounded()).isFalse();
        floor.claimed(null, 1_600 * MS, 300 * MS, 500, key(0, 6, 6));
        assertThat(floor.bound()).as("after a probe, one slow claim").isNull();
        floor.claimed(null, 2_000 * MS, 300 * MS, 500, key(0, 7, 7));
        assertThat(floor.bound()).isEqualTo(key(0, 7, 7));
    }

    @Test
    void aSlowFullClaim_thatIsSlowForItsJobsToo_isProbedOnce_thenFullAgain() {
        // 40 ms for 500 jobs twice, then a bounded probe as slow per job: the jobs, not dead entries, cost the time.
        floor.claimed(null, -50 * MS, 40 * MS, 500, key(0, 0, 1));
        floor.claimed(null, 0, 40 * MS, 500, key(0, 1, 1));
        ClaimFloor.Key probe = floor.bound();
        assertThat(probe).isEqualTo(key(0, 1, 1));
        floor.claimed(probe, 50 * MS, 40 * MS, 500, key(0, 2, 2));
        assertThat(floor.isBounded()).isFalse();
        assertThat(floor.bound()).isNull();
        assertThat(floor.startSweep(100_000 * MS)).isFalse();
    }

    @Test
    void aFullClaimSlowFromDeadEntries_boundsClaims_withASweepEachPeriod() {
        // The front of the index is full of dead entries: 300 ms for 500 jobs from the front (twice), 10 ms past the floor.
        floor.claimed(null, -300 * MS, 300 * MS, 500, key(0, 0, 1));
        floor.claimed(null, 0, 300 * MS, 500, key(0, 1, 1));
        ClaimFloor.Key probe = floor.bound();
        floor.claimed(probe, 310 * MS, 10 * MS, 500, key(0, 2, 2));
        assertThat(floor.isBounded()).isTrue();

        // Bounded, each past the last job claimed; no sweep until the period (10 x 300 ms = 3 s) since the full claim began.
        assertThat(floor.bound()).isEqualTo(key(0, 2, 2));
        floor.claimed(key(0, 2, 2), 400 * MS, 10 * MS, 3, key(0, 3, 3));
        assertThat(floor.startSweep(2_999 * MS)).isFalse();
        assertThat(floor.startSweep(3_000 * MS)).as("a sweep, 3 s after the full claim began").isTrue();
        assertThat(floor.startSweep(3_100 * MS)).as("one sweep at a time").isFalse();

        // Claims go on past the floor while the sweep walks the front.
        assertThat(floor.bound()).isEqualTo(key(0, 3, 3));
        floor.claimed(key(0, 3, 3), 3_100 * MS, 10 * MS, 500, key(0, 4, 4));
        assertThat(floor.takeFound(500)).isEmpty();

        // The sweep (300 ms) found two more urgent jobs: the next claims take them by id, each once; the floor stays.
        UUID urgent = new UUID(0, 99);
        UUID early = new UUID(0, 98);
        floor.swept(3_300 * MS, 300 * MS, List.of(urgent, early));
        assertThat(floor.isBounded()).isTrue();
        assertThat(floor.takeFound(1)).containsExactly(urgent);
        floor.giveBack(List.of(urgent)); // that claim failed
        assertThat(floor.takeFound(500)).containsExactly(urgent, early);
        assertThat(floor.takeFound(500)).isEmpty();
        assertThat(floor.bound()).isEqualTo(key(0, 4, 4));
        assertThat(floor.startSweep(5_999 * MS)).isFalse();
        assertThat(floor.startSweep(6_000 * MS)).isTrue();
    }

    @Test
    void aSweepThatFindsAsManyAsItLooksFor_isFollowedByAnotherAtOnce() {
        bound();
        assertThat(floor.startSweep(3_000 * MS)).isTrue();
        List<UUID> many = new ArrayList<>();
        for (int i = 0; i < ClaimFloor.SWEEP_JOBS; i++) {
            many.add(new UUID(0, i));
        }
        floor.swept(3_300 * MS, 300 * MS, many);
        assertThat(floor.startSweep(3_301 * MS)).as("more may sort before the floor").isTrue();
        floor.swept(3_601 * MS, 300 * MS, List.of(new UUID(0, 3)));
        assertThat(floor.startSweep(3_602 * MS)).isFalse();
        assertThat(floor.startSweep(6_301 * MS)).isTrue();
    }

    @Test
    void aFailedSweep_isTriedAgainAPeriodAfterIt() {
        bound();
        assertThat(floor.startSweep(3_000 * MS)).isTrue();
        floor.sweepFailed();
        assertThat(floor.isBounded()).isTrue();
        assertThat(floor.startSweep(5_999 * MS)).isFalse();
        assertThat(floor.startSweep(6_000 * MS)).isTrue();
    }

    @Test
    void aBoundedClaimThatEndsAfterAFullClaim_doesNotRaiseTheFloorTheFullClaimLowered() {
        bound();
        assertThat(floor.bound()).isEqualTo(key(0, 2, 2));
        // Two claimers of one store: one starts a bounded claim past (0, 2); the other's claim from the
        // front (it began before claims were bounded) takes jobs that sorted before it, up to (0, 1, 5), and ends first.
        ClaimFloor.Key stale = floor.bound();
        floor.claimed(null, 350 * MS, 300 * MS, 500, key(0, 1, 5));
        floor.claimed(stale, 320 * MS, 2_500 * MS, 500, key(0, 30, 30));
        assertThat(floor.bound()).as("the next bounded claim goes on after what the full claim took")
                .isEqualTo(key(0, 1, 5));
        // A bounded claim that started from that floor raises it as usual.
        floor.claimed(key(0, 1, 5), 3_500 * MS, 10 * MS, 500, key(0, 16, 16));
        assertThat(floor.bound()).isEqualTo(key(0, 16, 16));
    }

    @Test
    void whenTwoSweepsInARowAreQuickAgain_claimsAreFullAgain() {
        bound();
        assertThat(floor.startSweep(3_000 * MS)).isTrue();
        // The reader that held the horizon ended and vacuum ran: the sweeps are quick.
        floor.swept(3_008 * MS, 8 * MS, List.of());
        assertThat(floor.isBounded()).as("one quick sweep: perhaps a bounded claim was slowed by something else").isTrue();
        assertThat(floor.startSweep(4_000 * MS)).isTrue();
        floor.swept(4_008 * MS, 8 * MS, List.of());
        assertThat(floor.isBounded()).isFalse();
        assertThat(floor.bound()).isNull();
        assertThat(floor.startSweep(100_000 * MS)).isFalse();
    }

    @Test
    void sweepsThatStopAtTheJobsTheyLookFor_doNotJudge_theyDidNotWalkToTheFloor() {
        bound();
        List<UUID> many = new ArrayList<>();
        for (int i = 0; i < ClaimFloor.SWEEP_JOBS; i++) {
            many.add(new UUID(0, i));
        }
        for (long at = 3_000; at < 6_000; at += 1_000) {
            assertThat(floor.startSweep(at * MS)).isTrue();
            floor.swept((at + 8) * MS, 8 * MS, many); // quick, but only because the backlog before the floor is near the front
        }
        assertThat(floor.isBounded()).isTrue();
    }

    @Test
    void aQuickSweepBetweenSlowOnes_keepsClaimsBounded() {
        bound();
        assertThat(floor.startSweep(3_000 * MS)).isTrue();
        floor.swept(3_008 * MS, 8 * MS, List.of()); // quick once
        assertThat(floor.startSweep(4_000 * MS)).isTrue();
        floor.swept(4_300 * MS, 300 * MS, List.of()); // slow again: the count starts over
        assertThat(floor.startSweep(7_300 * MS)).isTrue();
        floor.swept(7_308 * MS, 8 * MS, List.of());
        assertThat(floor.isBounded()).isTrue();
    }

    @Test
    void aSweepJudgesAsAClaimFromTheFrontWould_itsWalkPlusABoundedClaimsWork() {
        bound(); // a bounded claim: 10 ms for 500 jobs
        assertThat(floor.startSweep(3_000 * MS)).isTrue();
        // 12 ms of walk: a claim from the front would take 22 ms, over twice and 10 ms more than the 10 ms past the floor.
        floor.swept(3_012 * MS, 12 * MS, List.of());
        assertThat(floor.isBounded()).isTrue();
    }

    @Test
    void whenSweepsKeepFailing_claimsStartFromTheFrontAgain_afterTheStallLimit() {
        bound(); // bounded by the probe that started at 310 ms
        assertThat(floor.startSweep(3_000 * MS)).isTrue();
        floor.sweepFailed();
        long limit = 310 * MS + ClaimFloor.SWEEPS_STALLED_NANOS;
        assertThat(floor.unboundIfSweepsStalled(limit - 1)).isFalse();
        assertThat(floor.startSweep(6_000 * MS)).isTrue();
        floor.swept(limit - MS, 300 * MS, List.of()); // one succeeds: the stall clock starts again
        assertThat(floor.unboundIfSweepsStalled(limit + MS)).isFalse();
        assertThat(floor.startSweep(limit)).isTrue(); // and then none ends: hung, say
        assertThat(floor.unboundIfSweepsStalled(limit - MS + ClaimFloor.SWEEPS_STALLED_NANOS)).isTrue();
        assertThat(floor.isBounded()).isFalse();
        assertThat(floor.bound()).isNull();
        assertThat(floor.unboundIfSweepsStalled(limit + 2 * ClaimFloor.SWEEPS_STALLED_NANOS)).as("once").isFalse();
    }

    @Test
    void anEmptyFullClaimThatWalkedDeadEntries_bounds_andTheFloorStays() {
        // The queue has caught up; the front still costs 200 ms to walk, an empty bounded claim 1 ms.
        floor.claimed(null, 0, 20 * MS, 10, key(0, 5, 5));
        floor.claimed(null, 100 * MS, 200 * MS, 0, null);
        ClaimFloor.Key probe = floor.bound();
        assertThat(probe).isEqualTo(key(0, 5, 5));
        floor.claimed(probe, 400 * MS, 1 * MS, 0, null);
        assertThat(floor.isBounded()).isTrue();
        assertThat(floor.bound()).isEqualTo(key(0, 5, 5));
    }

    @Test
    void theSweepPeriod_isTenSweeps_betweenOneAndSixtySeconds() {
        floor.claimed(null, -30 * MS, 25 * MS, 500, key(0, 0, 1));
        floor.claimed(null, 0, 25 * MS, 500, key(0, 1, 1));
        floor.claimed(floor.bound(), 30 * MS, 1 * MS, 500, key(0, 2, 2));
        assertThat(floor.isBounded()).isTrue();
        assertThat(floor.startSweep(999 * MS)).as("10 x 25 ms is less than the least period, 1 s").isFalse();
        assertThat(floor.startSweep(1_000 * MS)).isTrue();

        floor.swept(3_000 * MS, 2_000 * MS, List.of());
        assertThat(floor.isBounded()).isTrue();
        assertThat(floor.startSweep(20_999 * MS)).as("10 x 2 s").isFalse();
        assertThat(floor.startSweep(21_000 * MS)).isTrue();

        floor.swept(30_000 * MS, 9_000 * MS, List.of());
        assertThat(floor.isBounded()).isTrue();
        assertThat(floor.startSweep(80_999 * MS)).as("10 x 9 s is more than the longest period, 60 s").isFalse();
        assertThat(floor.startSweep(81_000 * MS)).isTrue();
    }

    @Test
    void jobsAFairClaimTookPastTheFloor_raiseIt_onlyWhileBounded() {
        floor.claimed(null, 0, 5 * MS, 500, key(0, 1, 1));
        floor.claimedElsewhere(key(0, 9, 9));
        assertThat(floor.bound()).as("not bounded: claims from the front").isNull();

        bound();
        floor.claimedElsewhere(key(0, 9, 9));
        assertThat(floor.bound()).isEqualTo(key(0, 9, 9));
        floor.claimedElsewhere(key(0, 5, 5));
        assertThat(floor.bound()).as("never lowered: the sweeps find what sorts before it").isEqualTo(key(0, 9, 9));
    }

    /** Bounds the floor at (0, 2, 2): full claims of 300 ms from the front at -300 ms and 0, then a probe of 10 ms. */
    private void bound() {
        floor.claimed(null, -300 * MS, 300 * MS, 500, key(0, 0, 1));
        floor.claimed(null, 0, 300 * MS, 500, key(0, 1, 1));
        floor.claimed(floor.bound(), 310 * MS, 10 * MS, 500, key(0, 2, 2));
        assertThat(floor.isBounded()).isTrue();
    }

    @Test
    void keys_sortAsTheClaimIndexDoes_idsBytewise() {
        UUID low = UUID.fromString("7fffffff-ffff-7fff-bfff-ffffffffffff");
        UUID high = UUID.fromString("80000000-0000-7000-8000-000000000000"); // negative as a Java long
        assertThat(new ClaimFloor.Key(0, T, high).compareTo(new ClaimFloor.Key(0, T, low))).isPositive();
        assertThat(new ClaimFloor.Key(-1, T.plusSeconds(9), high).compareTo(new ClaimFloor.Key(0, T, low))).isNegative();
        assertThat(new ClaimFloor.Key(0, T, low).compareTo(new ClaimFloor.Key(0, T.plusNanos(1_000), low))).isNegative();
    }

    private static ClaimFloor.Key key(int priority, int second, long id) {
        return new ClaimFloor.Key(priority, T.plusSeconds(second), new UUID(0, id));
    }
}
