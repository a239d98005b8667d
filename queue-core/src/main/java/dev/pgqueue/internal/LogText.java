package dev.pgqueue.internal;

/**
 * Text that the worker does not control (exception messages, a database's error text, a
 * notification any role may send) made fit for one log line: control characters and line breaks
 * escaped, so that nobody can forge log lines, and cut to {@link #MAX_LENGTH} characters, so that a
 * 5 MB exception message costs a log line of a kilobyte. Payload content never goes through here
 * unless the application asked for it ({@code Worker.Builder.logPayloads}).
 */
public final class LogText {

    /** The most characters of outside text one log argument carries. */
    public static final int MAX_LENGTH = 1_000;

    private LogText() {}

    /** {@code text} escaped and cut to {@link #MAX_LENGTH}, marked where it was cut; "null" for null. */
    public static String of(String text) {
        if (text == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder(Math.min(text.length(), MAX_LENGTH) + 16);
        int i = 0;
        for (; i < text.length() && out.length() < MAX_LENGTH; i++) {
            char c = text.charAt(i);
            switch (c) {
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029'
                            || (Character.isSurrogate(c) && !completesPair(text, i))) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        if (i < text.length()) {
            if (Character.isHighSurrogate(out.charAt(out.length() - 1))) {
                out.setLength(out.length() - 1);
                i--;
            }
            out.append("… [cut, ").append(text.length()).append(" chars in all]");
        }
        return out.toString();
    }

    /** The exception's class and message, escaped and cut. */
    public static String of(Throwable error) {
        return of(Outcomes.headline(error));
    }

    private static boolean completesPair(String text, int i) {
        char c = text.charAt(i);
        return Character.isHighSurrogate(c)
                ? i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))
                : i > 0 && Character.isHighSurrogate(text.charAt(i - 1));
    }
}
