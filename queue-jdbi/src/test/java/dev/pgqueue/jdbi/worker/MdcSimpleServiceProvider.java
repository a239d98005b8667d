package dev.pgqueue.jdbi.worker;

import org.slf4j.helpers.BasicMDCAdapter;
import org.slf4j.simple.SimpleServiceProvider;
import org.slf4j.spi.MDCAdapter;

/**
 * slf4j-simple, whose own MDC keeps nothing, with an MDC that keeps values per thread, so that
 * {@link JobLoggingTest} can see the job id and type the worker puts there. Selected for this
 * module's tests with the {@code slf4j.provider} system property (pom.xml).
 */
public final class MdcSimpleServiceProvider extends SimpleServiceProvider {

    private final MDCAdapter mdc = new BasicMDCAdapter();

    @Override
    public MDCAdapter getMDCAdapter() {
        return mdc;
    }
}
