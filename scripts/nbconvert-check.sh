#!/usr/bin/env bash
# Runs one notebook through the real Jupyter path: Jupyter's nbconvert starts the registered tslab
# kernel, which executes every cell; fails if a cell fails or leaves an error output.
# This is what `npm run reproduce` does without Jupyter; CI runs both so the two paths stay equal.
#
#   scripts/nbconvert-check.sh [notebooks/00-smoke.ipynb]
#
# Needs (Debian/Ubuntu): apt-get install jupyter-nbconvert python3-ipykernel chromium fonts-liberation
# Figures go to a temporary folder (LSO_FIGURES_DIR), so the checkout's figures/ stay as they are.
# SKIP_BUILD=1 skips `npm run build` (use dist/ as it is).
set -euo pipefail
cd "$(dirname "$0")/.."
nb="${1:-notebooks/00-smoke.ipynb}"
[[ -f "$nb" ]] || { echo "no such notebook: $nb" >&2; exit 2; }

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then npm run --silent build; fi
node scripts/link-self.cjs
node scripts/kernel.cjs
py="$(node scripts/kernel.cjs --print-python)"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
start=$(date +%s)
LSO_FIGURES_DIR="$out/figures" "$py" -m jupyter nbconvert --to notebook --execute \
  --ExecutePreprocessor.kernel_name=tslab --ExecutePreprocessor.timeout=1800 \
  --output-dir "$out" --output executed "$nb"

# nbconvert stops at a failing cell; also refuse error outputs a cell might carry without failing.
"$py" - "$out/executed.ipynb" <<'EOF'
import json, sys
nb = json.load(open(sys.argv[1]))
code = [c for c in nb["cells"] if c["cell_type"] == "code"]
errors = [(i, o) for i, c in enumerate(code) for o in c.get("outputs", []) if o.get("output_type") == "error"]
for i, o in errors:
    print(f"code cell {i + 1}: {o.get('ename')}: {o.get('evalue')}", file=sys.stderr)
# (tslab sends no execute_input message, so nbconvert leaves execution_count empty: count outputs instead.)
with_output = sum(1 for c in code if c.get("outputs"))
print(f"{len(code)} code cells, {with_output} with output, {len(errors)} error output(s)")
sys.exit(1 if errors else 0)
EOF
echo "nbconvert-check: $nb ok in $(( $(date +%s) - start ))s (figures were written to a temporary folder)"
