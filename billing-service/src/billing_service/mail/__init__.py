"""E-mail: the outbox, its quotas and the mailer loop that delivers it."""
