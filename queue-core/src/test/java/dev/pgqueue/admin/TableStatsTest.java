package dev.pgqueue.admin;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * When one reading of the table's statistics says dead rows pile up (the CLI's health command and the
 * dashboard judge from one). The numbers are those of measured runs (issue 18's autovac workload at
 * 6,000 jobs/s, completed jobs pruned after 5 s, stock autovacuum every minute).
 */
class TableStatsTest {

    private static TableStats reading(long live, long dead, long insertedSinceVacuum) {
        return new TableStats(live, dead, insertedSinceVacuum, null, null, null);
    }

    @Test
    void aBusyQueueBetweenVacuums_doesNotPileUp_thoughItsDeadRowsAreFortyTimesItsLive() {
        // 55 s after a vacuum: 330,000 jobs inserted since, each claimed, completed and pruned.
        assertThat(reading(27_000, 1_100_000, 330_000).deadRowsPileUp()).isFalse();
    }

    @Test
    void deadRowsThatOutlivedTheLastVacuum_pileUp() {
        // Pinned horizon: vacuum ran 20 s ago and removed nothing; 2.6 million dead, 120,000 jobs since.
        assertThat(reading(27_000, 2_600_000, 120_000).deadRowsPileUp()).isTrue();
    }

    @Test
    void aSmallTable_hasRoomForItsLiveRowsUpdates_andAFloor() {
        assertThat(reading(0, 10_000, 0).deadRowsPileUp()).isFalse();
        assertThat(reading(0, 10_001, 0).deadRowsPileUp()).isTrue();
        assertThat(reading(1_000, 20_000, 0).deadRowsPileUp()).as("10 per live row").isFalse();
        assertThat(reading(1_000, 20_001, 0).deadRowsPileUp()).isTrue();
        assertThat(reading(0, 10_300, 100).deadRowsPileUp()).as("3 per job inserted since vacuum").isFalse();
        assertThat(reading(0, 10_301, 100).deadRowsPileUp()).isTrue();
    }
}
