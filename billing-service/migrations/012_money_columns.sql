-- Every money column holds what the API's money fields accept (up to 999,999,999,999 with
-- four decimal places): a recipient's default hour rate was narrower, so a valid request
-- failed in the database instead of validating.
ALTER TABLE recipients ALTER COLUMN default_hour_rate TYPE numeric(18, 4);
