#!/usr/bin/env bash
# Checks the working-set calculator against a cache simulator (docs/cachegrind.md).
#
# Builds scripts/cachegrind_train.cpp (the built-in trainer) with -O2 -mavx2 -mfma (valgrind 3.19
# cannot run AVX-512 code), runs it under cachegrind with its simulated caches set to this
# machine's L1d and a last level (the L2 by default; the L3 with LL=l3), once with 1 epoch and
# once with 2, and takes the difference: the misses of one steady-state epoch, without start-up.
# For each width it prints where `wsenergy working-sets` places the sets on the same simulated
# hierarchy beside the measured D1 and LL miss rates, as a markdown table.
#
# Usage: scripts/cachegrind_check.sh [WSENERGY_BINARY]
# Environment: WIDTHS ("16 32 ..."), BATCH (32), TRAIN (128), EVAL (32), INPUTS (32),
#   OUTPUTS (10), LL (l2 | l3), CXX (g++), WORK (a scratch folder).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
wsenergy=${1:-$root/build/tools/wsenergy}
widths=${WIDTHS:-"16 32 48 64 96 128 192 256 384 512 768"}
batch=${BATCH:-32}
train=${TRAIN:-128}
eval_examples=${EVAL:-32}
inputs=${INPUTS:-32}
outputs=${OUTPUTS:-10}
ll_choice=${LL:-l2}
cxx=${CXX:-g++}
work=${WORK:-$(mktemp -d)}

command -v valgrind >/dev/null || { echo "cachegrind_check: valgrind is not installed" >&2; exit 1; }
[[ -x $wsenergy ]] || { echo "cachegrind_check: $wsenergy is not the wsenergy tool (build it, or pass its path)" >&2; exit 1; }

# The checked program, built for AVX2 so that valgrind can run it.
probe=$work/cachegrind_train
"$cxx" -std=c++20 -O2 -mavx2 -mfma -DNDEBUG -I"$root/include" -isystem /usr/include/eigen3 \
  "$root/scripts/cachegrind_train.cpp" -o "$probe" -lfmt

# Cache geometry from sysfs: size, ways and line of the first cache of a level and type.
cache_dir() {  # LEVEL TYPE...
  local level=$1; shift
  for d in /sys/devices/system/cpu/cpu0/cache/index*; do
    [[ $(cat "$d/level") == "$level" ]] || continue
    for t in "$@"; do [[ $(cat "$d/type") == "$t" ]] && { echo "$d"; return; }; done
  done
  echo "cachegrind_check: no level-$level cache in sysfs" >&2; exit 1
}
bytes_of() { local s; s=$(cat "$1/size"); case $s in *K) echo $((${s%K} * 1024));; *M) echo $((${s%M} * 1048576));; *) echo "$s";; esac; }
# cachegrind needs a power-of-two number of sets: keep ways and line, round the sets to the
# nearest power of two, and say so.
geometry() {  # DIR -> "size,ways,line" (simulated)
  local d=$1 size ways line sets p lower upper
  size=$(bytes_of "$d"); ways=$(cat "$d/ways_of_associativity"); line=$(cat "$d/coherency_line_size")
  sets=$((size / (ways * line)))
  p=1; while ((p * 2 <= sets)); do p=$((p * 2)); done
  lower=$p; upper=$((p * 2))
  if ((sets == lower)); then p=$lower
  elif ((sets - lower <= upper - sets)); then p=$lower; else p=$upper; fi
  if ((p != sets)); then
    echo "note: $(basename "$d") has $sets sets of $ways x $line B ($size B); cachegrind needs a power of two, simulating $p sets ($((p * ways * line)) B)" >&2
  fi
  echo "$((p * ways * line)),$ways,$line"
}

d1=$(geometry "$(cache_dir 1 Data)")
case $ll_choice in
  l2) ll=$(geometry "$(cache_dir 2 Unified Data)") ;;
  l3) ll=$(geometry "$(cache_dir 3 Unified)") ;;
  *) echo "cachegrind_check: LL must be l2 or l3, got '$ll_choice'" >&2; exit 1 ;;
esac
d1_bytes=${d1%%,*}
ll_bytes=${ll%%,*}
memory_bytes=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) * 1024))

# The same two-level hierarchy for the calculator; one unit each (the trainer is single-threaded).
hierarchy=$work/simulated.json
cat >"$hierarchy" <<EOF
{"name": "cachegrind-$ll_choice",
 "levels": [{"name": "D1", "size_bytes": $d1_bytes, "units": 1},
            {"name": "LL", "size_bytes": $ll_bytes, "units": 1},
            {"name": "DRAM", "size_bytes": $memory_bytes, "units": 1}]}
EOF

# Data references, D1 misses and LL data misses of one run.
simulate() {  # WIDTHS EPOCHS -> "refs d1 lld"
  valgrind --tool=cachegrind --cache-sim=yes --D1="$d1" --LL="$ll" \
    --cachegrind-out-file=/dev/null "$probe" "$inputs" "$1" "$train" "$eval_examples" "$batch" "$2" \
    2>&1 >/dev/null |
    awk '/ D +refs:/ {gsub(",", "", $4); r=$4} / D1 +misses:/ {gsub(",", "", $4); m=$4}
         / LLd misses:/ {gsub(",", "", $4); l=$4} END {print r, m, l}'
}

observations=$((train + eval_examples))
echo "D1 = $d1 (size,ways,line), LL = $ll; batch $batch, $train training + $eval_examples evaluation examples per epoch, $inputs inputs, $outputs outputs"
echo
echo "| width | parameters | l | f | b | d | D1 miss % | LLd miss % | LLd misses / step |"
echo "|---:|---:|---|---|---|---|---:|---:|---:|"
steps=$(((train + batch - 1) / batch + (eval_examples + batch - 1) / batch))
for w in $widths; do
  net="$w $w $outputs"
  size=$(((inputs + 1) * w + (w + 1) * w + (w + 1) * outputs))
  levels=$("$wsenergy" working-sets --hardware "$hierarchy" --shape rectangle --size "$size" \
    --depth 3 --inputs "$inputs" --outputs "$outputs" --observations "$observations" \
    --batch "$batch" |
    awk '$1 == "inter_layer" {l=$2} $1 == "forward" {f=$2} $1 == "backward" {b=$2}
         $1 == "dataset" {d=$2} END {print l, f, b, d}')
  read -r r1 m1 l1 <<<"$(simulate "$net" 1)"
  read -r r2 m2 l2 <<<"$(simulate "$net" 2)"
  read -r lset fset bset dset <<<"$levels"
  awk -v w="$w" -v p="$size" -v l="$lset" -v f="$fset" -v b="$bset" -v d="$dset" \
    -v r=$((r2 - r1)) -v m=$((m2 - m1)) -v x=$((l2 - l1)) -v s="$steps" \
    'BEGIN {printf "| %d | %d | %s | %s | %s | %s | %.2f | %.3f | %.0f |\n", w, p, l, f, b, d,
            100 * m / r, 100 * x / r, x / s}'
done
