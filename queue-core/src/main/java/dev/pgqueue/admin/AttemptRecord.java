package dev.pgqueue.admin;

import java.time.Instant;

/**
 * One entry of a job's attempt history: an attempt that failed, was retried or was cancelled, or an
 * operator's action on the job (retry, payload edit).
 *
 * @param attempt the attempt it belongs to (0 for an action before any attempt)
 * @param at      when it happened
 * @param kind    what happened: {@code failed}, {@code retried}, {@code cancelled}, {@code admin-retry},
 *                {@code payload-edited}, …
 * @param message the error message or the operator's reason, or null
 * @param worker  the worker that ran the attempt, or null
 */
public record AttemptRecord(int attempt, Instant at, String kind, String message, String worker) {}
