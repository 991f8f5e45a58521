ACTIVE_KEYS = """
SELECT kid, private_pem, public_jwk::text AS public_jwk
FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC
"""

INSERT_KEY = "INSERT INTO signing_keys (kid, private_pem, public_jwk) VALUES ($1, $2, $3::jsonb)"
