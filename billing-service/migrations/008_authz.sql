-- Idempotency-Key replays are keyed by the caller's token, not only the user: a stored answer
-- is replayed only to the token that made the request (which passed its ability and scope
-- checks then), never to another token of the same user with fewer abilities.
-- The answers stored so far were keyed by user alone, and invitations among them held
-- generated passwords in plain text: they are dropped (they live 24 hours anyway; a retry
-- across this upgrade runs again).
DELETE FROM idempotency_keys;
ALTER TABLE idempotency_keys ADD COLUMN token_id bigint NOT NULL;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD PRIMARY KEY (user_id, token_id, key);
