-- An account verified from a contested sign-up (the address was registered
-- more than once with different passwords before its owner proved the
-- mailbox) keeps none of those passwords: password_hash is NULL until the
-- owner sets one with the code mailed for it, and login refuses such an
-- account exactly as it refuses a wrong password.
ALTER TABLE users ALTER COLUMN password_hash DROP NOT NULL;
