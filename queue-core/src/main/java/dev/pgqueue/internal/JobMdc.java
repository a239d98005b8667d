package dev.pgqueue.internal;

import dev.pgqueue.Worker;
import java.util.UUID;
import org.slf4j.MDC;

/**
 * Puts a job's id and type into the SLF4J MDC ({@link Worker#MDC_JOB_ID}, {@link Worker#MDC_JOB_TYPE})
 * for the log lines the worker writes about that job on any of its threads (completer, heartbeat,
 * rescuer, timeouts), so that every line about a job can be found by its id, as the handler's own
 * lines are. Restores what was there before on close, so that it nests inside a handler's MDC.
 */
final class JobMdc implements AutoCloseable {

    private final String previousId;
    private final String previousType;

    private JobMdc(UUID id, String type) {
        previousId = MDC.get(Worker.MDC_JOB_ID);
        previousType = MDC.get(Worker.MDC_JOB_TYPE);
        MDC.put(Worker.MDC_JOB_ID, String.valueOf(id));
        MDC.put(Worker.MDC_JOB_TYPE, type);
    }

    /** The job's id and type in the MDC until {@link #close()}. */
    static JobMdc of(UUID id, String type) {
        return new JobMdc(id, type);
    }

    /** The running job's id and type in the MDC until {@link #close()}. */
    static JobMdc of(RunningJob run) {
        return new JobMdc(run.jobId(), run.claimed().type());
    }

    @Override
    public void close() {
        restore(Worker.MDC_JOB_ID, previousId);
        restore(Worker.MDC_JOB_TYPE, previousType);
    }

    private static void restore(String key, String value) {
        if (value == null) {
            MDC.remove(key);
        } else {
            MDC.put(key, value);
        }
    }
}
