package dev.pgqueue.dashboard;

import java.security.SecureRandom;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What an action did, shown once on the page it redirects to ({@code ?done=KEY}). Kept in memory for
 * a minute, at most {@value #MAX} at a time; the key is random, so the message cannot be chosen by
 * whoever writes a link.
 */
final class Flash {

    private static final int MAX = 1_000;
    private static final long TTL_NANOS = 60_000_000_000L;

    record Message(String text, boolean error, long at) {}

    private final Map<String, Message> messages = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();

    String put(String text, boolean error) {
        long now = System.nanoTime();
        if (messages.size() >= MAX) {
            for (Iterator<Message> it = messages.values().iterator(); it.hasNext(); ) {
                if (now - it.next().at() > TTL_NANOS) {
                    it.remove();
                }
            }
            if (messages.size() >= MAX) {
                messages.clear();
            }
        }
        String key = Long.toHexString(random.nextLong() & Long.MAX_VALUE);
        messages.put(key, new Message(text, error, now));
        return key;
    }

    /** The message, once. */
    Message take(String key) {
        if (key == null) {
            return null;
        }
        Message m = messages.remove(key);
        return m == null || System.nanoTime() - m.at() > TTL_NANOS ? null : m;
    }
}
