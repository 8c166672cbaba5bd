/* store_schema.c: the desk schema as an ordered list of forward migrations.
 * Step i takes PRAGMA user_version from i to i+1 inside one transaction. Append new
 * steps at the end; never edit a step that has shipped.
 *
 * Conventions: addresses and hashes are lowercase "0x" hex text (readable in the
 * sqlite3 shell, comparable with what nodes print), except in the events table, whose
 * hashes and addresses are 32- and 20-byte blobs (the bulk of a desk; see
 * step_events_blob); amounts are decimal text of base
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
/* Per endpoint, what the sync learnt of it: its last answer's latency, the most blocks
 * one eth_getLogs may ask of it, and until when it rate-limits us (429 Retry-After). */
static const char step_endpoint_stats[] =
    "ALTER TABLE rpc_endpoints ADD COLUMN latency_ms INTEGER;"
    "ALTER TABLE rpc_endpoints ADD COLUMN range_cap INTEGER;"
    "ALTER TABLE rpc_endpoints ADD COLUMN limited_until INTEGER NOT NULL DEFAULT 0;";

/* sync speed: the events table holds hashes and addresses as 32- and 20-byte blobs (half
 * the row and its unique key as hex text; a sync writes one row per log), and an escrow's
 * approvals travel with its row as one blob (STORE_APPROVAL_BYTES each, chain order)
 * instead of a row each in escrow_approvals with two indexes. Rows and ids are kept;
 * fusion_unhex() is the store's own SQL function (store.c). An approval's pending mark
 * follows from its escrow's and the chain's final block (store_escrow.c). */
static const char step_events_blob[] =
    "CREATE TABLE events_new ("
    "  id INTEGER PRIMARY KEY,"
    "  chain_id INTEGER NOT NULL REFERENCES chains(chain_id) ON DELETE CASCADE,"
    "  block_number INTEGER NOT NULL,"
    "  block_hash BLOB NOT NULL,"
    "  tx_hash BLOB NOT NULL,"
    "  tx_index INTEGER NOT NULL,"
    "  log_index INTEGER NOT NULL,"
    "  address BLOB NOT NULL,"
    "  topic0 BLOB, topic1 BLOB, topic2 BLOB, topic3 BLOB,"
    "  data BLOB NOT NULL,"
    "  name TEXT,"
    "  decoded TEXT,"
    "  escrow BLOB,"
    "  UNIQUE (chain_id, block_number, log_index, block_hash)"
    ");"
    "INSERT INTO events_new SELECT id, chain_id, block_number, fusion_unhex(block_hash),"
    "  fusion_unhex(tx_hash), tx_index, log_index, fusion_unhex(address), fusion_unhex(topic0),"
    "  fusion_unhex(topic1), fusion_unhex(topic2), fusion_unhex(topic3), data, name, decoded,"
    "  fusion_unhex(escrow) FROM events;"
    "DROP TABLE events;"
    "ALTER TABLE events_new RENAME TO events;"
    "CREATE INDEX events_by_escrow ON events (chain_id, escrow, block_number, log_index)"
    "  WHERE escrow IS NOT NULL;"
    "ALTER TABLE escrows ADD COLUMN approval_list BLOB;"
    "UPDATE escrows SET approval_list = (SELECT fusion_unhex(group_concat(p, ''))"
    "  FROM (SELECT substr(a.approver, 3) || printf('%016x%s%08x%02x', a.block_number,"
    "          substr(a.tx_hash, 3), a.log_index, a.pending) AS p"
    "        FROM escrow_approvals a WHERE a.chain_id = escrows.chain_id"
    "          AND a.escrow = escrows.address ORDER BY a.block_number, a.log_index));"
    "DROP TABLE escrow_approvals;";

/* A chain's block explorer (a URL template with {address}), shown in the escrow detail. */
static const char step_chain_explorer[] =
    "ALTER TABLE chains ADD COLUMN explorer TEXT NOT NULL DEFAULT '';";

/* Imported screening lists: every import is a version (source, publication date, hash,
 * counts, what it added and removed) with its entries; the latest version of a name is
 * the one screened with. rescreened_at: when the screener re-screened the money in
 * flight against it (NULL: not yet). Inflows: transfers into the desk's accounts seen
 * on confirmed blocks, evidence like the hits (a reorg marks them, never deletes them). */
static const char step_lists[] =
    "CREATE TABLE list_versions ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  kind TEXT NOT NULL CHECK (kind IN ('addresses', 'jurisdictions')),"
    "  format TEXT NOT NULL,"
    "  source TEXT NOT NULL,"
    "  published TEXT NOT NULL,"
    "  sha256 TEXT NOT NULL,"
    "  n_entries INTEGER NOT NULL,"
    "  n_skipped INTEGER NOT NULL,"
    "  n_added INTEGER NOT NULL,"
    "  n_removed INTEGER NOT NULL,"
    "  imported_at INTEGER NOT NULL,"
    "  operator TEXT NOT NULL,"
    "  rescreened_at INTEGER);"
    "CREATE INDEX list_versions_name ON list_versions (name, id);"
    "CREATE TABLE list_entries ("
    "  version_id INTEGER NOT NULL REFERENCES list_versions (id),"
    "  key TEXT NOT NULL,"
    "  detail TEXT NOT NULL,"
    "  line INTEGER NOT NULL,"
    "  PRIMARY KEY (version_id, key)) WITHOUT ROWID;"
    "CREATE TABLE inflows ("
    "  id INTEGER PRIMARY KEY,"
    "  chain_id INTEGER NOT NULL,"
    "  block_number INTEGER NOT NULL,"
    "  block_hash TEXT NOT NULL,"
    "  tx_hash TEXT NOT NULL,"
    "  log_index INTEGER NOT NULL,"
    "  token TEXT NOT NULL,"
    "  sender TEXT NOT NULL,"
    "  recipient TEXT NOT NULL,"
    "  amount TEXT NOT NULL,"
    "  block_time INTEGER NOT NULL,"
    "  seen_at INTEGER NOT NULL,"
    "  screened_at INTEGER,"
    "  reorged_at INTEGER,"
    "  UNIQUE (chain_id, block_hash, log_index));"
    "CREATE INDEX inflows_pending ON inflows (screened_at) WHERE screened_at IS NULL;"
    "CREATE TABLE inflow_cursor ("
    "  chain_id INTEGER PRIMARY KEY,"
    "  next_block INTEGER NOT NULL);"
    "CREATE TABLE entity_travel ("
    "  entity_id INTEGER PRIMARY KEY REFERENCES entities (id),"
    "  street TEXT, town TEXT, postcode TEXT, country TEXT,"
    "  national_id TEXT, national_id_type TEXT, birth_date TEXT, birth_place TEXT,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE TABLE travel_records ("
    "  id INTEGER PRIMARY KEY,"
    "  chain_id INTEGER NOT NULL,"
    "  escrow TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  usd_estimate REAL,"
    "  ivms101 TEXT NOT NULL,"
    "  recorded_at INTEGER NOT NULL,"
    "  operator TEXT NOT NULL);"
    "CREATE INDEX travel_records_escrow ON travel_records (chain_id, escrow);";

/* The API (src/api): its clients (a token is stored only as its BLAKE2b hash), the
 * proposals they make (waiting for a person; one per client and idempotency key), and
 * the feed of changes the event stream serves: triggers append a row with a monotonic id
 * whenever an escrow is created or changes state, a transaction is recorded or moves, an
 * alert is raised or cleared, a case is opened or moves, a proposal is made or decided,
 * so a client resuming from an id misses nothing, whichever process wrote the change. */
static const char step_api[] =
    "CREATE TABLE api_clients ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  scope TEXT NOT NULL CHECK (scope IN ('read', 'propose')),"
    "  token_hash TEXT NOT NULL UNIQUE,"
    "  created_at INTEGER NOT NULL,"
    "  created_by TEXT NOT NULL,"
    "  revoked_at INTEGER,"
    "  revoked_by TEXT"
    ");"
    "CREATE TABLE api_proposals ("
    "  id INTEGER PRIMARY KEY,"
    "  client TEXT NOT NULL,"
    "  idem_key TEXT,"
    "  kind TEXT NOT NULL CHECK (kind IN ('escrow', 'payment')),"
    "  chain_id INTEGER NOT NULL,"
    "  body TEXT NOT NULL,"          /* the request as validated (canonical JSON) */
    "  body_hash TEXT NOT NULL,"     /* of body: the same key with another body is refused */
    "  screening TEXT NOT NULL,"     /* JSON: policy and compliance as seen at proposal time */
    "  state TEXT NOT NULL DEFAULT 'pending'"
    "    CHECK (state IN ('pending', 'accepted', 'rejected', 'failed')),"
    "  created_at INTEGER NOT NULL,"
    "  decided_at INTEGER,"
    "  decided_by TEXT,"
    "  reason TEXT,"
    "  escrow TEXT,"
    "  outbound_id INTEGER,"
    "  UNIQUE (client, idem_key)"
    ");"
    "CREATE INDEX api_proposals_state ON api_proposals (state, id);"
    "CREATE TABLE api_feed ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  kind TEXT NOT NULL,"
    "  chain_id INTEGER NOT NULL DEFAULT 0,"
    "  ref TEXT NOT NULL,"
    "  state TEXT,"
    "  at INTEGER NOT NULL"
    ");"
    "CREATE TRIGGER api_feed_escrow_i AFTER INSERT ON escrows BEGIN"
    "  INSERT INTO api_feed (kind, chain_id, ref, state, at)"
    "    VALUES ('escrow.created', new.chain_id, new.address, new.state, unixepoch());"
    " END;"
    "CREATE TRIGGER api_feed_escrow_u AFTER UPDATE OF state ON escrows"
    " WHEN old.state IS NOT new.state BEGIN"
    "  INSERT INTO api_feed (kind, chain_id, ref, state, at)"
    "    VALUES ('escrow.state', new.chain_id, new.address, new.state, unixepoch());"
    " END;"
    "CREATE TRIGGER api_feed_escrow_d AFTER DELETE ON escrows BEGIN"
    "  INSERT INTO api_feed (kind, chain_id, ref, state, at)"
    "    VALUES ('escrow.removed', old.chain_id, old.address, old.state, unixepoch());"
    " END;"
    "CREATE TRIGGER api_feed_tx_i AFTER INSERT ON outbound_txs BEGIN"
    "  INSERT INTO api_feed (kind, chain_id, ref, state, at)"
    "    VALUES ('transaction.created', new.chain_id, new.id, new.state, unixepoch());"
    " END;"
    "CREATE TRIGGER api_feed_tx_u AFTER UPDATE OF state ON outbound_txs"
    " WHEN old.state IS NOT new.state BEGIN"
    "  INSERT INTO api_feed (kind, chain_id, ref, state, at)"
    "    VALUES ('transaction.state', new.chain_id, new.id, new.state, unixepoch());"
    " END;"
    "CREATE TRIGGER api_feed_alert_i AFTER INSERT ON risk_alerts BEGIN"
    "  INSERT INTO api_feed (kind, ref, state, at)"
    "    VALUES ('alert.raised', new.id, new.severity, unixepoch());"
    " END;"
    "CREATE TRIGGER api_feed_alert_u AFTER UPDATE OF cleared_at ON risk_alerts"
    " WHEN old.cleared_at IS NULL AND new.cleared_at IS NOT NULL BEGIN"
    "  INSERT INTO api_feed (kind, ref, state, at)"
    "    VALUES ('alert.cleared', new.id, new.severity, unixepoch());"
    " END;"
    "CREATE TRIGGER api_feed_case_i AFTER INSERT ON cases BEGIN"
    "  INSERT INTO api_feed (kind, chain_id, ref, state, at)"
    "    VALUES ('case.opened', new.chain_id, new.id, new.state, unixepoch());"
    " END;"
    "CREATE TRIGGER api_feed_case_u AFTER UPDATE OF state ON cases"
    " WHEN old.state IS NOT new.state BEGIN"
    "  INSERT INTO api_feed (kind, chain_id, ref, state, at)"
    "    VALUES ('case.state', new.chain_id, new.id, new.state, unixepoch());"
    " END;"
    "CREATE TRIGGER api_feed_proposal_i AFTER INSERT ON api_proposals BEGIN"
    "  INSERT INTO api_feed (kind, chain_id, ref, state, at)"
    "    VALUES ('proposal.created', new.chain_id, new.id, new.state, unixepoch());"
    " END;"
    "CREATE TRIGGER api_feed_proposal_u AFTER UPDATE OF state ON api_proposals"
    " WHEN old.state IS NOT new.state BEGIN"
    "  INSERT INTO api_feed (kind, chain_id, ref, state, at)"
    "    VALUES ('proposal.state', new.chain_id, new.id, new.state, unixepoch());"
    " END;";

/* credit: facilities of counterparty entities (limit, currency, day count, billing day,
 * health-factor levels, collateral terms and the collateral vaults as JSON) and their loan ledgers (draws,
 * repayments, fees, posted interest, rate changes; amounts are base units as decimal
 * text). Interest rows are derived by src/credit and never edited. */
static const char step_credit[] =
    "CREATE TABLE credit_facilities ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  entity_id INTEGER NOT NULL REFERENCES entities(id),"
    "  currency TEXT NOT NULL,"
    "  decimals INTEGER NOT NULL CHECK (decimals BETWEEN 0 AND 36),"
    "  limit_units TEXT NOT NULL,"
    "  day_count INTEGER NOT NULL CHECK (day_count IN (360, 365)),"
    "  billing_day INTEGER NOT NULL CHECK (billing_day BETWEEN 1 AND 28),"
    "  initial_e4 INTEGER NOT NULL,"
    "  margin_call_e4 INTEGER NOT NULL,"
    "  liquidation_e4 INTEGER NOT NULL,"
    "  collateral TEXT NOT NULL,"
    "  vaults TEXT NOT NULL DEFAULT '[]',"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE credit_ledger ("
    "  id INTEGER PRIMARY KEY,"
    "  facility_id INTEGER NOT NULL REFERENCES credit_facilities(id),"
    "  day INTEGER NOT NULL,"
    "  kind TEXT NOT NULL CHECK (kind IN ('draw', 'repay', 'fee', 'interest', 'rate')),"
    "  amount TEXT NOT NULL,"
    "  base_e8 INTEGER NOT NULL DEFAULT 0,"
    "  spread_e8 INTEGER NOT NULL DEFAULT 0,"
    "  memo TEXT,"
    "  operator TEXT,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX credit_ledger_by_facility ON credit_ledger (facility_id, day);"
    /* margin calls and liquidation proposals: opened by `credit check` when the health
     * factor crosses a level, closed when it is back above it */
    "CREATE TABLE credit_calls ("
    "  id INTEGER PRIMARY KEY,"
    "  facility_id INTEGER NOT NULL REFERENCES credit_facilities(id),"
    "  kind TEXT NOT NULL CHECK (kind IN ('margin_call', 'liquidation')),"
    "  health_factor TEXT NOT NULL,"
    "  opened_at INTEGER NOT NULL,"
    "  cure_by INTEGER NOT NULL,"
    "  closed_at INTEGER,"
    "  closed_why TEXT,"
    "  plan TEXT"
    ");";

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

/* Credit from the chain (docs/credit.md). CollateralVault events synced (src/sync/vault.c): a contract kind
 * 'vault' (the contracts table is rebuilt for its CHECK), and one row per deposit,
 * withdrawal or seizure, tied to its stored event: rolling the event back (a reorg, a
 * rewind) deletes the row with it. */
static const char step_credit_sync[] =
    "CREATE TABLE contracts_new ("
    "  chain_id INTEGER NOT NULL REFERENCES chains(chain_id) ON DELETE CASCADE,"
    "  kind TEXT NOT NULL"
    "    CHECK (kind IN ('factory', 'escrow', 'token', 'feed', 'htlc', 'vault')),"
    "  address TEXT NOT NULL,"
    "  deployed_block INTEGER NOT NULL DEFAULT 0,"
    "  version INTEGER NOT NULL DEFAULT 1,"
    "  PRIMARY KEY (chain_id, address)"
    ");"
    "INSERT INTO contracts_new SELECT chain_id, kind, address, deployed_block, version"
    "  FROM contracts;"
    "DROP TABLE contracts;"
    "ALTER TABLE contracts_new RENAME TO contracts;"
    "CREATE TABLE vault_flows ("
    "  event_id INTEGER PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,"
    "  chain_id INTEGER NOT NULL,"
    "  vault TEXT NOT NULL,"
    "  block_number INTEGER NOT NULL,"
    "  kind TEXT NOT NULL CHECK (kind IN ('deposit', 'withdrawal', 'seizure')),"
    "  owner TEXT NOT NULL,"
    "  token TEXT NOT NULL,"
    "  amount TEXT NOT NULL,"
    "  request_id INTEGER"
    ");"
    "CREATE INDEX vault_flows_by_owner ON vault_flows (chain_id, vault, owner, token);"
    /* repayments recognised from Transfer events (src/credit/repay.c): a facility's
     * repayment address, and the inflow a ledger row was posted from (once) */
    "ALTER TABLE credit_facilities ADD COLUMN repay_to TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE credit_ledger ADD COLUMN inflow_id INTEGER REFERENCES inflows(id);"
    "CREATE UNIQUE INDEX credit_ledger_by_inflow ON credit_ledger (inflow_id)"
    "  WHERE inflow_id IS NOT NULL;";
/* the CCIP-style route (src/bridge/ccip_route.c): transfers of protocol 'ccip', whose
 * message is committed (read and its id checked) before it is delivered. SQLite cannot
 * change a CHECK in place: the table is rebuilt with the same columns and rows. */
static const char step_bridge_ccip[] =
    "CREATE TABLE bridge_transfers_new ("
    "  id INTEGER PRIMARY KEY,"
    "  protocol TEXT NOT NULL CHECK (protocol IN ('cctp', 'ccip')),"
    "  state TEXT NOT NULL"
    "    CHECK (state IN ('new', 'sent', 'attested', 'committed', 'delivered', 'failed',"
    "                     'expired')),"
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
    ");"
    "INSERT INTO bridge_transfers_new SELECT * FROM bridge_transfers;"
    "DROP TABLE bridge_transfers;"
    "ALTER TABLE bridge_transfers_new RENAME TO bridge_transfers;";

/* draws paid through the desk pipeline (src/credit/service.c, credit_draw_settle): the
 * draw waits beside its payment's outbound row (written in the same transaction) until the
 * payment is mined; the ledger row then names the payment, once. */
static const char step_credit_draws[] =
    "CREATE TABLE credit_draws_pending ("
    "  outbound_id INTEGER PRIMARY KEY REFERENCES outbound_txs(id),"
    "  facility_id INTEGER NOT NULL REFERENCES credit_facilities(id),"
    "  day INTEGER NOT NULL,"
    "  amount TEXT NOT NULL,"
    "  memo TEXT NOT NULL DEFAULT '',"
    "  operator TEXT NOT NULL,"
    "  details TEXT NOT NULL DEFAULT '{}'"
    ");"
    "ALTER TABLE credit_ledger ADD COLUMN outbound_id INTEGER REFERENCES outbound_txs(id);"
    "CREATE UNIQUE INDEX credit_ledger_by_outbound ON credit_ledger (outbound_id)"
    "  WHERE outbound_id IS NOT NULL;";
/* api: bridge transfers can be proposed too (the kind CHECK rebuilt; its index and the
 * feed's triggers go with the old table and are made again). */
static const char step_api_bridge[] =
    "CREATE TABLE api_proposals_new ("
    "  id INTEGER PRIMARY KEY,"
    "  client TEXT NOT NULL,"
    "  idem_key TEXT,"
    "  kind TEXT NOT NULL CHECK (kind IN ('escrow', 'payment', 'bridge')),"
    "  chain_id INTEGER NOT NULL,"
    "  body TEXT NOT NULL,"
    "  body_hash TEXT NOT NULL,"
    "  screening TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending'"
    "    CHECK (state IN ('pending', 'accepted', 'rejected', 'failed')),"
    "  created_at INTEGER NOT NULL,"
    "  decided_at INTEGER,"
    "  decided_by TEXT,"
    "  reason TEXT,"
    "  escrow TEXT,"
    "  outbound_id INTEGER,"
    "  UNIQUE (client, idem_key)"
    ");"
    "INSERT INTO api_proposals_new SELECT * FROM api_proposals;"
    "DROP TABLE api_proposals;"
    "ALTER TABLE api_proposals_new RENAME TO api_proposals;"
    "CREATE INDEX api_proposals_state ON api_proposals (state, id);"
    "CREATE TRIGGER api_feed_proposal_i AFTER INSERT ON api_proposals BEGIN"
    "  INSERT INTO api_feed (kind, chain_id, ref, state, at)"
    "    VALUES ('proposal.created', new.chain_id, new.id, new.state, unixepoch());"
    " END;"
    "CREATE TRIGGER api_feed_proposal_u AFTER UPDATE OF state ON api_proposals"
    " WHEN old.state IS NOT new.state BEGIN"
    "  INSERT INTO api_feed (kind, chain_id, ref, state, at)"
    "    VALUES ('proposal.state', new.chain_id, new.id, new.state, unixepoch());"
    " END;";

/* A case's hits and events by its id: the reorg sweep of every screening pass asks, for each
 * case whose escrow is gone, whether any of its hits is an inflow's and whether it already
 * has its escrow_vanished note (and the case screen lists both): without the indexes each
 * question read every hit and every event of the desk. */
static const char step_hits_by_case[] =
    "CREATE INDEX screening_hits_case ON screening_hits (case_id);"
    "CREATE INDEX case_events_case ON case_events (case_id);";

/* cases: the state and outcome CHECKs as chains of comparisons. SQLite evaluates a CHECK
 * of `x IN (three or more constants)` by building a temporary b-tree of the constants for
 * every row written: opening a case cost twice what it does with the same rule spelled
 * with `=` and OR (same values allowed, same NULL outcome). The table is rebuilt (SQLite
 * cannot change a CHECK in place) with its rows and ids; its index and the API feed's
 * triggers go with the old table and are made again; hits and case events keep naming
 * the same case ids. */
static const char step_case_checks[] =
    STORE_STEP_REBUILD
    "CREATE TABLE cases_new ("
    "  id INTEGER PRIMARY KEY,"
    "  subject TEXT NOT NULL,"
    "  entity_id INTEGER,"
    "  chain_id INTEGER NOT NULL,"
    "  escrow TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'new'"
    "    CHECK (state = 'new' OR state = 'assigned' OR state = 'in_review'"
    "           OR state = 'escalated' OR state = 'closed'),"
    "  outcome TEXT"
    "    CHECK (outcome = 'cleared' OR outcome = 'blocked' OR outcome = 'reported'),"
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
    "INSERT INTO cases_new SELECT * FROM cases;"
    "DROP TABLE cases;"
    "ALTER TABLE cases_new RENAME TO cases;"
    "CREATE INDEX cases_queue ON cases (state, priority, opened_at);"
    "CREATE TRIGGER api_feed_case_i AFTER INSERT ON cases BEGIN"
    "  INSERT INTO api_feed (kind, chain_id, ref, state, at)"
    "    VALUES ('case.opened', new.chain_id, new.id, new.state, unixepoch());"
    " END;"
    "CREATE TRIGGER api_feed_case_u AFTER UPDATE OF state ON cases"
    " WHEN old.state IS NOT new.state BEGIN"
    "  INSERT INTO api_feed (kind, chain_id, ref, state, at)"
    "    VALUES ('case.state', new.chain_id, new.id, new.state, unixepoch());"
    " END;";

/* sync speed: what a range's commit pays per row, for the same rows and the same checks.
 * - The events' foreign key to chains is checked at COMMIT (DEFERRABLE INITIALLY DEFERRED)
 *   instead of row by row: an immediate foreign key makes every multi-row INSERT
 *   (store_event_put_many, 32 rows a statement) keep a statement journal, a copy of each
 *   page the statement touches, taken before its first write (the events_by_escrow index
 *   is written at random places: about a page a row), a quarter of the insert's CPU. An
 *   event of a chain that is not configured still fails its transaction, at COMMIT (or
 *   at the end of its statement outside a transaction); ON DELETE CASCADE acts as before.
 * - The escrow state check as a chain of comparisons: SQLite evaluates an IN list of
 *   constants through an ephemeral b-tree built each time the statement runs, that is
 *   for every escrow row written (an upsert a row). The same values are accepted.
 * Neither changes what is stored, so the two definitions are edited in place (SQLite's
 * documented way to change a constraint that leaves the stored content as it is), not
 * rebuilt: a rebuild would copy every event, and dropping the old events table would
 * cascade into vault_flows. RESET re-reads the schema on this connection; a table made
 * and dropped moves the schema cookie, so that other connections re-read it too. */
static const char step_write_paths[] =
    "PRAGMA writable_schema = ON;"
    "UPDATE sqlite_master SET sql = replace(sql,"
    "  'chain_id INTEGER NOT NULL REFERENCES chains(chain_id) ON DELETE CASCADE,',"
    "  'chain_id INTEGER NOT NULL REFERENCES chains(chain_id) ON DELETE CASCADE"
    " DEFERRABLE INITIALLY DEFERRED,')"
    "  WHERE type = 'table' AND name = 'events';"
    "UPDATE sqlite_master SET sql = replace(sql,"
    "  '(state IN (''created'', ''funded'', ''released'', ''refunded'',"
    "                                       ''disputed'', ''resolved''))',"
    "  '(state = ''created'' OR state = ''funded'' OR state = ''released''"
    " OR state = ''refunded'' OR state = ''disputed'' OR state = ''resolved'')')"
    "  WHERE type = 'table' AND name = 'escrows';"
    "PRAGMA writable_schema = RESET;"
    "CREATE TABLE schema_write_paths (x);"
    "DROP TABLE schema_write_paths;";

/* sync speed: a catch-up of many ranges writes an escrow row at the escrow's creation and
 * then once more at its end, not at every commit (each range of a by-topic catch-up
 * touches most escrows again: a row rewrite each, the larger part of a commit). An escrow
 * whose row lags behind the events a commit stored is listed here, in that same commit;
 * the catch-up's last commit writes the rows and empties the list, and a sync that finds
 * the list not empty (the catch-up died) rebuilds those rows from their stored events
 * before anything else (src/sync/sync_chain.c). */
static const char step_escrows_stale[] =
    "CREATE TABLE escrows_stale ("
    "  chain_id INTEGER NOT NULL REFERENCES chains(chain_id) ON DELETE CASCADE,"
    "  address BLOB NOT NULL,"
    "  PRIMARY KEY (chain_id, address)"
    ") WITHOUT ROWID;";

/* the destination block a CCIP transfer's delivery is looked for from (its head read
 * before the ccipSend; src/bridge/ccip_route.c): the delivery is read in bounded ranges
 * from there, not from block 0. 0 on older transfers: read from block 0, range by range. */
static const char step_bridge_dst_from[] =
    "ALTER TABLE bridge_transfers ADD COLUMN dst_from_block INTEGER NOT NULL DEFAULT 0;";

/* On a desk whose book is on a server (store_book.h) the inflows are the server's: the
 * screening marks stay this desk.db's (as screened_escrows' do), by the server's inflow id
 * (src/store/store_lists.c). Empty on a desk without a book. */
static const char step_inflows_screened[] =
    "CREATE TABLE inflows_screened ("
    "  book_id INTEGER PRIMARY KEY,"
    "  screened_at INTEGER NOT NULL);";

/* the copy of the change feed of a desk's book on a server (src/api/service.c): the
 * server's database it follows (its identity as the book's reader names it) and the last
 * id of that feed copied into api_feed, set in the transaction that appends the copies, so
 * a restarted `fusion serve` goes on from there with none lost nor copied twice. One row. */
static const char step_api_feed_follow[] =
    "CREATE TABLE api_feed_follow ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  book TEXT NOT NULL,"
    "  cursor INTEGER NOT NULL CHECK (cursor >= 0)"
    ");";

/* sync speed (issue 17): the events keep no decoded JSON. It repeated what name, topics
 * and data hold (74 bytes for an Approved, about 1,780 for an EscrowCreated: 12 MB of a
 * 100,000-event chain's 40 MB events table) and was written twice (log, then checkpoint)
 * for every event; a reader decodes the fields on read instead (sync_event_json_of,
 * src/sync/event_json.h), the same text. DROP COLUMN rewrites every row once, shorter, in
 * this step's transaction (0.3 s CPU for 100,000 events); the space it frees stays inside
 * the table's pages (new events are appended after them) until a VACUUM. */
static const char step_events_no_json[] = "ALTER TABLE events DROP COLUMN decoded;";

/* The bridge legs a chain sync records in a book on a server (docs/bridges.md, scale.md):
 * each MessageSent and MessageReceived of a watched CCTP transmitter, tied to its stored
 * event so that the rewind deleting the event deletes the leg, the transfer it belongs to
 * found by whoever reads them (the source's by its transaction, the destination's by the
 * message's source domain and nonce). desk.db's own sync records the legs in
 * bridge_transfers' columns instead: this table stays empty there. */
static const char step_bridge_legs[] =
    "CREATE TABLE bridge_legs ("
    "  event_id INTEGER PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,"
    "  chain_id INTEGER NOT NULL,"
    "  block_number INTEGER NOT NULL,"
    "  leg TEXT NOT NULL CHECK (leg IN ('sent', 'received')),"
    "  tx_hash TEXT NOT NULL,"
    "  src_domain INTEGER NOT NULL,"
    "  nonce INTEGER NOT NULL,"
    "  message BLOB"
    ");"
    "CREATE INDEX bridge_legs_by_tx ON bridge_legs (chain_id, tx_hash);"
    "CREATE INDEX bridge_legs_by_nonce ON bridge_legs (chain_id, src_domain, nonce);";

/* the chain of each inflow a desk with its book on a server marked screened (the server's
 * inflow's): a pass reads only the server's inflows after the last one marked on each chain
 * (store_lists.c). Marks from before name none (their inflows are read and dropped as
 * before, until a later inflow of their chain is marked). */
static const char step_inflows_screened_chain[] =
    "ALTER TABLE inflows_screened ADD COLUMN chain_id INTEGER;"
    "CREATE INDEX inflows_screened_chain ON inflows_screened (chain_id, book_id);";

/* The inflow marks of a desk whose book is on a server name the server's database they were
 * made on (its identity as the book's reader names it for the feed copy, api_feed_follow's:
 * cluster system identifier / database oid / name), as a mark's id is that database's: a
 * pass uses only the current database's marks and cursors (store_lists.c), so book.conf
 * switched to another database (another server, the server rebuilt) neither skips that
 * database's inflows below the old cursors nor counts as screened its inflows that share an
 * id with a marked one. The table is rebuilt (its key becomes (book, book_id): two
 * databases' marks of one id both kept). The marks from before name no database (book ''):
 * desk.db cannot tell which one they were made on (book.conf may have been switched since,
 * and the upgrade runs before any book is attached), so they are of an unknown database,
 * used by no pass: their inflows are read and screened once more (a screening repeated
 * rather than one skipped: a compliance hole); they are kept, as evidence, never deleted. */
static const char step_inflows_screened_book[] =
    "CREATE TABLE inflows_screened_new ("
    "  book TEXT NOT NULL,"
    "  book_id INTEGER NOT NULL,"
    "  screened_at INTEGER NOT NULL,"
    "  chain_id INTEGER,"
    "  PRIMARY KEY (book, book_id)"
    ") WITHOUT ROWID;"
    "INSERT INTO inflows_screened_new (book, book_id, screened_at, chain_id)"
    "  SELECT '', book_id, screened_at, chain_id FROM inflows_screened;"
    "DROP TABLE inflows_screened;"
    "ALTER TABLE inflows_screened_new RENAME TO inflows_screened;"
    "CREATE INDEX inflows_screened_chain ON inflows_screened (book, chain_id, book_id);";

/* The repayments a desk whose book is on a server recognises from the server's inflows
 * (src/credit/service.c, store_credit.c): a ledger row names the server's inflow by the
 * database it is of (its identity as the book's reader names it: cluster system
 * identifier / database oid / name, as inflows_screened's marks do), its id there and its
 * chain, since the ids of two databases collide; the unique index posts one inflow of one
 * database once. inflow_id (desk.db's inflows) stays NULL on such a row. */
static const char step_credit_book_inflow[] =
    "ALTER TABLE credit_ledger ADD COLUMN inflow_book TEXT;"
    "ALTER TABLE credit_ledger ADD COLUMN inflow_book_id INTEGER;"
    "ALTER TABLE credit_ledger ADD COLUMN inflow_chain INTEGER;"
    "CREATE UNIQUE INDEX credit_ledger_by_book_inflow ON credit_ledger"
    "  (inflow_book, inflow_book_id) WHERE inflow_book_id IS NOT NULL;";

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
    step_endpoint_stats,
    step_events_blob,
    step_chain_explorer,
    step_lists,
    step_api,
    step_credit,
    step_bridges,
    step_credit_sync,
    step_bridge_ccip,
    step_credit_draws,
    step_api_bridge,
    step_hits_by_case,
    step_case_checks,
    step_write_paths,
    step_escrows_stale,
    step_bridge_dst_from,
    step_inflows_screened,
    step_api_feed_follow,
    step_events_no_json,
    step_bridge_legs,
    step_inflows_screened_chain,
    step_inflows_screened_book,
    step_credit_book_inflow,
};

const int store_schema_audit_head_version = 12;

const int store_schema_n_steps = (int)(sizeof store_schema_steps / sizeof store_schema_steps[0]);
