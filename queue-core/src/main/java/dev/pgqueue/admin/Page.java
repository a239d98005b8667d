package dev.pgqueue.admin;

/**
 * Which page of a {@link JobAdmin#find} result: how many jobs, in which order, after which cursor.
 * Keyset paging: a cursor names the last job of the previous page, so pages stay stable and fast
 * however deep they go.
 *
 * @param limit  most jobs on the page, 1 to {@link #MAX_LIMIT}
 * @param order  newest or oldest first, by creation time then id
 * @param cursor the previous page's {@link JobPage#nextCursor()}, or null for the first page
 */
public record Page(int limit, Order order, String cursor) {

    /** Largest page. */
    public static final int MAX_LIMIT = 1_000;

    /** The order of a page. */
    public enum Order {
        /** Most recently created first. */
        NEWEST_FIRST,
        /** Least recently created first. */
        OLDEST_FIRST
    }

    /**
     * {@return the first page, newest first}
     *
     * @param limit most jobs on the page
     */
    public static Page newestFirst(int limit) {
        return new Page(limit, Order.NEWEST_FIRST, null);
    }

    /**
     * {@return the first page, oldest first}
     *
     * @param limit most jobs on the page
     */
    public static Page oldestFirst(int limit) {
        return new Page(limit, Order.OLDEST_FIRST, null);
    }

    /**
     * {@return the page after the one whose {@link JobPage#nextCursor()} this is, in the same order}
     *
     * @param cursor the previous page's next cursor
     */
    public Page after(String cursor) {
        return new Page(limit, order, cursor);
    }
}
