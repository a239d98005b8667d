package dev.pgqueue.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgqueue.WorkerListener;
import dev.pgqueue.spi.JobStore.TableHealth;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * What the check concludes from a sequence of readings of the table's statistics. The readings are
 * scripted here because their order against autovacuum cannot be forced on a real server; that the
 * store reads them from PostgreSQL is {@code TableHealthTest}'s part (queue-jdbi).
 *
 * <p>The numbers are those of a measured run (issue 18's autovac workload, 6,000 jobs/s, completed
 * jobs pruned after 5 s, stock autovacuum): about 1.1 million dead rows made a minute, vacuum every
 * minute, 25,000 to 45,000 live rows.
 */
class TableHealthCheckTest {

    private static final Instant T0 = Instant.parse("2026-12-06T12:00:00Z");
    private static final long LIVE = 27_000;

    private final List<String> reports = Collections.synchronizedList(new ArrayList<>());
    private TableHealth reading;
    private final TableHealthCheck check = new TableHealthCheck(new RuntimeFakes.StubStore() {
        @Override
        public Optional<TableHealth> jobTableHealth() {
            return Optional.of(reading);
        }
    }, new Events(new WorkerListener() {
        @Override
        public void tableUnhealthy(String report) {
            reports.add(report);
        }
    }, false), Duration.ofMinutes(1));

    /** One check against a reading: dead rows now, the running count of dead rows made, and the last vacuum. */
    private String checkWith(long dead, long made, Instant lastVacuum) {
        reading = new TableHealth(LIVE, dead, made, 0, lastVacuum, null, null);
        check.check();
        return check.problem();
    }

    @Test
    void aBusyQueue_whoseVacuumCleansUp_isHealthy_thoughDeadRowsMadeSinceItRanFarOutnumberTheLive() {
        assertThat(checkWith(900_000, 1_000_000, T0)).isNull();
        // Vacuum ran 15 s after the last check and removed everything; 45 s of churn since: 825,000 dead.
        assertThat(checkWith(825_000, 2_100_000, T0.plusSeconds(75))).as("vacuum removed what it could reach").isNull();
        assertThat(checkWith(1_100_000, 3_200_000, T0.plusSeconds(75))).isNull();
        assertThat(checkWith(830_000, 4_300_000, T0.plusSeconds(195))).isNull();
        assertThat(reports).isEmpty();
    }

    @Test
    void aVacuumThatRanAcrossACheck_isNotBlamedForTheDeadRowsMadeWhileItRan() {
        checkWith(500_000, 1_000_000, T0);
        checkWith(1_600_000, 2_100_000, T0); // a vacuum is running
        // It ended after that check and reported 1.4 million dead rows made while it ran, some before that check.
        assertThat(checkWith(1_400_000, 3_200_000, T0.plusSeconds(130))).isNull();
        assertThat(reports).isEmpty();
    }

    @Test
    void aVacuumThatLeavesTheDeadRows_isReportedOnce_untilAVacuumCleansUpAgain() {
        // A horizon pinned from here on: every vacuum removes nothing; 1.1 million more dead rows a check.
        checkWith(100_000, 1_000_000, T0);
        checkWith(1_200_000, 2_100_000, T0);
        assertThat(checkWith(2_300_000, 3_200_000, T0.plusSeconds(150)))
                .as("100,000 dead rows beyond two checks' worth: within what a busy queue may hold").isNull();
        String problem = checkWith(3_400_000, 4_300_000, T0.plusSeconds(210));
        assertThat(problem).contains("vacuum ran at " + T0.plusSeconds(210)).contains("left at least 1,200,000 dead rows")
                .contains("3,400,000 dead rows vs 27,000 live").contains("holds back the xmin horizon");
        assertThat(checkWith(4_500_000, 5_400_000, T0.plusSeconds(210))).as("no vacuum since: the verdict stands").isNotNull();
        assertThat(checkWith(5_600_000, 6_500_000, T0.plusSeconds(270))).contains("left at least 3,400,000");
        assertThat(reports).as("once per episode").hasSize(1);

        // The pin ended; the next vacuum removed all but what was made while and after it ran.
        assertThat(checkWith(600_000, 7_600_000, T0.plusSeconds(330))).isNull();
        assertThat(checkWith(1_200_000, 8_200_000, T0.plusSeconds(330))).isNull();
        assertThat(reports).hasSize(1);
    }

    @Test
    void statisticsResetBeforeThePreviousCheck_judgeNothing_evenWhenTheNewCountOvertookTheOld() {
        checkWith(0, 1_000_000, T0);
        checkWith(100_000, 200_000, T0); // pg_stat_reset() between these two checks
        // 4 million made since the reset: measured from the old count, only 3 million would seem made.
        assertThat(checkWith(3_500_000, 4_200_000, T0.plusSeconds(120))).isNull();
        assertThat(reports).isEmpty();
    }

    @Test
    void statisticsResetBetweenChecks_judgeNothing_untilTwoReadingsOfTheNewCount() {
        checkWith(0, 5_000_000, T0);
        // pg_stat_reset(): the running count starts again; what was made since the last check is unknown.
        assertThat(checkWith(900_000, 900_000, T0.plusSeconds(60))).isNull();
        assertThat(checkWith(1_000_000, 1_900_000, T0.plusSeconds(120))).isNull();
        // Judged against the count two checks back, which is the new one's.
        assertThat(checkWith(2_000_000, 2_000_000, T0.plusSeconds(180))).contains("left at least 900,000");
    }

    @Test
    void theFirstVacuumSeen_isNotJudged_withoutAnEarlierReading() {
        assertThat(checkWith(5_000_000, 5_000_000, T0)).isNull();
        assertThat(checkWith(5_000_000, 5_000_000, null)).isNull();
        assertThat(reports).isEmpty();
    }
}
