package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * When a fair queue's claims start each key past its floor: only while a claim from the fair index's
 * front is much slower per job than a bounded one; then one claim a period is from the front, so that a
 * new key or a job before its key's floor waits at most that long. The clock is passed in, so each step
 * is exact.
 */
class FairFloorTest {

    private static final long MS = 1_000_000L;
    private static final Instant T = Instant.parse("2026-12-07T12:00:00Z");

    private final FairFloor floor = new FairFloor();

    @Test
    void fastClaimsFromTheFront_neverBound() {
        long now = 0;
        for (int i = 0; i < 100; i++) {
            assertThat(floor.bound(null, now)).isNull();
            floor.claimed(null, now, 5 * MS, 500, Map.of("a", key(0, i, i), "b", key(0, i, 1_000 + i)));
            now += 10 * MS;
        }
        assertThat(floor.isBounded()).isFalse();
    }

    @Test
    void aSlowClaimFromTheFront_thatIsSlowForItsJobsToo_isProbedOnce_thenFromTheFrontAgain() {
        floor.claimed(null, 0, 40 * MS, 500, Map.of("a", key(0, 1, 1)));
        FairFloor.Bounds probe = floor.bound(null, 50 * MS);
        assertThat(probe.keys()).containsExactly("a");
        floor.claimed(probe, 50 * MS, 40 * MS, 500, Map.of("a", key(0, 2, 2)));
        assertThat(floor.isBounded()).isFalse();
        assertThat(floor.bound(null, 100 * MS)).isNull();
    }

    @Test
    void aClaimFromTheFrontSlowFromDeadEntries_boundsClaims_withAClaimFromTheFrontEachPeriod() {
        bound();
        assertThat(floor.isBounded()).isTrue();

        // Bounded, each key past the last job claimed from it, in key order from the cursor round to it.
        FairFloor.Bounds bounds = floor.bound("b", 400 * MS);
        assertThat(bounds.keys()).containsExactly("c", "a", "b");
        assertThat(bounds.floors()).containsExactly(key(0, 3, 3), key(0, 2, 1), key(0, 2, 2));
        floor.claimed(bounds, 400 * MS, 10 * MS, 500, Map.of("c", key(0, 4, 3)));
        assertThat(floor.bound(null, 500 * MS).floors()).containsExactly(key(0, 2, 1), key(0, 2, 2), key(0, 4, 3));

        // The period is ten times the claim from the front (300 ms): 3 s after it began, one from the front, one at a time.
        assertThat(floor.bound(null, 2_999 * MS)).isNotNull();
        assertThat(floor.bound(null, 3_000 * MS)).as("from the front, 3 s after the last one began").isNull();
        assertThat(floor.bound(null, 3_001 * MS)).as("bounded while it runs").isNotNull();
        // It took a more urgent job of a: a's floor goes back to it; a new key d is known from now on.
        floor.claimed(null, 3_000 * MS, 300 * MS, 500, Map.of("a", key(-1, 9, 9), "d", key(0, 5, 5)));
        assertThat(floor.isBounded()).isTrue();
        FairFloor.Bounds after = floor.bound(null, 3_400 * MS);
        assertThat(after.keys()).containsExactly("a", "b", "c", "d");
        assertThat(after.floors().get(0)).isEqualTo(key(-1, 9, 9));
        assertThat(floor.bound(null, 5_999 * MS)).isNotNull();
        assertThat(floor.bound(null, 6_000 * MS)).isNull();
    }

    @Test
    void aFailedClaimFromTheFront_isTriedAgainAPeriodAfterIt() {
        bound();
        assertThat(floor.bound(null, 3_000 * MS)).isNull();
        floor.claimFailed(null);
        assertThat(floor.bound(null, 5_999 * MS)).isNotNull();
        assertThat(floor.bound(null, 6_000 * MS)).isNull();
    }

    @Test
    void whenAClaimFromTheFrontIsQuickAgain_claimsAreFromTheFrontAgain() {
        bound();
        assertThat(floor.bound(null, 3_000 * MS)).isNull();
        // The reader that held the horizon ended and vacuum ran.
        floor.claimed(null, 3_000 * MS, 8 * MS, 500, Map.of("a", key(0, 6, 1)));
        assertThat(floor.isBounded()).isFalse();
        assertThat(floor.bound(null, 3_010 * MS)).isNull();
    }

    @Test
    void aBoundedClaimThatEndsAfterAClaimFromTheFront_doesNotRaiseAFloorThatClaimLowered() {
        bound();
        FairFloor.Bounds stale = floor.bound(null, 400 * MS); // a: past (0, 2, 1)
        // Another claimer's claim from the front ends first: it took a job of a that sorted before a's floor.
        floor.claimed(null, 350 * MS, 300 * MS, 500, Map.of("a", key(0, 1, 7)));
        floor.claimed(stale, 400 * MS, 2_500 * MS, 500, Map.of("a", key(0, 30, 30), "b", key(0, 31, 31)));
        FairFloor.Bounds next = floor.bound(null, 3_000 * MS - 1);
        assertThat(next.floors()).as("a goes on after what the claim from the front took; b after the bounded claim")
                .containsExactly(key(0, 1, 7), key(0, 31, 31), key(0, 3, 3));
    }

    @Test
    void aBoundedClaimThatRollsBack_putsItsKeysFloorsBack_andOneFromTheFront_makesTheNextFromTheFront() {
        bound();
        FairFloor.Bounds bounds = floor.bound(null, 400 * MS);
        floor.claimed(bounds, 400 * MS, 10 * MS, 500, Map.of("a", key(0, 10, 10), "c", key(0, 11, 11)));
        floor.rolledBack(bounds);
        assertThat(floor.bound(null, 500 * MS).floors()).containsExactly(key(0, 2, 1), key(0, 2, 2), key(0, 3, 3));

        assertThat(floor.bound(null, 3_000 * MS)).isNull();
        floor.claimed(null, 3_000 * MS, 300 * MS, 500, Map.of("a", key(0, 12, 12)));
        floor.rolledBack(null);
        assertThat(floor.bound(null, 3_400 * MS)).as("the next claim is from the front, not a period later").isNull();
        floor.claimed(null, 3_400 * MS, 300 * MS, 500, Map.of("a", key(0, 12, 12)));
        assertThat(floor.bound(null, 3_800 * MS)).isNotNull();
    }

    @Test
    void keepsTheFloorsOfAtMostMaxKeys() {
        Map<String, ClaimFloor.Key> many = new HashMap<>();
        for (int i = 0; i <= FairFloor.MAX_KEYS; i++) {
            many.put(String.format("k%06d", i), key(0, 1, i));
        }
        floor.claimed(null, 0, 300 * MS, many.size(), many);
        FairFloor.Bounds probe = floor.bound(null, 310 * MS);
        assertThat(probe.keys()).hasSize(FairFloor.MAX_KEYS);
    }

    /** Keys a, b, c claimed from the front in 300 ms, then a bounded probe of 10 ms: claims are bounded. */
    private void bound() {
        floor.claimed(null, 0, 300 * MS, 500, Map.of("a", key(0, 1, 1), "b", key(0, 2, 2), "c", key(0, 3, 3)));
        FairFloor.Bounds probe = floor.bound(null, 310 * MS);
        assertThat(probe.keys()).containsExactly("a", "b", "c");
        floor.claimed(probe, 310 * MS, 10 * MS, 500, Map.of("a", key(0, 2, 1)));
        List<ClaimFloor.Key> floors = floor.bound(null, 320 * MS).floors();
        assertThat(floors).containsExactly(key(0, 2, 1), key(0, 2, 2), key(0, 3, 3));
    }

    private static ClaimFloor.Key key(int priority, int second, long id) {
        return new ClaimFloor.Key(priority, T.plusSeconds(second), new UUID(0, id));
    }
}
