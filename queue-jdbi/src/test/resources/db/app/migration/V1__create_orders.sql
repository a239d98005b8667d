-- An application's own first migration, beside pgqueue's: its version 1 must not collide with
-- pgqueue's V1. It uses pgqueue's SQL contract, so pgqueue's migrations must have run first.
CREATE TABLE orders (
    id     bigint PRIMARY KEY,
    job_id uuid
);
CREATE FUNCTION place_order(order_id bigint) RETURNS uuid
    LANGUAGE plpgsql SET search_path FROM CURRENT AS
$$
DECLARE
    new_job uuid;
BEGIN
    new_job := job_queue_enqueue('send-confirmation', jsonb_build_object('orderId', order_id));
    INSERT INTO orders (id, job_id) VALUES (order_id, new_job);
    RETURN new_job;
END
$$;
