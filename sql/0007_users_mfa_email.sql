-- A second factor at login, per user: with mfa_email the right password
-- alone starts no session; a code mailed to the account's address completes
-- the login (POST /api/v1/auth/login/otp).  Off for every existing account.
ALTER TABLE users ADD COLUMN mfa_email boolean NOT NULL DEFAULT false;
