package dev.pgqueue.examples.spring;

import dev.pgqueue.JobOutcome;
import dev.pgqueue.spring.JobHandlerRegistration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;

/** The welcome mail's handler, registered as a bean: the starter's worker finds it and runs it. */
@Configuration(proxyBeanMethods = false)
public class MailConfiguration {

    private static final Logger log = LoggerFactory.getLogger(MailConfiguration.class);

    /**
     * "Sends" the welcome mail (logs it) and marks the sign-up welcomed. Idempotent, as every handler
     * must be (at-least-once): a second run changes nothing.
     *
     * @param jdbc the application's JDBC access
     * @return the registration
     */
    @Bean
    JobHandlerRegistration<Jobs.WelcomeMail> welcomeMail(JdbcTemplate jdbc) {
        return JobHandlerRegistration.of(Jobs.WELCOME_MAIL, (job, context) -> {
            long id = job.payload().signupId();
            String email = jdbc.queryForObject("SELECT email FROM signup WHERE id = ?", String.class, id);
            log.info("welcome mail to {} (sign-up {})", email, id);
            jdbc.update("UPDATE signup SET welcomed_at = coalesce(welcomed_at, now()) WHERE id = ?", id);
            return JobOutcome.done();
        });
    }
}
