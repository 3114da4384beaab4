-- The registration form (seed 002) and PATCH /api/v1/users/me allow an
-- occupation of up to 255 characters (workers/users/rules.c).  The inline
-- CHECK of 0001 is named by PostgreSQL's default, users_occupation_check.
ALTER TABLE users DROP CONSTRAINT users_occupation_check;
ALTER TABLE users ADD CONSTRAINT users_occupation_check
    CHECK (length(occupation) <= 255);
