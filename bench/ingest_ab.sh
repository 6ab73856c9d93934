#!/bin/bash
# Ingest ratio A/B: `bench/perf.py --only ingest` on a base commit and on this tree, alternated
# ROUNDS times (machine load drifts; each run is a median over chunks), into $OUT/ab-{base,new}-N.txt
# with the load average at start and end.
# Usage: bench/ingest_ab.sh BASE_COMMIT [ROUNDS=3] [OUT=/tmp/ingest-ab]
set -euo pipefail
base_commit=$1; rounds=${2:-3}; out=${3:-/tmp/ingest-ab}
here=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python}
data=${DATA:-$here/../shared/data}
mkdir -p "$out/base"
git -C "$here" archive "$base_commit" | tar -x -C "$out/base"
for i in $(seq 1 "$rounds"); do
  for v in base new; do
    if [ $v = base ]; then dir=$out/base; else dir=$here; fi
    f=$out/ab-$v-$i.txt
    echo "start $(date -u +%T) load $(cat /proc/loadavg)" > "$f"
    (cd "$dir" && PYTHONPATH=$dir${PYTHONPATH:+:$PYTHONPATH} "$python" bench/perf.py --data "$data" \
      --only ingest --ingest 3000 --backends sqlite,postgresql --no-write >> "$f" 2>&1)
    echo "end $(date -u +%T) load $(cat /proc/loadavg)" >> "$f"
    grep -E "Ingest >= 90" "$f" | sed "s|^|$v $i: |"
  done
done
