-- Rate limits shared by every node on this database (GCRA: per key the theoretical arrival
-- time of its next request, unix nanoseconds). UNLOGGED: written on most requests, worth no
-- WAL; after a crash the table starts empty, which only hands every client its full quota.
-- No index on tat_ns, so that each check's UPDATE stays a HOT update; the occasional purge of
-- keys past their TAT scans instead.
CREATE UNLOGGED TABLE rate_limit_state (
    key    text COLLATE "C" PRIMARY KEY,
    tat_ns bigint NOT NULL
);
