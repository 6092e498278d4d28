-- A school's policy on staff second factors (issue #21): who must have one before a password
-- login is complete. 'managers': the school's ICT-coördinatoren; 'all_staff': everyone who
-- works there. NULL: the operator's default (`login.second_factor_policy`).
ALTER TABLE schools ADD COLUMN second_factor_policy TEXT
    CHECK (second_factor_policy IN ('none', 'managers', 'all_staff'));

-- The last time step (RFC 6238) whose code this authenticator had accepted. A code is accepted
-- by a conditional update that moves it forward, so a code (and any older one) works once, in
-- the register itself: also after the short-lived state store was emptied or lost.
ALTER TABLE staff_totp ADD COLUMN last_step BIGINT;
