-- Manual redelivery (POST /webhooks/{id}/deliveries/{delivery_id}/redeliver).
--
-- Redelivering sets a finished delivery (succeeded or failed) pending again, due now, with
-- attempts back at 0 (a full retry schedule) and `redelivery` true. FOR THE DELIVERY LOOP:
-- copy `redelivery` into the webhook_attempts row of the next attempt (its `redelivery`
-- column), and set it back to false in the same statement that records that attempt, so
-- the delivery log shows which attempt a person asked for and later retries are not marked.
ALTER TABLE webhook_deliveries ADD COLUMN redelivery boolean NOT NULL DEFAULT false;
