package dev.pgqueue.internal;

import dev.pgqueue.JobHandler;
import dev.pgqueue.JobType;

/** A job type and the handler that runs it. */
public record HandlerRegistration<P>(JobType<P> type, JobHandler<P> handler) {}
