-- The artifacts ledger (docs/ledger.md).
-- Blobs are content-addressed: one row per distinct content ('sha256:<hex>'), however often it is
-- put. Small ones are kept here; larger ones live in the blob directory, under their digest, and
-- `data` is null.
CREATE TABLE baton.artifact_blobs (
  digest     text COLLATE "C" PRIMARY KEY,
  size       bigint NOT NULL CHECK (size >= 0),
  data       bytea,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- Which execution put which blob under which name, and where in its run: the attempt, and for a
-- workflow the step (with its history position) that put it. A later attempt's put replaces an
-- earlier one's under the same name.
CREATE TABLE baton.artifacts (
  execution_id text COLLATE "C" NOT NULL,
  name         text NOT NULL,
  digest       text COLLATE "C" NOT NULL,
  media_type   text NOT NULL,
  attempt      integer NOT NULL,
  step         text,
  position     integer,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (execution_id, name)
);
CREATE INDEX artifacts_digest_idx ON baton.artifacts (digest);
