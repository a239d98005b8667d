-- The image-generation example's own tables, beside pgqueue's job_queue, in the first schema of
-- search_path. Idempotent: ExampleSchema runs it at every start, under an advisory lock.
--
-- A project's life:
--   DRAFT ──generate (HTTP, + the pack job, one transaction)──► PENDING
--   PENDING ──generate-complete-pack (+ one generate-image job per image × variant, and one
--             finish-pack job waiting for all of them)──► PROCESSING
--   PROCESSING ──finish-pack, once every generate-image job has ended──► COMPLETED, or FAILED if one failed
--   PENDING ──generate-complete-pack, when there was nothing to generate──► FAILED

CREATE TABLE IF NOT EXISTS projects (
    id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    name             text        NOT NULL,
    user_id          uuid        NOT NULL,
    status           text        NOT NULL DEFAULT 'DRAFT'
        CONSTRAINT projects_status_check CHECK (status IN ('DRAFT', 'PENDING', 'PROCESSING', 'COMPLETED', 'FAILED')),
    pack_job_id      uuid,                       -- the generate-complete-pack job (job_queue.id)
    images_total     int         NOT NULL DEFAULT 0,  -- generate-image jobs in the pack
    failure_reason   text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS source_images (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    file_name  text        NOT NULL,
    format     text        NOT NULL,  -- as sniffed from the bytes: png, jpeg, gif, bmp
    width      int         NOT NULL,
    height     int         NOT NULL,
    bytes      bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- Serves: a project's images in upload order (the project view, the pack's fan-out).
CREATE INDEX IF NOT EXISTS source_images_project_idx ON source_images (project_id, created_at);

CREATE TABLE IF NOT EXISTS assets (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id      uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    source_image_id uuid        NOT NULL REFERENCES source_images (id) ON DELETE CASCADE,
    variant         text        NOT NULL,
    status          text        NOT NULL DEFAULT 'PENDING'
        CONSTRAINT assets_status_check CHECK (status IN ('PENDING', 'DONE', 'FAILED')),
    format          text,
    width           int,
    height          int,
    bytes           bytea,
    error           text,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT assets_image_variant_key UNIQUE (source_image_id, variant)
);
-- Serves: a project's assets (the project view).
CREATE INDEX IF NOT EXISTS assets_project_idx ON assets (project_id);

-- Every write of projects.status, changed or not, for auditing and for the tests that count
-- transitions (a pack completed twice would show up here as COMPLETED → COMPLETED).
CREATE TABLE IF NOT EXISTS project_status_changes (
    id          bigserial   PRIMARY KEY,
    project_id  uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    from_status text        NOT NULL,
    to_status   text        NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS project_status_changes_project_idx ON project_status_changes (project_id, id);

-- The "Realtime" step: every status write of a project, and every asset that finishes, is
-- announced on the channel imagegen_<schema> when its transaction commits, whoever wrote it (this
-- service, a producer in another language, psql). The HTTP service relays them as Server-Sent Events.
--
-- A notification is only a hint (any role may NOTIFY on the channel): it names the status change
-- (project_status_changes.id) or the asset, and the service reads what it relays from these tables.
CREATE OR REPLACE FUNCTION imagegen_project_status_written() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    change_id bigint;
BEGIN
    EXECUTE format('INSERT INTO %I.project_status_changes (project_id, from_status, to_status) VALUES ($1, $2, $3) RETURNING id',
                   TG_TABLE_SCHEMA)
        INTO change_id
        USING NEW.id, OLD.status, NEW.status;
    PERFORM pg_notify('imagegen_' || TG_TABLE_SCHEMA, json_build_object(
        'type', 'status', 'project', NEW.id, 'change', change_id, 'status', NEW.status)::text);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION imagegen_asset_status_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('imagegen_' || TG_TABLE_SCHEMA, json_build_object(
        'type', 'asset', 'project', NEW.project_id, 'asset', NEW.id, 'image', NEW.source_image_id,
        'variant', NEW.variant, 'status', NEW.status)::text);
    RETURN NULL;
END $$;

-- Created once: replacing a trigger at every start would lock the tables of a running service.
-- For the same reason, the fan-in counter of earlier versions (projects.images_remaining, before
-- finish-pack) is dropped only where it is still there.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'projects'::regclass AND attname = 'images_remaining' AND NOT attisdropped) THEN
        ALTER TABLE projects DROP COLUMN images_remaining;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_trigger WHERE tgname = 'projects_status_written' AND tgrelid = 'projects'::regclass) THEN
        CREATE TRIGGER projects_status_written
            AFTER UPDATE OF status ON projects
            FOR EACH ROW EXECUTE FUNCTION imagegen_project_status_written();
    END IF;
    IF NOT EXISTS (SELECT FROM pg_trigger WHERE tgname = 'assets_status_changed' AND tgrelid = 'assets'::regclass) THEN
        CREATE TRIGGER assets_status_changed
            AFTER UPDATE OF status ON assets
            FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
            EXECUTE FUNCTION imagegen_asset_status_changed();
    END IF;
END $$;
