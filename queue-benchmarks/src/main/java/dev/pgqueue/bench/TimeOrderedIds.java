package dev.pgqueue.bench;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Version 7 UUIDs for the raw ceiling's inserts into pgqueue's table, because pgqueue makes its ids
 * the same way, in the client: ids inserted one after another then share B-tree pages, and both
 * sides pay the same index cost. Layout: 48 bits of Unix milliseconds, version 7, 12 bits of a
 * wrapping counter, the variant, 62 random bits.
 */
final class TimeOrderedIds {

    private static final AtomicInteger COUNTER = new AtomicInteger();

    private TimeOrderedIds() {}

    static UUID next() {
        long millis = System.currentTimeMillis();
        long sequence = COUNTER.getAndIncrement() & 0xFFF;
        long high = (millis << 16) | 0x7000L | sequence;
        long low = (ThreadLocalRandom.current().nextLong() >>> 2) | 0x8000_0000_0000_0000L;
        return new UUID(high, low);
    }
}
