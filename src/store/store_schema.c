/* store_schema.c: the desk schema as an ordered list of forward migrations.
 * Step i takes PRAGMA user_version from i to i+1 inside one transaction. Append new
 * steps at the end; never edit a step that has shipped.
 *
 * Conventions: addresses and hashes are lowercase "0x" hex text (readable in the
 * sqlite3 shell, comparable with what nodes print); amounts are decimal text of base
 * units (exact, never REAL); chain ids and block numbers are INTEGER holding the bits
 * of an unsigned 64-bit value; times are unix seconds. */
#include "store/store_internal.h"

#include "audit/audit.h"

static const char step1_config[] =
    "CREATE TABLE chains ("
    "  chain_id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  confirmations INTEGER NOT NULL DEFAULT 12 CHECK (confirmations >= 0),"
    "  native_symbol TEXT NOT NULL DEFAULT 'ETH',"
    "  native_decimals INTEGER NOT NULL DEFAULT 18,"
    "  start_block INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE rpc_endpoints ("
    "  id INTEGER PRIMARY KEY,"
    "  chain_id INTEGER NOT NULL REFERENCES chains(chain_id) ON DELETE CASCADE,"
    "  url TEXT NOT NULL,"
    "  priority INTEGER NOT NULL DEFAULT 0,"
    "  health TEXT NOT NULL DEFAULT 'unknown'"
    "    CHECK (health IN ('unknown', 'ok', 'degraded', 'down')),"
    "  last_error TEXT,"
    "  last_ok INTEGER,"
    "  last_fail INTEGER,"
    "  UNIQUE (chain_id, url)"
    ");"
    "CREATE TABLE contracts ("
    "  chain_id INTEGER NOT NULL REFERENCES chains(chain_id) ON DELETE CASCADE,"
    "  kind TEXT NOT NULL CHECK (kind IN ('factory', 'escrow', 'token', 'feed', 'htlc')),"
    "  address TEXT NOT NULL,"
    "  deployed_block INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (chain_id, address)"
    ");"
    "CREATE TABLE tokens ("
    "  chain_id INTEGER NOT NULL REFERENCES chains(chain_id) ON DELETE CASCADE,"
    "  symbol TEXT NOT NULL,"
    "  address TEXT NOT NULL,"
    "  decimals INTEGER NOT NULL CHECK (decimals BETWEEN 0 AND 77),"
    "  PRIMARY KEY (chain_id, address),"
    "  UNIQUE (chain_id, symbol)"
    ");";

static const char step2_events[] =
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY,"
    "  chain_id INTEGER NOT NULL REFERENCES chains(chain_id) ON DELETE CASCADE,"
    "  block_number INTEGER NOT NULL,"
    "  block_hash TEXT NOT NULL,"
    "  tx_hash TEXT NOT NULL,"
    "  tx_index INTEGER NOT NULL,"
    "  log_index INTEGER NOT NULL,"
    "  address TEXT NOT NULL,"
    "  topic0 TEXT, topic1 TEXT, topic2 TEXT, topic3 TEXT,"
    "  data BLOB NOT NULL,"
    "  name TEXT,"                      /* decoded event name, NULL when unknown */
    "  decoded TEXT,"                   /* decoded fields as a JSON object */
    "  escrow TEXT,"                    /* the escrow the event is about */
    "  UNIQUE (chain_id, block_hash, log_index)"
    ");"
    "CREATE INDEX events_by_block ON events (chain_id, block_number, log_index);"
    "CREATE INDEX events_by_escrow ON events (chain_id, escrow, block_number, log_index)"
    "  WHERE escrow IS NOT NULL;"
    "CREATE TABLE blocks ("             /* the recent block-hash window, for reorgs */
    "  chain_id INTEGER NOT NULL REFERENCES chains(chain_id) ON DELETE CASCADE,"
    "  number INTEGER NOT NULL,"
    "  hash TEXT NOT NULL,"
    "  parent_hash TEXT NOT NULL,"
    "  timestamp INTEGER NOT NULL,"
    "  PRIMARY KEY (chain_id, number)"
    ") WITHOUT ROWID;"
    "CREATE TABLE checkpoints ("
    "  chain_id INTEGER PRIMARY KEY REFERENCES chains(chain_id) ON DELETE CASCADE,"
    "  synced_block INTEGER NOT NULL,"
    "  synced_hash TEXT NOT NULL,"
    "  final_block INTEGER NOT NULL,"
    "  head_block INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ");";

static const char step3_escrows[] =
    "CREATE TABLE escrows ("
    "  chain_id INTEGER NOT NULL REFERENCES chains(chain_id) ON DELETE CASCADE,"
    "  address TEXT NOT NULL,"
    "  factory TEXT NOT NULL,"
    "  payer TEXT NOT NULL,"
    "  payee TEXT NOT NULL,"
    "  token TEXT NOT NULL,"            /* zero address: the native coin */
    "  amount TEXT NOT NULL,"
    "  approvers TEXT NOT NULL,"        /* JSON array of addresses */
    "  threshold INTEGER NOT NULL,"
    "  arbiter TEXT NOT NULL,"
    "  deadline INTEGER NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('created', 'funded', 'released', 'refunded',"
    "                                       'disputed', 'resolved')),"
    "  resolved_to TEXT CHECK (resolved_to IN ('payee', 'payer')),"
    "  approvals INTEGER NOT NULL DEFAULT 0,"
    "  funded TEXT NOT NULL DEFAULT '0',"
    "  released TEXT NOT NULL DEFAULT '0',"
    "  refunded TEXT NOT NULL DEFAULT '0',"
    "  created_block INTEGER NOT NULL,"
    "  created_tx TEXT NOT NULL,"
    "  last_event_block INTEGER NOT NULL,"
    "  events INTEGER NOT NULL,"
    "  pending INTEGER NOT NULL DEFAULT 0,"  /* 1: some event is not final yet */
    "  anomaly TEXT,"
    "  PRIMARY KEY (chain_id, address)"
    ");"
    "CREATE INDEX escrows_by_address ON escrows (address);"
    "CREATE TABLE escrow_approvals ("
    "  chain_id INTEGER NOT NULL,"
    "  escrow TEXT NOT NULL,"
    "  approver TEXT NOT NULL,"
    "  block_number INTEGER NOT NULL,"
    "  tx_hash TEXT NOT NULL,"
    "  log_index INTEGER NOT NULL,"
    "  pending INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (chain_id, escrow, approver),"
    "  FOREIGN KEY (chain_id, escrow) REFERENCES escrows(chain_id, address) ON DELETE CASCADE"
    ");";

static const char step4_outbound[] =
    "CREATE TABLE outbound_txs ("
    "  id INTEGER PRIMARY KEY,"
    "  chain_id INTEGER NOT NULL REFERENCES chains(chain_id) ON DELETE CASCADE,"
    "  from_addr TEXT NOT NULL,"
    "  nonce INTEGER NOT NULL,"
    "  hash TEXT NOT NULL,"
    "  raw BLOB NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'mined', 'confirmed', 'failed',"
    "                                       'dropped', 'replaced')),"
    "  escrow TEXT,"
    "  action TEXT NOT NULL DEFAULT '',"
    "  mined_block INTEGER,"
    "  reorged INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  last_seen INTEGER,"
    "  UNIQUE (chain_id, hash)"
    ");"
    "CREATE INDEX outbound_by_sender ON outbound_txs (chain_id, from_addr, nonce);";

/* Risk service (issue 7): oracle feeds mapped to assets, observed oracle rounds (one row per
 * round id), persisted limit alerts, and desk settings of the risk service (drawn amount). */
static const char step_risk[] =
    "CREATE TABLE price_feeds ("
    "  chain_id INTEGER NOT NULL REFERENCES chains(chain_id) ON DELETE CASCADE,"
    "  address TEXT NOT NULL,"
    "  asset TEXT NOT NULL,"              /* the asset symbol the feed prices in USD */
    "  decimals INTEGER NOT NULL CHECK (decimals BETWEEN 0 AND 77),"
    "  max_age INTEGER NOT NULL DEFAULT 0," /* seconds; 0: the limits file's price_max_age */
    "  PRIMARY KEY (chain_id, address)"
    ");"
    "CREATE TABLE price_observations ("
    "  chain_id INTEGER NOT NULL,"
    "  feed TEXT NOT NULL,"
    "  round_id TEXT NOT NULL,"           /* decimal uint80 */
    "  answer TEXT NOT NULL,"             /* decimal int256, feed decimals */
    "  updated_at INTEGER NOT NULL,"
    "  observed_at INTEGER NOT NULL,"
    "  PRIMARY KEY (chain_id, feed, round_id),"
    "  FOREIGN KEY (chain_id, feed) REFERENCES price_feeds(chain_id, address) ON DELETE CASCADE"
    ");"
    "CREATE TABLE risk_alerts ("
    "  id INTEGER PRIMARY KEY,"
    "  key TEXT NOT NULL,"                /* the condition, e.g. 'var_limit', 'stale:1:0xab..' */
    "  kind TEXT NOT NULL,"
    "  severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),"
    "  message TEXT NOT NULL,"
    "  value REAL,"                       /* floating-point estimate that crossed the limit */
    "  limit_value REAL,"
    "  raised_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  cleared_at INTEGER,"
    "  acked_at INTEGER,"
    "  acked_by TEXT"
    ");"
    "CREATE UNIQUE INDEX risk_alerts_open ON risk_alerts (key) WHERE cleared_at IS NULL;"
    "CREATE TABLE risk_settings ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  updated_by TEXT NOT NULL DEFAULT ''"
    ");";
/* desk (escrow workflows): operators with roles, and what the desk knows about each
 * outbound transaction beyond the chain's view: who acted, the asset and amount it
 * commits (velocity limits), the pre-sign summary and the last error. */
static const char step_desk[] =
    "CREATE TABLE operators ("
    "  name TEXT PRIMARY KEY,"
    "  address TEXT NOT NULL,"
    "  roles TEXT NOT NULL,"            /* comma list: trader,approver,compliance,admin */
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE desk_txs ("
    "  outbound_id INTEGER PRIMARY KEY REFERENCES outbound_txs(id) ON DELETE CASCADE,"
    "  operator TEXT NOT NULL,"
    "  asset TEXT NOT NULL,"            /* token address, zero address for the native coin */
    "  amount TEXT NOT NULL,"           /* base units committed by this action */
    "  summary TEXT,"                   /* the pre-sign summary as JSON */
    "  error TEXT"
    ");"
    "CREATE INDEX desk_txs_by_operator ON desk_txs (operator, asset);";

/* cross-chain settlement (issue 10): one row per HTLC swap, its state machine, and the
 * signed transaction in flight (kept before it is sent, so a crash re-sends the same one). */
static const char step_xswap[] =
    "CREATE TABLE xswaps ("
    "  id INTEGER PRIMARY KEY,"
    "  state TEXT NOT NULL,"
    "  chain_x INTEGER NOT NULL, chain_y INTEGER NOT NULL,"
    "  htlc_x TEXT NOT NULL, htlc_y TEXT NOT NULL,"
    "  token_x TEXT NOT NULL, token_y TEXT NOT NULL,"
    "  amount_x TEXT NOT NULL, amount_y TEXT NOT NULL,"
    "  initiator TEXT NOT NULL, counterparty TEXT NOT NULL,"
    "  hashlock TEXT NOT NULL, preimage TEXT,"
    "  t1 INTEGER NOT NULL, t2 INTEGER NOT NULL DEFAULT 0, margin INTEGER NOT NULL,"
    "  lock_x TEXT, lock_x_block INTEGER NOT NULL DEFAULT 0,"
    "  lock_y TEXT, lock_y_block INTEGER NOT NULL DEFAULT 0, y_from_block INTEGER NOT NULL"
    "  DEFAULT 0,"
    "  pending_action TEXT, pending_chain INTEGER NOT NULL DEFAULT 0,"
    "  pending_hash TEXT, pending_raw BLOB,"
    "  note TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL"
    ");";
/* ---- compliance (issue 8): entities, screening hits, cases. Dates are "YYYY-MM-DD"
 * text (NULL: none); subjects are "entity:<id>" or a lowercase address. ---- */
static const char step_compliance[] =
    "CREATE TABLE entities ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  type TEXT NOT NULL CHECK (type IN ('individual', 'company')),"
    "  jurisdiction TEXT NOT NULL CHECK (length(jurisdiction) = 2),"
    "  kyc TEXT NOT NULL DEFAULT 'pending'"
    "    CHECK (kyc IN ('pending', 'verified', 'rejected', 'expired')),"
    "  kyc_expires TEXT,"
    "  tier INTEGER NOT NULL DEFAULT 1,"
    "  risk TEXT NOT NULL DEFAULT 'medium' CHECK (risk IN ('low', 'medium', 'high')),"
    "  review_due TEXT,"
    "  blocked INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE entity_addresses ("
    "  entity_id INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,"
    "  chain_id INTEGER NOT NULL," /* 0: every chain */
    "  address TEXT NOT NULL,"
    "  PRIMARY KEY (chain_id, address)"
    ");"
    "CREATE INDEX entity_addresses_by_entity ON entity_addresses (entity_id);"
    "CREATE TABLE entity_documents ("
    "  id INTEGER PRIMARY KEY,"
    "  entity_id INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,"
    "  doc_type TEXT NOT NULL,"
    "  sha256 TEXT NOT NULL,"
    "  file_name TEXT NOT NULL,"
    "  added_at INTEGER NOT NULL,"
    "  UNIQUE (entity_id, sha256)"
    ");"
    "CREATE TABLE related_parties ("
    "  entity_id INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,"
    "  party_id INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,"
    "  role TEXT NOT NULL,"
    "  PRIMARY KEY (entity_id, party_id, role),"
    "  CHECK (entity_id <> party_id)"
    ");"
    "CREATE TABLE screened_escrows ("
    "  chain_id INTEGER NOT NULL,"
    "  escrow TEXT NOT NULL,"
    "  screened_at INTEGER NOT NULL,"
    "  PRIMARY KEY (chain_id, escrow)"
    ");"
    "CREATE TABLE cases ("
    "  id INTEGER PRIMARY KEY,"
    "  subject TEXT NOT NULL,"
    "  entity_id INTEGER,"
    "  chain_id INTEGER NOT NULL,"
    "  escrow TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'new'"
    "    CHECK (state IN ('new', 'assigned', 'in_review', 'escalated', 'closed')),"
    "  outcome TEXT CHECK (outcome IN ('cleared', 'blocked', 'reported')),"
    "  priority INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 3)," /* 1 high .. 3 low */
    "  score INTEGER NOT NULL,"
    "  opened_at INTEGER NOT NULL,"
    "  due_at INTEGER NOT NULL,"
    "  assignee TEXT,"
    "  snoozed_until TEXT,"
    "  proposed_outcome TEXT,"
    "  proposed_by TEXT,"
    "  closed_by TEXT,"
    "  closed_at INTEGER,"
    "  UNIQUE (subject, chain_id, escrow)"
    ");"
    "CREATE INDEX cases_queue ON cases (state, priority, opened_at);"
    "CREATE TABLE screening_hits ("
    "  id INTEGER PRIMARY KEY,"
    "  chain_id INTEGER NOT NULL,"
    "  escrow TEXT NOT NULL,"
    "  subject TEXT NOT NULL,"
    "  address TEXT NOT NULL,"
    "  entity_id INTEGER,"
    "  role TEXT NOT NULL,"
    "  rule TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  score INTEGER NOT NULL,"
    "  evidence TEXT NOT NULL,"
    "  list_sha256 TEXT,"
    "  list_version TEXT,"
    "  case_id INTEGER REFERENCES cases(id),"
    "  created_at INTEGER NOT NULL,"
    "  UNIQUE (subject, chain_id, escrow, rule)"
    ");"
    "CREATE TABLE case_events ("
    "  id INTEGER PRIMARY KEY,"
    "  case_id INTEGER NOT NULL REFERENCES cases(id),"
    "  at INTEGER NOT NULL,"
    "  operator TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  before TEXT,"
    "  after TEXT,"
    "  note TEXT"
    ");"
    "CREATE TRIGGER case_events_append_only_u BEFORE UPDATE ON case_events"
    " BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;"
    "CREATE TRIGGER case_events_append_only_d BEFORE DELETE ON case_events"
    " BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;";
/* sync: indexes for the hot paths of a sync. Events keyed by
 * (chain_id, block_number, log_index, block_hash) instead of
 * (chain_id, block_hash, log_index) plus an index on (chain_id, block_number, log_index).
 * block_number follows from block_hash, so uniqueness is the same; one index fewer makes
 * an initial sync insert faster, and the key serves block-range reads and rewinds. The
 * table is rebuilt (SQLite cannot drop a table constraint); rows and ids are kept. */
static const char step_sync_indexes[] =
    "CREATE TABLE events_new ("
    "  id INTEGER PRIMARY KEY,"
    "  chain_id INTEGER NOT NULL REFERENCES chains(chain_id) ON DELETE CASCADE,"
    "  block_number INTEGER NOT NULL,"
    "  block_hash TEXT NOT NULL,"
    "  tx_hash TEXT NOT NULL,"
    "  tx_index INTEGER NOT NULL,"
    "  log_index INTEGER NOT NULL,"
    "  address TEXT NOT NULL,"
    "  topic0 TEXT, topic1 TEXT, topic2 TEXT, topic3 TEXT,"
    "  data BLOB NOT NULL,"
    "  name TEXT,"
    "  decoded TEXT,"
    "  escrow TEXT,"
    "  UNIQUE (chain_id, block_number, log_index, block_hash)"
    ");"
    "INSERT INTO events_new SELECT id, chain_id, block_number, block_hash, tx_hash, tx_index,"
    "  log_index, address, topic0, topic1, topic2, topic3, data, name, decoded, escrow"
    "  FROM events;"
    "DROP TABLE events;"
    "ALTER TABLE events_new RENAME TO events;"
    "CREATE INDEX events_by_escrow ON events (chain_id, escrow, block_number, log_index)"
    "  WHERE escrow IS NOT NULL;"
    /* Every commit settles what became final; only pending rows need finding. */
    "CREATE INDEX escrows_pending ON escrows (chain_id, last_event_block) WHERE pending = 1;"
    "CREATE INDEX escrow_approvals_pending ON escrow_approvals (chain_id, block_number)"
    "  WHERE pending = 1;";

/* scale: what the escrow table of the terminal UI needs at a million escrows.
 * escrow_totals holds the row count of escrows (kept by triggers), so the unfiltered
 * table knows its size without counting. escrow_search is a trigram index (FTS5) over the
 * text a filter matches (address, payer, payee, state, chain name, asset symbol), so a
 * filter of three or more characters is an index lookup instead of a scan. Both are kept
 * by triggers in the transaction that writes the escrow, so they can never disagree with
 * the projection; token and chain renames re-label the escrows they cover. The search
 * rows are keyed by the escrows' rowid; a VACUUM may renumber those, and `fusion reindex`
 * rebuilds the index (store_escrow_search_rebuild). SEARCH_ROW_ is in store_internal.h. */
static const char step_escrow_search[] =
    /* The address index also carries every column the filter tests, so a walk in address
     * order tests each row inside the index and reads the table only for the rows shown. */
    "DROP INDEX escrows_by_address;"
    "CREATE INDEX escrows_by_address ON escrows (address, payer, payee, state, token, chain_id);"
    "CREATE TABLE escrow_totals ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  n INTEGER NOT NULL"
    ");"
    "INSERT INTO escrow_totals (id, n) SELECT 1, count(*) FROM escrows;"
    "CREATE VIRTUAL TABLE escrow_search USING fts5("
    "  address, payer, payee, state, chain, asset, tokenize = 'trigram');"
    "INSERT INTO escrow_search (rowid, address, payer, payee, state, chain, asset)"
    "  SELECT " SEARCH_ROW_("e") " FROM escrows e;"
    "CREATE TRIGGER escrows_search_i AFTER INSERT ON escrows BEGIN"
    "  UPDATE escrow_totals SET n = n + 1 WHERE id = 1;"
    "  INSERT INTO escrow_search (rowid, address, payer, payee, state, chain, asset)"
    "    SELECT " SEARCH_ROW_("new") ";"
    " END;"
    "CREATE TRIGGER escrows_search_d AFTER DELETE ON escrows BEGIN"
    "  UPDATE escrow_totals SET n = n - 1 WHERE id = 1;"
    "  DELETE FROM escrow_search WHERE rowid = old.rowid;"
    " END;"
    /* The projection rewrites whole rows (upsert): re-index only when searched text moved. */
    "CREATE TRIGGER escrows_search_u AFTER UPDATE ON escrows"
    " WHEN old.rowid IS NOT new.rowid OR old.address IS NOT new.address"
    "  OR old.payer IS NOT new.payer OR old.payee IS NOT new.payee"
    "  OR old.state IS NOT new.state OR old.chain_id IS NOT new.chain_id"
    "  OR old.token IS NOT new.token BEGIN"
    "  DELETE FROM escrow_search WHERE rowid = old.rowid;"
    "  INSERT INTO escrow_search (rowid, address, payer, payee, state, chain, asset)"
    "    SELECT " SEARCH_ROW_("new") ";"
    " END;"
    "CREATE TRIGGER tokens_search_i AFTER INSERT ON tokens BEGIN"
    "  UPDATE escrow_search SET asset = new.symbol WHERE rowid IN"
    "    (SELECT rowid FROM escrows WHERE chain_id = new.chain_id AND token = new.address);"
    " END;"
    "CREATE TRIGGER tokens_search_u AFTER UPDATE ON tokens BEGIN"
    "  UPDATE escrow_search SET asset = " SEARCH_ASSET_("e", "e.chain_id")
    "    FROM escrows e WHERE e.rowid = escrow_search.rowid"
    "    AND ((e.chain_id = old.chain_id AND e.token = old.address)"
    "      OR (e.chain_id = new.chain_id AND e.token = new.address));"
    " END;"
    "CREATE TRIGGER tokens_search_d AFTER DELETE ON tokens BEGIN"
    "  UPDATE escrow_search SET asset = " SEARCH_ASSET_("e", "e.chain_id")
    "    FROM escrows e WHERE e.rowid = escrow_search.rowid"
    "    AND e.chain_id = old.chain_id AND e.token = old.address;"
    " END;"
    "CREATE TRIGGER chains_search_u AFTER UPDATE OF name, native_symbol ON chains BEGIN"
    "  UPDATE escrow_search SET chain = new.name, asset = " SEARCH_ASSET_("e", "e.chain_id")
    "    FROM escrows e WHERE e.rowid = escrow_search.rowid AND e.chain_id = new.chain_id;"
    " END;";
#undef SEARCH_ROW_
#undef SEARCH_ASSET_

/* compliance: a screened mark names the escrow it screened by its creation (the creating
 * transaction and the hash of the block of its EscrowCreated event), not by its address
 * alone: escrows are clones whose address follows from the factory's nonce, so after a
 * reorg a different escrow can stand at a screened address. Marks written before this
 * step name no creation, so those escrows are screened once more (what is already stored,
 * hits and cases, is kept: screening the same escrow again adds nothing). */
static const char step_screened_identity[] =
    "ALTER TABLE screened_escrows ADD COLUMN created_tx TEXT;"
    "ALTER TABLE screened_escrows ADD COLUMN created_block_hash TEXT;";
/* The audit head: the table is the audit module's (it may create it first, in a desk.db
 * made by an audit row); one statement for both. */
static const char step_audit_head[] = AUDIT_HEAD_SQL;

/* escrow contracts version 2 beside version 1: a factory's version (existing factories
 * are version 1, which has no version() to ask), and per escrow its version, dispute
 * window, terms hash and arbiter of the creation (the arbiter column is the current one,
 * moved by ArbiterChanged), and whether its events stopped fitting the state machine. */
static const char step_escrow_v2[] =
    "ALTER TABLE contracts ADD COLUMN version INTEGER NOT NULL DEFAULT 1"
    "  CHECK (version BETWEEN 1 AND 2);"
    "ALTER TABLE escrows ADD COLUMN version INTEGER NOT NULL DEFAULT 1"
    "  CHECK (version BETWEEN 1 AND 2);"
    "ALTER TABLE escrows ADD COLUMN dispute_window INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE escrows ADD COLUMN terms_hash TEXT;"
    "ALTER TABLE escrows ADD COLUMN created_arbiter TEXT;"
    "ALTER TABLE escrows ADD COLUMN inconsistent INTEGER NOT NULL DEFAULT 0;"
    "UPDATE escrows SET created_arbiter = arbiter;";
/* Screening hits are evidence: a reorg marks them instead of deleting them. */
static const char step_hit_reorged[] = "ALTER TABLE screening_hits ADD COLUMN reorged_at INTEGER;";

/* bridges (src/bridge, docs/bridges.md): per chain, the CCTP-style contracts and domain the
 * desk bridges USDC through; per transfer, its two legs, the message and attestation, and
 * the signed transaction in flight, so `fusion bridge resume` completes it exactly once. */
static const char step_bridges[] =
    "CREATE TABLE bridge_cctp ("
    "  chain_id INTEGER PRIMARY KEY REFERENCES chains(chain_id) ON DELETE CASCADE,"
    "  domain INTEGER NOT NULL,"
    "  token_messenger TEXT NOT NULL, message_transmitter TEXT NOT NULL, usdc TEXT NOT NULL,"
    "  attestation_url TEXT NOT NULL DEFAULT ''"
    ");"
    "CREATE TABLE bridge_transfers ("
    "  id INTEGER PRIMARY KEY,"
    "  protocol TEXT NOT NULL CHECK (protocol IN ('cctp')),"
    "  state TEXT NOT NULL"
    "    CHECK (state IN ('new', 'sent', 'attested', 'delivered', 'failed', 'expired')),"
    "  src_chain INTEGER NOT NULL, dst_chain INTEGER NOT NULL,"
    "  src_domain INTEGER NOT NULL, dst_domain INTEGER NOT NULL,"
    "  sender TEXT NOT NULL, recipient TEXT NOT NULL,"
    "  token_src TEXT NOT NULL, token_dst TEXT NOT NULL,"
    "  amount TEXT NOT NULL, fee TEXT NOT NULL DEFAULT '0',"
    "  operator TEXT NOT NULL,"
    "  burn_tx TEXT, burn_block INTEGER NOT NULL DEFAULT 0,"
    "  message BLOB, message_hash TEXT, attestation BLOB,"
    "  mint_tx TEXT, mint_block INTEGER NOT NULL DEFAULT 0,"
    "  pending_action TEXT, pending_chain INTEGER NOT NULL DEFAULT 0,"
    "  pending_hash TEXT, pending_raw BLOB,"
    "  note TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL"
    ");";

const char *const store_schema_steps[] = {
    step1_config,
    step2_events,
    step3_escrows,
    step4_outbound,
    step_risk,
    step_desk,
    step_xswap,
    step_compliance,
    step_sync_indexes,
    step_escrow_search,
    step_screened_identity,
    step_audit_head,
    step_escrow_v2,
    step_hit_reorged,
    step_bridges,
};

const int store_schema_audit_head_version = 12;

const int store_schema_n_steps = (int)(sizeof store_schema_steps / sizeof store_schema_steps[0]);
