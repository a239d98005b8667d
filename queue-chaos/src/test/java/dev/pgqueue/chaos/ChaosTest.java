package dev.pgqueue.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The chaos run: CI-sized under {@code mvn verify} (N=2,000, K=3, 2 kills, 1 connection drop, 1
 * server crash, 1 worker paused past its lease); full-sized with {@code -Pchaos-full}.
 */
class ChaosTest {

    @Test
    void workersKilledPausedAndCutOff_andTheServerCrashed_loseNothing_andRunNothingTwiceUnderALiveLease() throws Exception {
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
