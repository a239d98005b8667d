package dev.pgqueue.examples.spring;

import java.net.URI;
import java.util.Map;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/** {@code POST /signups {"email": ...}} signs up; {@code GET /signups/{id}} shows whether it was welcomed. */
@RestController
public class SignupController {

    /**
     * A sign-up request.
     *
     * @param email the address to sign up
     */
    public record SignupRequest(String email) {}

    private final SignupService signups;

    SignupController(SignupService signups) {
        this.signups = signups;
    }

    @PostMapping("/signups")
    ResponseEntity<Map<String, Object>> signUp(@RequestBody SignupRequest request) {
        long id = signups.signUp(request.email());
        return ResponseEntity.created(URI.create("/signups/" + id)).body(Map.of("id", id));
    }

    @GetMapping("/signups/{id}")
    ResponseEntity<Map<String, Object>> find(@PathVariable("id") long id) {
        return ResponseEntity.of(signups.find(id));
    }

    @ExceptionHandler(DuplicateKeyException.class)
    ResponseEntity<Map<String, Object>> taken(DuplicateKeyException e) {
        return ResponseEntity.status(HttpStatus.CONFLICT).body(Map.of("error", "email already signed up"));
    }
}
