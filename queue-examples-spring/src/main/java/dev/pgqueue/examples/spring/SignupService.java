package dev.pgqueue.examples.spring;

import dev.pgqueue.JobQueue;
import java.util.Map;
import java.util.Optional;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Sign-ups: the row and its welcome mail are written together or not at all. */
@Service
public class SignupService {

    private final JdbcTemplate jdbc;
    private final JobQueue queue;

    SignupService(JdbcTemplate jdbc, JobQueue queue) {
        this.jdbc = jdbc;
        this.queue = queue;
    }

    /**
     * Signs {@code email} up and enqueues its welcome mail, in one transaction: if the insert fails (the
     * address is taken), no mail is queued; if the enqueue fails, no sign-up is stored.
     *
     * @param email the address
     * @return the sign-up's id
     */
    @Transactional
    public long signUp(String email) {
        long id = jdbc.queryForObject("INSERT INTO signup (email) VALUES (?) RETURNING id", Long.class, email);
        queue.enqueue(Jobs.WELCOME_MAIL, new Jobs.WelcomeMail(id));
        return id;
    }

    /**
     * A sign-up as stored.
     *
     * @param id the sign-up's id
     * @return its email and when its welcome mail went out (null until then), if it exists
     */
    public Optional<Map<String, Object>> find(long id) {
        return jdbc.queryForList("SELECT id, email, welcomed_at FROM signup WHERE id = ?", id).stream().findFirst();
    }
}
