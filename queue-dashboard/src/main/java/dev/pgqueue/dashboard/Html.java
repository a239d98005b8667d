package dev.pgqueue.dashboard;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * A page being written. Markup the code writes goes in with {@link #raw}; every value from the
 * database or the request goes in with {@link #text} (or {@link #attr} inside an attribute), which
 * escapes it, so that no value can become markup.
 */
final class Html {

    private final StringBuilder out = new StringBuilder(8192);

    /** Markup written by this code, never a value. */
    Html raw(String markup) {
        out.append(markup);
        return this;
    }

    /** A value as text; null writes nothing. */
    Html text(Object value) {
        if (value != null) {
            escape(String.valueOf(value), out);
        }
        return this;
    }

    /** {@code name="value"}, the value escaped, with a leading space. */
    Html attr(String name, Object value) {
        out.append(' ').append(name).append("=\"");
        text(value);
        out.append('"');
        return this;
    }

    /** {@code <tag class="cls">value</tag>}, the value escaped. */
    Html el(String tag, String cls, Object value) {
        out.append('<').append(tag);
        if (cls != null) {
            attr("class", cls);
        }
        out.append('>');
        text(value);
        out.append("</").append(tag).append('>');
        return this;
    }

    /** A link, {@code href} and text escaped. */
    Html link(String href, Object text) {
        out.append("<a");
        attr("href", href);
        out.append('>');
        text(text);
        out.append("</a>");
        return this;
    }

    @Override
    public String toString() {
        return out.toString();
    }

    static String escape(String value) {
        StringBuilder sb = new StringBuilder(value.length() + 16);
        escape(value, sb);
        return sb.toString();
    }

    private static void escape(String value, StringBuilder sb) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
    }

    /** A query-string value. */
    static String url(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
