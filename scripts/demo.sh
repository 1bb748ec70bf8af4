#!/usr/bin/env bash
# The main job end to end on a fresh machine: set up, build, generate a month
# of session logs, run the ETL, train the forest and print its metrics, then
# forecast the next two days of the whole fleet: which servers can be packed
# together and which will run hot.
#   scripts/demo.sh [SIZE=200M]
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-200M}

bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target loadcast
loadcast=build/loadcast

data=data/demo
if [ ! -f "$data/.complete-$size" ]; then
  rm -rf "$data"
  "$loadcast" generate --out "$data" --size "$size"
  touch "$data/.complete-$size"
fi
# The seed's storageconfig.json, unchanged: dataFile is found next to it.
cat > "$data/storageconfig.json" <<'JSON'
{
  "storageAccount": "demoaccount",
  "storageKey": "",
  "storageContainer": "demo",
  "dataFile": "20[0,1][0-9]/[0,1][0-9]/[a,b]/[0-6]/request.csv",
  "duration": "ONE_MONTH"
}
JSON
"$loadcast" etl "$data/storageconfig.json"
"$loadcast" train "$data/storageconfig.json"
echo
"$loadcast" forecast --model outputs/demo/model --stores outputs/demo \
  --out outputs/demo/forecast.csv
echo
echo "model bundle: outputs/demo/model  (metrics: outputs/demo/model/metrics.json)"
echo "the fleet's next 48 hours, server by server: outputs/demo/forecast.csv"
echo
echo "the dashboard of these runs (runs, metrics, the fleet's forecast) in a browser:"
echo "  build/loadcast ui --model outputs/demo/model --stores outputs/demo   # then open http://127.0.0.1:8090/"
