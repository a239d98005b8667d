package dev.pgqueue.internal;

import java.time.Duration;

/**
 * What the parts downstream of the {@link Fetcher} tell it so that it claims as soon as a claim can
 * find work: the {@link Dispatcher} freed a slot, the {@link Completer} recorded a retry or snooze
 * that comes due later. It closes the one cycle of the data path (fetch → dispatch → complete →
 * fetch): those two are built before the fetcher they wake, so they receive this interface, which
 * the fetcher implements, rather than the fetcher itself.
 */
interface ClaimHints {

    /** A slot was freed in a queue that has become worth a claim. */
    void slotFreed();

    /** A job of {@code queue} becomes due after {@code delay}. */
    void jobDueIn(String queue, Duration delay);
}
