-- Records are stored whole as jsonb in Tracker's JSON convention (camelCase, as the API writes them); the columns beside
-- them are copies for filtering, sorting and conditional writes. "version" is bumped by every write of a row, so that
-- read-change-write updates can compare and swap.

CREATE TABLE experiments (
    id         text PRIMARY KEY,
    created_at timestamptz NOT NULL,
    doc        jsonb NOT NULL,
    version    bigint NOT NULL DEFAULT 1
);
CREATE INDEX experiments_created ON experiments (created_at DESC);

-- param_text (the lower-cased id and string parameter values) follows every save; annotation_text and tags (lower-cased
-- notes and tags) change only with the annotations, which a save keeps, so text_search is derived from both.
CREATE TABLE trials (
    id              text PRIMARY KEY,
    experiment_id   text NOT NULL,
    number          integer NOT NULL,
    state           text NOT NULL,
    lifecycle       text NOT NULL,
    logged          boolean NOT NULL,
    created_at      timestamptz NOT NULL,
    started_at      timestamptz,
    finished_at     timestamptz,
    objective       double precision,
    param_text      text NOT NULL,
    annotation_text text NOT NULL,
    tags            text[] NOT NULL,
    text_search     text GENERATED ALWAYS AS (param_text || E'\n' || annotation_text) STORED,
    doc             jsonb NOT NULL,
    version         bigint NOT NULL DEFAULT 1
);
CREATE INDEX trials_experiment_number ON trials (experiment_id, number);
CREATE INDEX trials_state ON trials (state);
CREATE INDEX trials_created ON trials (created_at);
CREATE INDEX trials_finished ON trials (finished_at);
CREATE INDEX trials_objective ON trials (objective);
CREATE INDEX trials_tags ON trials USING gin (tags);

-- Free text is a substring search, which only a trigram index serves. Without pg_trgm (not installed, or no right to
-- create it) the filter still works, by a scan; a btree would not help and cannot hold long notes.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXECUTE 'CREATE INDEX trials_text_search ON trials USING gin (text_search gin_trgm_ops)';
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%); free-text trial search will scan', SQLERRM;
END
$$;

-- The next trial number of each experiment; see PostgresStore.NextTrialNumberAsync.
CREATE TABLE trial_counters (
    experiment_id text PRIMARY KEY,
    next          integer NOT NULL
);

-- A series is stored as chunks of up to 1000 points sorted by step (points of one step in the order they were logged),
-- with the step range, the count and the lowest and highest point (index into the arrays, step, time, value; NaN only
-- when every value is), so that a page or a chart reads few chunks. seq orders chunks as they were appended, which
-- orders the points of one step across chunks. Times are Unix milliseconds.
CREATE TABLE metric_chunks (
    seq        bigserial PRIMARY KEY,
    trial_id   text NOT NULL,
    key        text NOT NULL,
    first_step integer NOT NULL,
    last_step  integer NOT NULL,
    count      integer NOT NULL,
    min_index  integer NOT NULL,
    min_step   integer NOT NULL,
    min_time   bigint NOT NULL,
    min_value  double precision NOT NULL,
    max_index  integer NOT NULL,
    max_step   integer NOT NULL,
    max_time   bigint NOT NULL,
    max_value  double precision NOT NULL,
    steps      integer[] NOT NULL,
    "values"   double precision[] NOT NULL,
    times      bigint[] NOT NULL
);
CREATE INDEX metric_chunks_series ON metric_chunks (trial_id, key, first_step);
-- Arrays of measurements compress poorly, and compressing them cost more than half the time of an append.
ALTER TABLE metric_chunks ALTER COLUMN steps SET STORAGE EXTERNAL, ALTER COLUMN "values" SET STORAGE EXTERNAL,
    ALTER COLUMN times SET STORAGE EXTERNAL;

-- Each series' extent. max_span, the widest step range of any of its chunks, bounds how far before a step a chunk that
-- holds the step can start, so a read from a step scans the index from there rather than from the series' start.
CREATE TABLE metric_series (
    trial_id   text NOT NULL,
    key        text NOT NULL,
    count      bigint NOT NULL,
    first_step integer NOT NULL,
    last_step  integer NOT NULL,
    max_span   bigint NOT NULL,
    PRIMARY KEY (trial_id, key)
);

-- The latest point of each series by MLflow's rule (greatest step, then time, then value); times in Unix milliseconds.
CREATE TABLE metric_latest (
    trial_id text NOT NULL,
    key      text NOT NULL,
    step     integer NOT NULL,
    time     bigint NOT NULL,
    value    double precision NOT NULL,
    PRIMARY KEY (trial_id, key)
);

CREATE TABLE reports (
    trial_id text NOT NULL,
    split    text NOT NULL,
    step     integer NOT NULL,
    doc      jsonb NOT NULL,
    PRIMARY KEY (trial_id, split, step)
);

CREATE TABLE predictions (
    trial_id text PRIMARY KEY,
    doc      jsonb NOT NULL
);

CREATE TABLE sample_images (
    trial_id text NOT NULL,
    index    integer NOT NULL,
    png      bytea NOT NULL,
    PRIMARY KEY (trial_id, index)
);

CREATE TABLE artifact_metadata (
    trial_id text NOT NULL,
    path     text NOT NULL,
    doc      jsonb NOT NULL,
    PRIMARY KEY (trial_id, path)
);

-- The record as the API gives it is in doc; last_used_ticks (UTC ticks, exact, unlike timestamptz's microseconds) and
-- revoked_at let uses and revocations be written conditionally, so that neither undoes the other.
CREATE TABLE api_keys (
    id              text PRIMARY KEY,
    sha256          text NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL,
    last_used_ticks bigint,
    revoked_at      timestamptz,
    doc             jsonb NOT NULL
);
