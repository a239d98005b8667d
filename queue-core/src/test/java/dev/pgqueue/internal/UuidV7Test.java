package dev.pgqueue.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class UuidV7Test {

    /** PostgreSQL's order for uuid: unsigned, byte by byte. */
    private static int compare(UUID a, UUID b) {
        int high = Long.compareUnsigned(a.getMostSignificantBits(), b.getMostSignificantBits());
        return high != 0 ? high : Long.compareUnsigned(a.getLeastSignificantBits(), b.getLeastSignificantBits());
    }

    private static void assertStrictlyIncreasing(List<UUID> ids) {
        for (int i = 1; i < ids.size(); i++) {
            assertThat(compare(ids.get(i - 1), ids.get(i))).as("id %d after id %d", i, i - 1).isNegative();
            assertThat(ids.get(i - 1)).isLessThan(ids.get(i));
        }
    }

    @Test
    void next_isVersion7WithTheRfcVariant() {
        for (int i = 0; i < 1_000; i++) {
            UUID id = UuidV7.next();
            assertThat(id.version()).isEqualTo(7);
            assertThat(id.variant()).isEqualTo(2);
        }
    }

    @Test
    void next_startsWithTheCurrentUnixTimeInMilliseconds() {
        long before = System.currentTimeMillis();
        UUID id = UuidV7.next();
        long after = System.currentTimeMillis();

        long millis = id.getMostSignificantBits() >>> 16;
        // Ids made faster than 4096 per millisecond run slightly ahead of the clock, never behind it.
        assertThat(millis).isBetween(before, after + 1_000);
    }

    @Test
    void next_isStrictlyIncreasingWithinOneMillisecondBurst() {
        List<UUID> ids = new ArrayList<>();
        for (int i = 0; i < 100_000; i++) {
            ids.add(UuidV7.next());
        }

        assertStrictlyIncreasing(ids);
        assertThat(ids.stream().map(UUID::getLeastSignificantBits).distinct().count())
                .as("62 random bits differ from id to id").isGreaterThan(99_990L);
    }

    @Test
    void next_isStrictlyIncreasingAndUniqueAcrossThreads() throws Exception {
        int threads = 4;
        int perThread = 50_000;
        CyclicBarrier start = new CyclicBarrier(threads);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<List<UUID>>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                results.add(pool.submit(() -> {
                    start.await(10, TimeUnit.SECONDS);
                    List<UUID> ids = new ArrayList<>(perThread);
                    for (int i = 0; i < perThread; i++) {
                        ids.add(UuidV7.next());
                    }
                    return ids;
                }));
            }
            Set<Long> timeAndCounter = new HashSet<>();
            Set<UUID> all = new HashSet<>();
            for (Future<List<UUID>> result : results) {
                List<UUID> ids = result.get(60, TimeUnit.SECONDS);
                assertStrictlyIncreasing(ids);
                ids.forEach(id -> {
                    all.add(id);
                    timeAndCounter.add(id.getMostSignificantBits());
                });
            }

            assertThat(all).hasSize(threads * perThread);
            // The timestamp and counter alone are unique across threads: one sequence for the process.
            assertThat(timeAndCounter).hasSize(threads * perThread);
        } finally {
            pool.shutdownNow();
        }
    }
}
