-- DePIN schema 1: the tables and queries the Orleans ADO.NET providers (clustering, grain persistence, reminders)
-- use on PostgreSQL. Orleans ships no SQL for them; this implements their query contract
-- (docs/orleans-adonet-contract.md). Parameters arrive as @Name; result columns are read by name,
-- case-insensitively. Every DateTime parameter lands in a timestamptz column.

-- The providers look queries up here by key (unquoted, unqualified: it must resolve as "orleansquery").
CREATE TABLE orleansquery (
    querykey  text PRIMARY KEY,
    querytext text NOT NULL
);

---------------------------------------------------------------------------------------------------------------
-- Clustering. Optimistic concurrency rests on one version row per deployment: inserting or updating a silo row
-- must move that version from the value the caller read (@Version), in the same statement, or change nothing.
---------------------------------------------------------------------------------------------------------------
CREATE TABLE orleans_membership_version (
    deployment_id text PRIMARY KEY,
    changed_at    timestamptz NOT NULL DEFAULT now(),
    version       integer NOT NULL DEFAULT 0
);

CREATE TABLE orleans_membership (
    deployment_id   text    NOT NULL,
    address         text    NOT NULL,
    port            integer NOT NULL,
    generation      integer NOT NULL,
    silo_name       text    NOT NULL,
    host_name       text    NOT NULL,
    status          integer NOT NULL,
    proxy_port      integer NOT NULL DEFAULT 0,
    suspect_times   text,
    start_time      timestamptz NOT NULL,
    i_am_alive_time timestamptz NOT NULL,
    PRIMARY KEY (deployment_id, address, port, generation)
);

-- Both membership reads: the deployment's version row joined to its silo rows (one silo's, when an address is given).
CREATE FUNCTION orleans_membership_read(deployment text, silo_address text, silo_port integer, silo_generation integer)
RETURNS TABLE ("Version" integer, "Address" text, "Port" integer, "Generation" integer, "SiloName" text, "HostName" text,
               "Status" integer, "ProxyPort" integer, "SuspectTimes" text, "StartTime" timestamptz, "IAmAliveTime" timestamptz)
LANGUAGE sql STABLE AS $f$
    SELECT v.version, m.address, m.port, m.generation, m.silo_name, m.host_name, m.status, m.proxy_port,
           m.suspect_times, m.start_time, m.i_am_alive_time
      FROM orleans_membership_version v
      LEFT JOIN orleans_membership m
             ON m.deployment_id = v.deployment_id
            AND (silo_address IS NULL
                 OR (m.address = silo_address AND m.port = silo_port AND m.generation = silo_generation))
     WHERE v.deployment_id = deployment
$f$;

INSERT INTO orleansquery (querykey, querytext) VALUES
('InsertMembershipVersionKey', $q$
WITH created AS (
    INSERT INTO orleans_membership_version (deployment_id) VALUES (@DeploymentId)
    ON CONFLICT (deployment_id) DO NOTHING
    RETURNING 1)
SELECT count(*)::integer FROM created
$q$),

-- The version row, outer-joined to the silo rows: at least one row, with NULL start_time when no silo matches.
('MembershipReadAllKey', $q$
SELECT * FROM orleans_membership_read(@DeploymentId, NULL::text, NULL::integer, NULL::integer)
$q$),

('MembershipReadRowKey', $q$
SELECT * FROM orleans_membership_read(@DeploymentId, @Address, @Port, @Generation)
$q$),

-- The version moves only when the silo row does not exist yet, and the row is added only when the version moved.
('InsertMembershipKey', $q$
WITH bumped AS (
    UPDATE orleans_membership_version
       SET version = version + 1, changed_at = now()
     WHERE deployment_id = @DeploymentId AND version = @Version
       AND NOT EXISTS (SELECT 1 FROM orleans_membership
                        WHERE deployment_id = @DeploymentId AND address = @Address
                          AND port = @Port AND generation = @Generation)
    RETURNING deployment_id),
inserted AS (
    INSERT INTO orleans_membership (deployment_id, address, port, generation, silo_name, host_name, status,
                                    proxy_port, start_time, i_am_alive_time)
    SELECT deployment_id, @Address, @Port, @Generation, @SiloName, @HostName, @Status,
           @ProxyPort, @StartTime, @IAmAliveTime
      FROM bumped
    RETURNING 1)
SELECT count(*)::integer FROM inserted
$q$),

-- The version moves only when the silo row exists, and the row changes only when the version moved.
('UpdateMembershipKey', $q$
WITH bumped AS (
    UPDATE orleans_membership_version
       SET version = version + 1, changed_at = now()
     WHERE deployment_id = @DeploymentId AND version = @Version
       AND EXISTS (SELECT 1 FROM orleans_membership
                    WHERE deployment_id = @DeploymentId AND address = @Address
                      AND port = @Port AND generation = @Generation)
    RETURNING deployment_id),
updated AS (
    UPDATE orleans_membership m
       SET status = @Status, suspect_times = @SuspectTimes, i_am_alive_time = @IAmAliveTime
      FROM bumped
     WHERE m.deployment_id = bumped.deployment_id AND m.address = @Address
       AND m.port = @Port AND m.generation = @Generation
    RETURNING 1)
SELECT count(*)::integer FROM updated
$q$),

-- Liveness heartbeat: never touches the version.
('UpdateIAmAlivetimeKey', $q$
UPDATE orleans_membership
   SET i_am_alive_time = @IAmAliveTime
 WHERE deployment_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation
$q$),

('GatewaysQueryKey', $q$
SELECT address AS "Address", proxy_port AS "ProxyPort", generation AS "Generation"
  FROM orleans_membership
 WHERE deployment_id = @DeploymentId AND status = @Status AND proxy_port > 0
$q$),

('DeleteMembershipTableEntriesKey', $q$
WITH silos AS (DELETE FROM orleans_membership WHERE deployment_id = @DeploymentId)
DELETE FROM orleans_membership_version WHERE deployment_id = @DeploymentId
$q$),

-- Rows of silos that stopped heart-beating before the cutoff and are not active.
('CleanupDefunctSiloEntriesKey', $q$
DELETE FROM orleans_membership
 WHERE deployment_id = @DeploymentId AND i_am_alive_time < @IAmAliveTime AND status <> 3
$q$);

---------------------------------------------------------------------------------------------------------------
-- Grain persistence. A row per (service, state name, grain key); the version is the ETag.
---------------------------------------------------------------------------------------------------------------
CREATE TABLE orleans_storage (
    service_id                text    NOT NULL,
    grain_type_string         text    NOT NULL,
    grain_id_n0               bigint  NOT NULL,
    grain_id_n1               bigint  NOT NULL,
    grain_id_extension_string text,
    grain_id_hash             integer NOT NULL,
    grain_type_hash           integer NOT NULL,
    payload_binary            bytea,
    modified_on               timestamptz NOT NULL DEFAULT now(),
    version                   integer NOT NULL,
    CONSTRAINT orleans_storage_identity UNIQUE NULLS NOT DISTINCT
        (service_id, grain_type_string, grain_id_n0, grain_id_n1, grain_id_extension_string)
);

-- The hashes only narrow the search; the identity columns decide (hashes collide).
CREATE INDEX orleans_storage_hashes ON orleans_storage (grain_id_hash, grain_type_hash);

INSERT INTO orleansquery (querykey, querytext) VALUES
('ReadFromStorageKey', $q$
SELECT payload_binary AS "PayloadBinary", version AS "Version"
  FROM orleans_storage
 WHERE grain_id_hash = @GrainIdHash AND grain_type_hash = @GrainTypeHash
   AND service_id = @ServiceId AND grain_type_string = @GrainTypeString
   AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
   AND grain_id_extension_string IS NOT DISTINCT FROM @GrainIdExtensionString
$q$),

-- No version: insert only if no row exists. A version: update only if it is the stored one. Returns the new
-- version, or no row on a conflict (which Orleans reports as InconsistentStateException).
('WriteToStorageKey', $q$
WITH updated AS (
    UPDATE orleans_storage
       SET payload_binary = @PayloadBinary, version = version + 1, modified_on = now()
     WHERE @GrainStateVersion IS NOT NULL AND version = @GrainStateVersion
       AND grain_id_hash = @GrainIdHash AND grain_type_hash = @GrainTypeHash
       AND service_id = @ServiceId AND grain_type_string = @GrainTypeString
       AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
       AND grain_id_extension_string IS NOT DISTINCT FROM @GrainIdExtensionString
    RETURNING version),
inserted AS (
    INSERT INTO orleans_storage (service_id, grain_type_string, grain_id_n0, grain_id_n1, grain_id_extension_string,
                                 grain_id_hash, grain_type_hash, payload_binary, version)
    SELECT @ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, @GrainIdExtensionString,
           @GrainIdHash, @GrainTypeHash, @PayloadBinary, 1
     WHERE @GrainStateVersion IS NULL
    ON CONFLICT ON CONSTRAINT orleans_storage_identity DO NOTHING
    RETURNING version)
SELECT version AS "NewGrainStateVersion" FROM updated
UNION ALL
SELECT version FROM inserted
$q$),

-- Clear keeps the row (and so the version sequence) and drops the payload.
('ClearStorageKey', $q$
UPDATE orleans_storage
   SET payload_binary = NULL, version = version + 1, modified_on = now()
 WHERE version = @GrainStateVersion
   AND grain_id_hash = @GrainIdHash AND grain_type_hash = @GrainTypeHash
   AND service_id = @ServiceId AND grain_type_string = @GrainTypeString
   AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
   AND grain_id_extension_string IS NOT DISTINCT FROM @GrainIdExtensionString
RETURNING version AS "NewGrainStateVersion"
$q$),

('DeleteStorageKey', $q$
DELETE FROM orleans_storage
 WHERE version = @GrainStateVersion
   AND grain_id_hash = @GrainIdHash AND grain_type_hash = @GrainTypeHash
   AND service_id = @ServiceId AND grain_type_string = @GrainTypeString
   AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
   AND grain_id_extension_string IS NOT DISTINCT FROM @GrainIdExtensionString
RETURNING version + 1 AS "NewGrainStateVersion"
$q$);

---------------------------------------------------------------------------------------------------------------
-- Reminders. grain_hash is GrainId.GetUniformHashCode() cast to a signed int: stored and compared signed, the two
-- range queries cover the ring range (begin, end] exactly. Versions come from a sequence, so a deleted and
-- re-created reminder never reuses an ETag.
---------------------------------------------------------------------------------------------------------------
CREATE SEQUENCE orleans_reminder_version AS integer CYCLE;

CREATE TABLE orleans_reminders (
    service_id    text        NOT NULL,
    grain_id      text        NOT NULL,
    reminder_name text        NOT NULL,
    start_time    timestamptz NOT NULL,
    period        bigint      NOT NULL,
    grain_hash    integer     NOT NULL,
    version       integer     NOT NULL,
    PRIMARY KEY (service_id, grain_id, reminder_name)
);

CREATE INDEX orleans_reminders_ring ON orleans_reminders (service_id, grain_hash);

INSERT INTO orleansquery (querykey, querytext) VALUES
('UpsertReminderRowKey', $q$
INSERT INTO orleans_reminders (service_id, grain_id, reminder_name, start_time, period, grain_hash, version)
VALUES (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, nextval('orleans_reminder_version'))
ON CONFLICT (service_id, grain_id, reminder_name) DO UPDATE
   SET start_time = EXCLUDED.start_time, period = EXCLUDED.period,
       grain_hash = EXCLUDED.grain_hash, version = EXCLUDED.version
RETURNING version AS "Version"
$q$),

('ReadReminderRowsKey', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime",
       period AS "Period", version AS "Version"
  FROM orleans_reminders
 WHERE service_id = @ServiceId AND grain_id = @GrainId
$q$),

('ReadReminderRowKey', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime",
       period AS "Period", version AS "Version"
  FROM orleans_reminders
 WHERE service_id = @ServiceId AND grain_id = @GrainId AND reminder_name = @ReminderName
$q$),

('ReadRangeRows1Key', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime",
       period AS "Period", version AS "Version"
  FROM orleans_reminders
 WHERE service_id = @ServiceId AND grain_hash > @BeginHash AND grain_hash <= @EndHash
$q$),

('ReadRangeRows2Key', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime",
       period AS "Period", version AS "Version"
  FROM orleans_reminders
 WHERE service_id = @ServiceId AND (grain_hash > @BeginHash OR grain_hash <= @EndHash)
$q$),

('DeleteReminderRowKey', $q$
WITH deleted AS (
    DELETE FROM orleans_reminders
     WHERE service_id = @ServiceId AND grain_id = @GrainId AND reminder_name = @ReminderName
       AND version = @Version
    RETURNING 1)
SELECT count(*)::integer FROM deleted
$q$),

('DeleteReminderRowsKey', $q$
DELETE FROM orleans_reminders WHERE service_id = @ServiceId
$q$);
