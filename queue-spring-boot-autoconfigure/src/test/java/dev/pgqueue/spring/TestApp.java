package dev.pgqueue.spring;

import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Configuration;

/** An application with nothing but Spring Boot's auto-configuration, as a user's would have. */
@Configuration(proxyBeanMethods = false)
@EnableAutoConfiguration
class TestApp {
}
