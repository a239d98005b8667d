package dev.pgqueue.internal;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The pgqueue version this jar was built as, which workers record in the registry. */
final class PgQueueVersion {

    private static final String VERSION = read();

    private PgQueueVersion() {}

    static String get() {
        return VERSION;
    }

    private static String read() {
        try (InputStream in = PgQueueVersion.class.getResourceAsStream("pgqueue-version.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties properties = new Properties();
            properties.load(in);
            String version = properties.getProperty("version", "unknown");
            return version.startsWith("${") ? "unknown" : version;
        } catch (IOException e) {
            return "unknown";
        }
    }
}
