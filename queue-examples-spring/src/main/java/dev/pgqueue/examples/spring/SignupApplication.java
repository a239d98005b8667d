package dev.pgqueue.examples.spring;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * The sample service. Everything pgqueue needs comes from the starter and application.properties:
 * run it with {@code --spring.datasource.url=jdbc:postgresql://localhost:5432/app?user=app}.
 */
@SpringBootApplication
public class SignupApplication {

    /**
     * Starts the service.
     *
     * @param args Spring Boot's command line arguments
     */
    public static void main(String[] args) {
        SpringApplication.run(SignupApplication.class, args);
    }
}
