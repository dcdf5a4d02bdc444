-- DePIN schema 2: datasets. Records and the hashes of each dataset's Merkle log live here, never in grain state
-- (which holds only the size, the root and the compact frontier). The records table is the log: a leaf exists once
-- its row commits, and a dataset grain that restarts rebuilds its frontier from the rows past its saved size.

-- One row per accepted contribution: its leaf, its address, its provenance, and what the node signed.
CREATE TABLE depin_dataset_records (
    dataset       text             NOT NULL,
    leaf_index    bigint           NOT NULL,
    content_hash  bytea            NOT NULL,  -- SHA-256 of record
    leaf_hash     bytea            NOT NULL,  -- SHA-256(0x00 || record || public_key || signature)
    node_id       text             NOT NULL,
    sensor        text             NOT NULL,
    sampled_at    timestamptz      NOT NULL,
    latitude      double precision NOT NULL,
    longitude     double precision NOT NULL,
    record        bytea            NOT NULL,  -- canonical bytes, as signed
    public_key    bytea            NOT NULL,
    signature     bytea            NOT NULL,
    appended_at   timestamptz      NOT NULL,
    -- Two appenders claiming the same leaf cannot both commit: the log cannot fork.
    PRIMARY KEY (dataset, leaf_index),
    -- The same content is a leaf once.
    UNIQUE (dataset, content_hash)
);

-- Perfect subtrees at every 8th level (256 leaves, 65,536, ...), so a proof reads a few runs of hashes.
CREATE TABLE depin_dataset_strata (
    dataset     text     NOT NULL,
    level       smallint NOT NULL,
    node_index  bigint   NOT NULL,
    hash        bytea    NOT NULL,
    PRIMARY KEY (dataset, level, node_index)
);

-- Every tree head the platform signed, one per group of appends.
CREATE TABLE depin_dataset_heads (
    dataset     text        NOT NULL,
    size        bigint      NOT NULL,
    root        bytea       NOT NULL,
    signed_at   timestamptz NOT NULL,
    signature   bytea       NOT NULL,
    key_id      text        NOT NULL,
    PRIMARY KEY (dataset, size)
);

-- The platform's signing key for tree heads when none is configured: the first silo creates it, all share it.
CREATE TABLE depin_platform_keys (
    name         text PRIMARY KEY,
    private_key  bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
