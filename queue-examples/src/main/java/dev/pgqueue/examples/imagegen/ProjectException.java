package dev.pgqueue.examples.imagegen;

import java.util.UUID;

/** A request about a project that cannot be done as asked; the message is for the API's caller. */
final class ProjectException extends RuntimeException {

    /** Why; the HTTP API maps each to a status code. */
    enum Kind {
        NOT_FOUND, CONFLICT, INVALID, TOO_LARGE
    }

    private final Kind kind;

    ProjectException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    static ProjectException notFound(UUID projectId) {
        return new ProjectException(Kind.NOT_FOUND, "no project " + projectId);
    }

    Kind kind() {
        return kind;
    }
}
