package dev.pgqueue.examples.spring;

import dev.pgqueue.JobType;

/** The job types of the service: shared by the producer (the service) and the handler. */
public final class Jobs {

    /** A welcome mail for a new sign-up. */
    public record WelcomeMail(long signupId) {}

    /** Sends the welcome mail; a stable name, never a class name. */
    public static final JobType<WelcomeMail> WELCOME_MAIL = JobType.of("welcome-mail", WelcomeMail.class);

    private Jobs() {
    }
}
