-- Rate limits shared by several nodes live in PostgreSQL's rate_limit_state (its 0008). One
-- SQLite database serves one process, whose in-process limiter is already the whole count:
-- this version changes nothing here and keeps the two stores' version numbers in step.
SELECT 1;
