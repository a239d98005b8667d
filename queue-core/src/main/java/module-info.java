/**
 * pgqueue's public API ({@code dev.pgqueue}) and the storage SPI ({@code dev.pgqueue.spi}).
 * The worker runtime in {@code dev.pgqueue.internal} is not exported.
 */
module dev.pgqueue.core {
    requires transitive com.fasterxml.jackson.databind;
    requires com.fasterxml.jackson.datatype.jsr310;
    requires org.slf4j;
    // Parses the cron expressions of recurring jobs; not part of the API.
    requires com.cronutils;

    exports dev.pgqueue;
    exports dev.pgqueue.spi;
    exports dev.pgqueue.admin;
    // Shared validation and codecs for pgqueue's own storage and test modules; not an API.
    exports dev.pgqueue.internal to dev.pgqueue.jdbi, dev.pgqueue.testing;
}
