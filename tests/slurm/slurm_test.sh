#!/usr/bin/env bash
# A sweep as a SLURM array job on a real single-node cluster started here (tests/slurm/cluster.sh):
# wsenergy slurm --tasks 4, sbatch --wait, then status, merge and fit on the shards; then a task
# cancelled mid-run and the job resubmitted: nothing run twice, nothing lost.
#
# Usage: slurm_test.sh WSENERGY   (exit 77: skipped, with the reason on stdout)
set -euo pipefail
ws=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/wsenergy-slurm-test.XXXXXX)
. "$here/cluster.sh"
cleanup() {
  scancel --quiet --user=root 2>/dev/null || true
  slurm_stop
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
  echo "FAIL: $*" >&2
  for f in "$work"/cluster/log/*.log; do echo "--- $f" >&2; tail -n 20 "$f" >&2; done
  exit 1
}
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  "$@" || fail "$what"
  echo "ok: $what"
}

if ! slurm_start "$work/cluster"; then
  case $SLURM_SKIP in
    "not root"* | *"not installed"*) echo "SKIP: $SLURM_SKIP"; exit 77 ;;
    *) fail "$SLURM_SKIP" ;;
  esac
fi
echo "cluster up: $(sinfo -h -N -o '%N %T %c CPUs')"
cd "$work"

# 12 small configurations of the built-in trainer.
{
  echo "run_id,widths,inputs,outputs,train_examples,eval_examples,batch,epochs"
  n=0
  for widths in "16 2" "16 16 2" "32 16 2" "32 32 2" "64 2" "64 32 2"; do
    for batch in 32 64; do
      n=$((n + 1))
      echo "c$n,$widths,8,2,256,64,$batch,2"
    done
  done
} >plan.csv

# 1. The whole array with sbatch --wait.
check "wsenergy slurm writes the script" "$ws" slurm --plan plan.csv --out out --tasks 4 \
  --meter none --exclusive --time 00:10:00
check "the script asks for whole nodes" grep -qx '#SBATCH --exclusive' out/sweep.sbatch
check "sbatch --wait runs the array" sbatch --wait --quiet out/sweep.sbatch
check "4 shard files" test "$(ls out/runs.*.csv | wc -l)" -eq 4
"$ws" status --plan plan.csv out | tee status.txt
check "status: 12 done" grep -q "all: 12 done, 0 failed, 0 missing" status.txt
check "status: per shard" grep -q "shard 4/4: 3 runs, 3 done" status.txt
"$ws" status --json --plan plan.csv out >status.json
check "status --json: 12 done" grep -q '"done": 12' status.json
check "merge" "$ws" merge merged.csv out
check "merged: 12 rows" test "$(($(wc -l <merged.csv) - 1))" -eq 12
check "rows record the job, array task and node" \
  awk -F, -v node="$(hostname -s)" '
    NR == 1 { for (i = 1; i <= NF; ++i) col[$i] = i; if (!col["job_id"] || !col["node"]) bad = 1; next }
    $col["job_id"] == "" || $col["array_task_id"] == "" || $col["node"] != node { bad = 1 }
    END { exit bad }' merged.csv
# No meter here, so no run has an energy: fit must read all 12 rows and say so (not a parse error).
for input in merged.csv out; do
  set +e
  "$ws" fit "$input" --hardware host -o model.json 2>fit.err
  status=$?
  set -e
  cat fit.err
  check "fit reads $input: 12 runs without energy" test $status -ne 0 -a \
    "$(grep -c '0 failed, 12 without energy_j' fit.err)" -eq 1
done

# 2. One task cancelled mid-run, then the job resubmitted.
template='echo {run_id} >> started; sleep 1; '"'$ws'"' train --widths "{widths}" --inputs {inputs}'
template+=' --examples {examples} --batch {batch} --epochs {epochs} >/dev/null && echo {run_id} >> finished'
"$ws" slurm --plan plan.csv --out out2 --tasks 4 --meter none --submit -- sh -c "$template" |
  tee submit.txt
job=$(sed -n 's/^submitted job \([0-9][0-9]*\)$/\1/p' submit.txt)
check "wsenergy slurm --submit prints the job id" test -n "$job"
for i in $(seq 600); do  # until task 2 has finished a run and is in its next one
  [ -f out2/runs.2.csv ] && [ "$(wc -l <out2/runs.2.csv)" -ge 2 ] && break
  sleep 0.1
done
check "task 2 finished a run" test "$(wc -l <out2/runs.2.csv)" -ge 2
check "scancel task 2 mid-run" scancel "${job}_2"
for i in $(seq 600); do  # until the job has left the queue
  [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
  sleep 0.2
done
"$ws" status --plan plan.csv out2 | tee status2.txt
check "status after scancel: runs missing" grep -Eq "shard 2/4: 3 runs, [0-2] done" status2.txt
check "resubmitted with sbatch --wait" sbatch --wait --quiet out2/sweep.sbatch
"$ws" status --plan plan.csv out2 | tee status3.txt
check "status after resubmitting: 12 done" grep -q "all: 12 done, 0 failed, 0 missing" status3.txt
check "merge without --prefer: no run recorded twice" "$ws" merge merged2.csv out2
# The cancelled task's sweep got SIGTERM (scancel signals the command too): the run it was in is
# recorded as failed; merge keeps such an attempt beside the run's ok row.
ok_rows=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; ++i) if ($i == "status") s = i; next } $s == "ok"' merged2.csv | wc -l)
other_rows=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; ++i) if ($i == "status") s = i; next } $s != "ok"' merged2.csv | wc -l)
check "merged: 12 ok rows" test "$ok_rows" -eq 12
check "merged: at most the cancelled attempt besides them" test "$other_rows" -le 1
check "every run finished exactly once" test "$(sort finished | uniq -c | awk '$1 == 1' | wc -l)" -eq 12 -a \
  "$(wc -l <finished)" -eq 12
echo "runs started: $(wc -l <started) (the one cancelled mid-run starts again)"
check "at most the cancelled run started twice" test "$(sort started | uniq -d | wc -l)" -le 1
echo "PASS"
