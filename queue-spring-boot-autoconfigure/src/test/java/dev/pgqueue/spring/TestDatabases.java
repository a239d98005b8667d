package dev.pgqueue.spring;

import dev.pgqueue.testing.postgres.TestDatabase;

/** Points Spring Boot's data source and pgqueue at a test class's schema. */
final class TestDatabases {

    private TestDatabases() {
    }

    /** The properties an application.properties would hold for {@code database}, small pool included. */
    static String[] properties(TestDatabase database) {
        return new String[] {
            "spring.datasource.url=" + database.jdbcUrl(),
            "spring.datasource.hikari.maximum-pool-size=8",
            "spring.datasource.hikari.minimum-idle=0",
            "pgqueue.schema=" + database.schema(),
        };
    }
}
