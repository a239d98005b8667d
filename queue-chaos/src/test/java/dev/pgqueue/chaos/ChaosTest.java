package dev.pgqueue.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;

/**
 * The chaos run: CI-sized under {@code mvn verify} (N=2,000, K=3, 2 kills, 1 connection drop, 1
 * server crash, 1 worker paused past its lease); full-sized with {@code -Pchaos-full}.
 */
class ChaosTest {

    @Test
    void workersKilledPausedAndCutOff_andTheServerCrashed_loseNothing_andRunNothingTwiceUnderALiveLease() throws Exception {
        // A developer machine without PostgreSQL server binaries skips this; CI (CI=true) never does.
        assumeTrue(OwnPostgres.available() || "true".equals(System.getenv("CI")),
                "no PostgreSQL server binaries (initdb, pg_ctl) to run a server of the chaos run's own; see README, Building");
        ChaosConfig config = ChaosConfig.named(System.getProperty("chaos.scale", "ci"));

        ChaosCheck.Report report = ChaosRun.run(config);

        assertThat(report.violations()).as(report.table()).isEmpty();
        assertThat(report.figures())
                .containsEntry("workers killed (SIGKILL)", String.valueOf(config.kills()))
                .containsEntry("server crashes (pg_ctl restart -m immediate)", String.valueOf(config.crashes()))
                .containsEntry("workers paused past their lease (SIGSTOP/SIGCONT)", String.valueOf(config.pauses()))
                .containsEntry("lost", "0")
                .containsEntry("duplicates beyond the lease", "0");
        assertThat(Integer.parseInt(report.figures().get("zombie outcomes fenced out")))
                .as("the paused worker's late outcomes reached the fence")
                .isPositive();
    }
}
