-- The seed's job_queue as its team created it (prisma/migrations/create_job_queue/migration.sql, see
-- seed/supabase-job-queue-migration-guide.md): the seed's columns, its indexes, the helper functions its
-- Edge Function calls, and rows in every status. Run with search_path set to the target schema.

CREATE TABLE job_queue (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  job_type TEXT NOT NULL,
  payload JSONB,
  status TEXT DEFAULT 'pending' CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
  retry_count INT DEFAULT 0,
  max_retries INT DEFAULT 3,
  error_message TEXT,
  user_id UUID,
  created_at TIMESTAMPTZ DEFAULT NOW(),
  processed_at TIMESTAMPTZ,
  completed_at TIMESTAMPTZ
);

CREATE INDEX idx_job_queue_status ON job_queue(status);
CREATE INDEX idx_job_queue_created_at ON job_queue(created_at);

-- The Edge Function's claim: the oldest pending job that has retries left, marked processing.
CREATE OR REPLACE FUNCTION get_next_job()
RETURNS SETOF job_queue AS $$
BEGIN
  RETURN QUERY
  UPDATE job_queue
     SET status = 'processing',
         processed_at = NOW()
   WHERE id = (
         SELECT id
           FROM job_queue
          WHERE status = 'pending'
            AND retry_count < max_retries
          ORDER BY created_at ASC
          LIMIT 1
          FOR UPDATE SKIP LOCKED)
  RETURNING *;
END;
$$ LANGUAGE plpgsql;

-- The Edge Function's outcome: completed, or retried until max_retries, then failed.
CREATE OR REPLACE FUNCTION finish_job(job_id UUID, error TEXT DEFAULT NULL)
RETURNS VOID AS $$
  UPDATE job_queue
     SET status = CASE WHEN error IS NULL THEN 'completed'
                       WHEN retry_count + 1 >= max_retries THEN 'failed'
                       ELSE 'pending' END,
         retry_count = CASE WHEN error IS NULL THEN retry_count ELSE retry_count + 1 END,
         error_message = error,
         completed_at = CASE WHEN error IS NULL OR retry_count + 1 >= max_retries THEN NOW() END
   WHERE id = job_id;
$$ LANGUAGE sql;

INSERT INTO job_queue (id, job_type, payload, status, retry_count, max_retries, error_message, user_id,
                       created_at, processed_at, completed_at)
VALUES
  ('0f7c1a52-3d4e-4b6a-9c1d-000000000001', 'generate-image',
   '{"imageId": "img-1", "projectId": "p-1", "style": "studio"}', 'pending', 0, 3, NULL,
   '6a0e6c9e-1b1e-4f57-8d55-0000000000aa', '2025-01-10 09:00:00+00', NULL, NULL),
  ('0f7c1a52-3d4e-4b6a-9c1d-000000000002', 'generate-complete-pack',
   '{"projectId": "p-1", "imageIds": ["img-1", "img-2"]}', 'pending', 1, 3, 'upstream timeout',
   '6a0e6c9e-1b1e-4f57-8d55-0000000000aa', '2025-01-10 09:01:00+00', '2025-01-10 09:05:00+00', NULL),
  ('0f7c1a52-3d4e-4b6a-9c1d-000000000003', 'generate-image',
   '{"imageId": "img-3"}', 'pending', 0, 5, NULL,
   NULL, '2025-01-10 09:02:00+00', NULL, NULL),
  ('0f7c1a52-3d4e-4b6a-9c1d-000000000004', 'generate-image',
   '{"imageId": "img-4", "projectId": "p-2"}', 'processing', 0, 3, NULL,
   '6a0e6c9e-1b1e-4f57-8d55-0000000000bb', '2025-01-10 08:00:00+00', '2025-01-10 08:00:10+00', NULL),
  ('0f7c1a52-3d4e-4b6a-9c1d-000000000005', 'generate-image',
   '{"imageId": "img-5"}', 'completed', 0, 3, NULL,
   '6a0e6c9e-1b1e-4f57-8d55-0000000000bb', '2025-01-09 10:00:00+00', '2025-01-09 10:00:10+00',
   '2025-01-09 10:00:40+00'),
  ('0f7c1a52-3d4e-4b6a-9c1d-000000000006', 'generate-complete-pack',
   '{"projectId": "p-3", "imageIds": []}', 'completed', 2, 3, 'upstream timeout',
   '6a0e6c9e-1b1e-4f57-8d55-0000000000aa', '2025-01-09 11:00:00+00', '2025-01-09 11:20:00+00',
   '2025-01-09 11:21:00+00'),
  ('0f7c1a52-3d4e-4b6a-9c1d-000000000007', 'generate-image',
   '{"imageId": "img-7"}', 'failed', 3, 3, 'Replicate API returned 422: invalid image',
   '6a0e6c9e-1b1e-4f57-8d55-0000000000aa', '2025-01-09 12:00:00+00', '2025-01-09 12:30:00+00',
   '2025-01-09 12:30:05+00');
