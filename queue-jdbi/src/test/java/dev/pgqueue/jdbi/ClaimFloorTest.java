package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * When claims start past the floor: only while a full claim is much slower per job than a bounded
 * one, with a full claim at least every period, so that a job sorting before the floor waits at most
 * that long. The clock is passed in, so each step is exact.
 */
class ClaimFloorTest {

    private static final long MS = 1_000_000L;
    private static final Instant T = Instant.parse("2026-12-06T12:00:00Z");

    private final ClaimFloor floor = new ClaimFloor();

    @Test
    void fastFullClaims_neverBound() {
        long now = 0;
        for (int i = 0; i < 100; i++) {
            assertThat(floor.bound(now)).isNull();
            floor.claimed(null, now, 5 * MS, 500, key(0, i, i));
            now += 10 * MS;
        }
        assertThat(floor.isBounded()).isFalse();
    }

    @Test
    void aSlowFullClaim_thatIsSlowForItsJobsToo_isProbedOnce_thenFullAgain() {
        // 40 ms for 500 jobs, then a bounded probe as slow per job: the jobs, not dead entries, cost the time.
        floor.claimed(null, 0, 40 * MS, 500, key(0, 1, 1));
        ClaimFloor.Key probe = floor.bound(50 * MS);
        assertThat(probe).isEqualTo(key(0, 1, 1));
        floor.claimed(probe, 50 * MS, 40 * MS, 500, key(0, 2, 2));
        assertThat(floor.isBounded()).isFalse();
        assertThat(floor.bound(100 * MS)).isNull();
    }

    @Test
    void aFullClaimSlowFromDeadEntries_boundsClaims_withAFullClaimEachPeriod() {
        // The front of the index is full of dead entries: 300 ms for 500 jobs from the front, 10 ms past the floor.
        floor.claimed(null, 0, 300 * MS, 500, key(0, 1, 1));
        ClaimFloor.Key probe = floor.bound(310 * MS);
        floor.claimed(probe, 310 * MS, 10 * MS, 500, key(0, 2, 2));
        assertThat(floor.isBounded()).isTrue();

        // Bounded, each past the last job claimed, until the period (10 x 300 ms = 3 s) since the full claim began.
        assertThat(floor.bound(400 * MS)).isEqualTo(key(0, 2, 2));
        floor.claimed(key(0, 2, 2), 400 * MS, 10 * MS, 3, key(0, 3, 3));
        assertThat(floor.bound(2_999 * MS)).isEqualTo(key(0, 3, 3));
        assertThat(floor.bound(3_000 * MS)).as("a full claim, 3 s after the last one began").isNull();

        // That full claim finds a more urgent job that sorted before the floor: the floor follows what it took.
        floor.claimed(null, 3_000 * MS, 300 * MS, 1, key(-5, 9, 9));
        assertThat(floor.isBounded()).isTrue();
        assertThat(floor.bound(3_400 * MS)).isEqualTo(key(-5, 9, 9));
    }

    @Test
    void aBoundedClaimThatEndsAfterAFullClaim_doesNotRaiseTheFloorTheFullClaimLowered() {
        floor.claimed(null, 0, 300 * MS, 500, key(0, 10, 10));
        floor.claimed(floor.bound(310 * MS), 310 * MS, 10 * MS, 500, key(0, 20, 20));
        assertThat(floor.isBounded()).isTrue();
        // Two claimers of one store: one starts a bounded claim past (0, 20), then the other's full claim
        // (the period is over) takes jobs that sorted before it, up to (0, 15), and ends first.
        ClaimFloor.Key stale = floor.bound(1_000 * MS);
        assertThat(stale).isEqualTo(key(0, 20, 20));
        floor.claimed(null, 3_100 * MS, 300 * MS, 500, key(0, 15, 15));
        floor.claimed(stale, 1_000 * MS, 2_500 * MS, 500, key(0, 30, 30));
        assertThat(floor.bound(3_500 * MS)).as("the next bounded claim goes on after what the full claim took")
                .isEqualTo(key(0, 15, 15));
        // A bounded claim that started from that floor raises it as usual.
        floor.claimed(key(0, 15, 15), 3_500 * MS, 10 * MS, 500, key(0, 16, 16));
        assertThat(floor.bound(3_600 * MS)).isEqualTo(key(0, 16, 16));
    }

    @Test
    void whenFullClaimsAreCheapAgain_claimsAreFullAgain() {
        floor.claimed(null, 0, 300 * MS, 500, key(0, 1, 1));
        floor.claimed(floor.bound(310 * MS), 310 * MS, 10 * MS, 500, key(0, 2, 2));
        assertThat(floor.isBounded()).isTrue();
        // The reader that held the horizon ended and vacuum ran: the next full claim is quick.
        floor.claimed(null, 3_500 * MS, 8 * MS, 500, key(0, 4, 4));
        assertThat(floor.isBounded()).isFalse();
        assertThat(floor.bound(3_600 * MS)).isNull();
    }

    @Test
    void anEmptyFullClaimThatWalkedDeadEntries_bounds_andTheFloorStays() {
        // The queue has caught up; the front still costs 200 ms to walk, an empty bounded claim 1 ms.
        floor.claimed(null, 0, 20 * MS, 10, key(0, 5, 5));
        floor.claimed(null, 100 * MS, 200 * MS, 0, null);
        ClaimFloor.Key probe = floor.bound(400 * MS);
        assertThat(probe).isEqualTo(key(0, 5, 5));
        floor.claimed(probe, 400 * MS, 1 * MS, 0, null);
        assertThat(floor.isBounded()).isTrue();
        assertThat(floor.bound(500 * MS)).isEqualTo(key(0, 5, 5));
    }

    @Test
    void theFullClaimPeriod_isTenFullClaims_betweenOneAndSixtySeconds() {
        floor.claimed(null, 0, 25 * MS, 500, key(0, 1, 1));
        floor.claimed(floor.bound(30 * MS), 30 * MS, 1 * MS, 500, key(0, 2, 2));
        assertThat(floor.isBounded()).isTrue();
        assertThat(floor.bound(999 * MS)).as("10 x 25 ms is less than the least period, 1 s").isNotNull();
        assertThat(floor.bound(1_000 * MS)).isNull();

        floor.claimed(null, 1_000 * MS, 2_000 * MS, 500, key(0, 3, 3));
        assertThat(floor.isBounded()).isTrue();
        assertThat(floor.bound(20_999 * MS)).as("10 x 2 s").isNotNull();
        assertThat(floor.bound(21_000 * MS)).isNull();

        floor.claimed(null, 21_000 * MS, 9_000 * MS, 500, key(0, 4, 4));
        assertThat(floor.isBounded()).isTrue();
        assertThat(floor.bound(80_999 * MS)).as("10 x 9 s is more than the longest period, 60 s").isNotNull();
        assertThat(floor.bound(81_000 * MS)).isNull();
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
