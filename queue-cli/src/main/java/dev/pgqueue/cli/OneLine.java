package dev.pgqueue.cli;

/**
 * Folds a text onto one line for a table cell or an error line: line breaks become spaces (a
 * driver's error can span lines), and other control characters become {@code '?'}, so that text
 * stored in a job (an error message, a queue name) cannot move the cursor or recolour the terminal.
 */
final class OneLine {

    private OneLine() {}

    static String of(String message) {
        if (message == null || message.isBlank()) {
            return "(no message)";
        }
        return Safe.text(message.strip().replaceAll("\\s*\\R\\s*", " "));
    }

    /** Text printed as it is, on several lines (job show): control characters other than line breaks and tabs masked. */
    static final class Safe {
        private Safe() {}

        static String text(String text) {
            return text == null ? null : text.replaceAll("[\\p{Cc}&&[^\\n\\t]]", "?");
        }
    }
}
