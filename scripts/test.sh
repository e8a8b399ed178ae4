#!/usr/bin/env bash
# Lint, then the whole test suite on SQLite and again on PostgreSQL.
# With CI=true (or ASSAY_REQUIRE_PG=1 / ASSAY_REQUIRE_BROWSER=1) a missing PostgreSQL server or
# Chromium fails the run; on a workstation without them the affected part is skipped loudly.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
started=$(date +%s)

if [ "${CI:-}" = "true" ]; then
    export ASSAY_REQUIRE_PG=1 ASSAY_REQUIRE_BROWSER=1
fi

echo "== lint: ruff and mypy"
$BIN/ruff check src tests bench
$BIN/ruff format --check src tests bench
$BIN/mypy

echo "== tests on SQLite"
ASSAY_TEST_DB=sqlite $BIN/pytest -n 2 -q "$@"

pg_url="${ASSAY_TEST_PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"
if $BIN/python - "$pg_url" <<'PY'
import sys
import sqlalchemy
try:
    sqlalchemy.create_engine(sys.argv[1]).connect().close()
except Exception as exc:
    print(f"PostgreSQL unreachable: {exc}".splitlines()[0], file=sys.stderr)
    sys.exit(1)
PY
then
    echo "== tests on PostgreSQL"
    ASSAY_TEST_DB=postgresql $BIN/pytest -n 2 -q "$@"
elif [ "${ASSAY_REQUIRE_PG:-}" = "1" ]; then
    echo "PostgreSQL is required (CI) but not reachable at $pg_url" >&2
    exit 1
else
    echo "!! PostgreSQL not reachable at $pg_url: PostgreSQL run SKIPPED (required in CI)" >&2
fi
echo "== make test took $(( $(date +%s) - started ))s"
