package dev.pgqueue.internal;

import dev.pgqueue.JobOutcome;
import dev.pgqueue.PayloadException;
import dev.pgqueue.RetryPolicy;
import dev.pgqueue.Worker;
import dev.pgqueue.spi.JobStore.Finish;
import dev.pgqueue.spi.JobStore.FinishKind;
import java.time.Duration;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * Turns how a handler ended (an outcome, a throwable, or a stop the worker asked for) into what the
 * store records. The one place that decides between complete, retry, fail, snooze, cancel and
 * hand-back.
 */
final class Outcomes {

    private static final int STACK_FRAMES = 25;
    private static final int MAX_CAUSES = 10;

    private Outcomes() {}

    /**
     * @return what to record, or null when nothing may be recorded (the lease is lost)
     */
    static Finish decide(RunningJob run, JobOutcome outcome, Throwable error, RetryPolicy defaultPolicy) {
        if (run.isLeaseLost()) {
            return null;
        }
        if (error != null) {
            if (run.isCancellationRequested()) {
                return run.finish(FinishKind.CANCEL, "cancelled by a producer while running", Duration.ZERO);
            }
            RunningJob.StopReason stop = run.stopReason();
            if (stop == RunningJob.StopReason.SHUTDOWN) {
                return run.finish(FinishKind.RELEASE, null, Duration.ZERO);
            }
            String message = stop == RunningJob.StopReason.TIMED_OUT
                    ? "timed out after " + run.registration().type().timeout().orElseThrow()
                            + " and was interrupted: " + describe(error)
                    : describe(error);
            return retry(run, message, defaultPolicy);
        }
        if (outcome == null) {
            return retry(run, "handler returned null; return JobOutcome.done() when the job is done", defaultPolicy);
        }
        try {
            return finish(run, outcome);
        } catch (PayloadException e) {
            return retry(run, describe(e), defaultPolicy);
        }
    }

    /**
     * @throws PayloadException if the outcome's result cannot be written as JSON; the attempt then
     *     counts as failed, as if the handler had thrown
     */
    static Finish finish(RunningJob run, JobOutcome outcome) {
        if (outcome instanceof JobOutcome.Done done) {
            String resultJson = done.result() == null ? null : run.codec().encodeResult(run.name(), done.result());
            return run.finish(FinishKind.COMPLETE, null, Duration.ZERO, resultJson);
        }
        if (outcome instanceof JobOutcome.Snooze snooze) {
            return run.finish(FinishKind.SNOOZE, null, snooze.delay());
        }
        if (outcome instanceof JobOutcome.FailPermanently fail) {
            return run.finish(FinishKind.FAIL, truncate(fail.reason()), Duration.ZERO);
        }
        JobOutcome.Cancel cancel = (JobOutcome.Cancel) outcome;
        return run.finish(FinishKind.CANCEL, truncate(cancel.reason()), Duration.ZERO);
    }

    /**
     * A payload that does not map to its type's class: a failed attempt, retried as usual, because in
     * a rolling deploy the next version of the class (or of the producer) may well map it; or a
     * failure for good at once if the type says so ({@link dev.pgqueue.JobType#withPermanentPayloadFailures()}).
     */
    static Finish payloadError(RunningJob run, RetryPolicy defaultPolicy) {
        String message = run.payloadError().getMessage();
        if (run.registration().type().permanentPayloadFailures()) {
            return run.finish(FinishKind.FAIL, truncate(message), Duration.ZERO);
        }
        return retry(run, message, defaultPolicy);
    }

    static Finish retry(RunningJob run, String message, RetryPolicy defaultPolicy) {
        RetryPolicy policy = run.registration().type().retryPolicy().orElse(defaultPolicy);
        Duration delay = RetryPolicies.delay(policy, run.claimed().retryCount() + 1);
        return run.finish(FinishKind.RETRY, truncate(message), delay);
    }

    /**
     * The exception's class and message, its causes, and the top of its stack trace. Safe against
     * hostile throwables: a cause cycle, or a {@code getMessage()} that itself throws.
     */
    static String describe(Throwable error) {
        StringBuilder text = new StringBuilder(headline(error));
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        seen.add(error);
        Throwable cause = error.getCause();
        for (int depth = 0; cause != null && seen.add(cause) && depth < MAX_CAUSES; depth++) {
            text.append("\nCaused by: ").append(headline(cause));
            cause = cause.getCause();
        }
        StackTraceElement[] frames = error.getStackTrace();
        for (int i = 0; i < Math.min(frames.length, STACK_FRAMES); i++) {
            text.append("\n\tat ").append(frames[i]);
        }
        if (frames.length > STACK_FRAMES) {
            text.append("\n\t... ").append(frames.length - STACK_FRAMES).append(" more");
        }
        return text.toString();
    }

    /** "class: message", never throwing. */
    static String headline(Throwable t) {
        String message;
        try {
            message = t.getMessage();
        } catch (Throwable broken) {
            message = "<getMessage() threw " + broken.getClass().getName() + ">";
        }
        return message == null ? t.getClass().getName() : t.getClass().getName() + ": " + message;
    }

    /** The message cut to the documented length, marked where it was cut. */
    static String truncate(String message) {
        if (message == null || message.length() <= Worker.MAX_ERROR_MESSAGE_LENGTH) {
            return message;
        }
        String marker = "… [truncated, " + message.length() + " chars in all]";
        int cut = Worker.MAX_ERROR_MESSAGE_LENGTH - marker.length();
        if (Character.isHighSurrogate(message.charAt(cut - 1))) {
            cut--; // never keep half a surrogate pair: UTF-8 would store it as '?'
        }
        return message.substring(0, cut) + marker;
    }
}
