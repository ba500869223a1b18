#!/usr/bin/env bash
# The test suite on SQLite, then on PostgreSQL when CI=true (or TEST_POSTGRES=1).
# In CI a missing PostgreSQL is a failure, not a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PG_URL=${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/commissioner}
WORKERS=${TEST_WORKERS:-2}
# Keep bytecode: pytest rewrites the asserts of every test module and of its plugins' packages (schemathesis,
# hypothesis: some 400 modules) at import, in every worker and again in the PostgreSQL run, unless it may cache the
# result beside them (__pycache__, ignored by git); the project's own modules are compiled in every subprocess too.
unset PYTHONDONTWRITEBYTECODE

echo "== tests on SQLite"
env -u DATABASE_URL DATABASE_URL="sqlite:///$(pwd)/var/test-main.sqlite3" \
  $BIN/python -m pytest -n "$WORKERS" -q "$@"

if [ "${CI:-}" = "true" ] || [ "${TEST_POSTGRES:-}" = "1" ]; then
  echo "== tests on PostgreSQL ($PG_URL)"
  if ! $BIN/python - "$PG_URL" <<'PY'
import sys, psycopg
try:
    psycopg.connect(sys.argv[1].rsplit("/", 1)[0] + "/postgres", connect_timeout=5).close()
except Exception as e:
    print(f"PostgreSQL is required in CI and is not reachable: {e}", file=sys.stderr)
    sys.exit(1)
PY
  then exit 1; fi
  DATABASE_URL="$PG_URL" $BIN/python -m pytest -n "$WORKERS" -q "$@"
fi
