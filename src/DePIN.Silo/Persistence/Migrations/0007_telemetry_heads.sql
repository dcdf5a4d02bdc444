-- DePIN schema 7: each node's newest journaled telemetry batch. An append moves a node's head from the batch its
-- appender applied last (after) to the new one, in the statement that journals the batch; an appender whose last
-- batch is not the head is refused. So while the cluster's membership changes and two activations of one node's
-- grain are briefly alive, they cannot both journal after the same batch and each skip the other's: the loser reads
-- the state and the journal again. The journal's rows are trimmed; a node's head row stays.
CREATE TABLE depin_telemetry_heads (
    node_id  text   PRIMARY KEY,
    seq      bigint NOT NULL,  -- the newest journaled batch
    after    bigint NOT NULL   -- the batch it was journaled after
);
