-- DePIN schema 3: dataset snapshots, and the contributor's region on each record so a snapshot can break records
-- down by region.

ALTER TABLE depin_dataset_records ADD COLUMN region text NOT NULL DEFAULT '';

-- An immutable version of a dataset: the signed tree head at a size, with the manifest computed when it was taken.
CREATE TABLE depin_dataset_snapshots (
    dataset     text        NOT NULL,
    size        bigint      NOT NULL,
    created_at  timestamptz NOT NULL,
    manifest    jsonb       NOT NULL,
    PRIMARY KEY (dataset, size)
);
