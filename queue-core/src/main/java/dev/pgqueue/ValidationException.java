package dev.pgqueue;

/**
 * An argument was rejected at the API edge; nothing was written. The message follows one template
 * and is part of the API: {@code expected <field> to be <what is allowed>, got: <what was given>}.
 */
public final class ValidationException extends PgQueueException {

    /** The name of the rejected field or argument. */
    private final String field;

    /**
     * A rejected value, with a message naming {@code field}, what is allowed and what was given.
     *
     * @param field the name of the field or argument
     * @param allowed what it may be, e.g. {@code "> 0"}
     * @param given the rejected value
     */
    public ValidationException(String field, String allowed, Object given) {
        super("expected " + field + " to be " + allowed + ", got: " + describe(given));
        this.field = field;
    }

    /** {@return the name of the rejected field or argument, as it appears in the message} */
    public String field() {
        return field;
    }

    private static String describe(Object given) {
        if (given == null) {
            return "null";
        }
        if (given instanceof CharSequence text) {
            String s = text.toString();
            String shown = s.length() > 80 ? s.substring(0, 80) + "… (" + s.length() + " chars)" : s;
            return '"' + escapeUnstorable(shown) + '"';
        }
        return given.toString();
    }

    /** NUL and half surrogate pairs as \\uXXXX escapes: neither survives a log line or UTF-8. */
    private static String escapeUnstorable(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                out.append(c).append(s.charAt(++i));
            } else if (c == '\u0000' || Character.isSurrogate(c)) {
                out.append(String.format("\\u%04X", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
