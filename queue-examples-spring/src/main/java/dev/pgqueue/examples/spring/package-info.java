/**
 * A sign-up service on the pgqueue Spring Boot starter: {@link dev.pgqueue.examples.spring.SignupService}
 * stores a sign-up and enqueues its welcome mail in one transaction, and
 * {@link dev.pgqueue.examples.spring.MailConfiguration} registers the handler that "sends" it.
 */
package dev.pgqueue.examples.spring;
