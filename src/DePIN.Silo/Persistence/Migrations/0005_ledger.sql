-- DePIN schema 5: the ledger. Double-entry and append-only: a posting is a row with its place in a hash chain, and
-- its entries are rows that carry each account's balance after the posting, so an account's balance is its latest
-- entry and its statement is its entries in order. Nothing is ever updated or deleted (triggers below refuse it).
-- Writers serialize on an advisory lock, so the chain has one order; the primary keys refuse a fork regardless.

-- Accounts must be opened before postings may name them. Kind decides who may see the account and whether it may
-- go below zero (only 'external', the world outside the ledger, may). Amounts are integers in the account's unit.
CREATE TABLE depin_ledger_accounts (
    id         text        PRIMARY KEY,
    kind       text        NOT NULL,
    unit       text        NOT NULL,
    opened_at  timestamptz NOT NULL
);

-- One row per posting, in chain order: hash = SHA-256(tag || prev_hash || seq || posted_at || content), see
-- DePIN.Core.Economy.LedgerHash; content_hash fingerprints the content alone, to tell a replay from a conflict.
CREATE TABLE depin_ledger_postings (
    seq           bigint      PRIMARY KEY CHECK (seq > 0),
    id            text        NOT NULL UNIQUE,
    kind          text        NOT NULL,
    posted_at     timestamptz NOT NULL,
    memo          text,
    content_hash  bytea       NOT NULL,
    prev_hash     bytea       NOT NULL,
    hash          bytea       NOT NULL
);

-- One row per entry. An account appears once in a posting, so (account, seq) is unique and is the statement's order.
CREATE TABLE depin_ledger_entries (
    account  text   NOT NULL REFERENCES depin_ledger_accounts (id),
    seq      bigint NOT NULL REFERENCES depin_ledger_postings (seq),
    debit    bigint NOT NULL CHECK (debit >= 0),
    credit   bigint NOT NULL CHECK (credit >= 0),
    balance  bigint NOT NULL,  -- the account's balance after this posting
    PRIMARY KEY (account, seq),
    CHECK ((debit > 0) <> (credit > 0))
);

CREATE INDEX depin_ledger_entries_seq ON depin_ledger_entries (seq);

CREATE FUNCTION depin_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the DePIN ledger is append-only: % on % is refused', TG_OP, TG_TABLE_NAME;
END;
$$;

CREATE TRIGGER depin_ledger_postings_append_only BEFORE UPDATE OR DELETE ON depin_ledger_postings
    FOR EACH ROW EXECUTE FUNCTION depin_ledger_append_only();
CREATE TRIGGER depin_ledger_postings_no_truncate BEFORE TRUNCATE ON depin_ledger_postings
    FOR EACH STATEMENT EXECUTE FUNCTION depin_ledger_append_only();
CREATE TRIGGER depin_ledger_entries_append_only BEFORE UPDATE OR DELETE ON depin_ledger_entries
    FOR EACH ROW EXECUTE FUNCTION depin_ledger_append_only();
CREATE TRIGGER depin_ledger_entries_no_truncate BEFORE TRUNCATE ON depin_ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION depin_ledger_append_only();

-- The system accounts exist from the start.
INSERT INTO depin_ledger_accounts (id, kind, unit, opened_at) VALUES
    ('external',      'external',     'ucr', now()),
    ('treasury',      'treasury',     'ucr', now()),
    ('slashing-pool', 'slashingpool', 'ucr', now());
