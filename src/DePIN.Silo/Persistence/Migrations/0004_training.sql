-- DePIN schema 4: training checkpoints. Parameter vectors (global parameters, outer momentum, final weights) by the
-- SHA-256 of their bytes: a coordinator's state names them, and a registered model version is its weights' hash.

CREATE TABLE depin_training_blobs (
    hash        bytea       PRIMARY KEY,
    body        bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
