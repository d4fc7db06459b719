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
-- earlier one's under the same name. Inputs are the files an execution declared it read
-- (ctx.artifacts.input), named by their path; outputs are what it put.
CREATE TABLE baton.artifacts (
  execution_id text COLLATE "C" NOT NULL,
  name         text NOT NULL,
  role         text NOT NULL DEFAULT 'output' CHECK (role IN ('input', 'output')),
  digest       text COLLATE "C" NOT NULL,
  media_type   text NOT NULL,
  attempt      integer NOT NULL,
  step         text,
  position     integer,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (execution_id, role, name)
);
CREATE INDEX artifacts_digest_idx ON baton.artifacts (digest);
-- What an execution ran with, for its run manifest: the code version of the process that ran its
-- latest attempt to use the ledger (git commit and dirty flag, or package version), the hash of
-- the configuration it was given, and its PRNG seed (workflows). Written with its first artifact.
CREATE TABLE baton.run_contexts (
  execution_id text COLLATE "C" PRIMARY KEY,
  attempt      integer NOT NULL,
  code         jsonb NOT NULL,
  config_hash  text,
  seed         text,
  created_at   timestamptz NOT NULL DEFAULT now()
);
-- A sealed manifest: the manifest as it was when sealed, its digest, and a signature over that
-- digest (HMAC-SHA256 or ed25519), so `verify` can tell that nothing changed since.
CREATE TABLE baton.run_seals (
  execution_id text COLLATE "C" PRIMARY KEY,
  manifest     jsonb NOT NULL,
  digest       text NOT NULL,
  algorithm    text NOT NULL CHECK (algorithm IN ('hmac-sha256', 'ed25519')),
  key_id       text,
  signature    text NOT NULL,
  sealed_at    timestamptz NOT NULL DEFAULT now()
);
