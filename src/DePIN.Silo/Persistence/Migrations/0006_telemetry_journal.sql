-- DePIN schema 6: the telemetry journal. A node grain writes its telemetry summary every checkpoint interval, not per
-- batch; every accepted batch is journaled here before it is acknowledged, a fresh activation replays the rows past
-- its checkpoint's sequence number, and a checkpoint deletes the rows it covers. So the table holds about one
-- checkpoint interval of telemetry, and a batch is stored once: (node_id, seq) is the agent's signed identity of it.
CREATE TABLE depin_telemetry_journal (
    node_id      text        NOT NULL,
    seq          bigint      NOT NULL,
    received_at  timestamptz NOT NULL,
    batch        bytea       NOT NULL,  -- the TelemetryBatch in Orleans' binary format
    PRIMARY KEY (node_id, seq)
) WITH (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.02);
