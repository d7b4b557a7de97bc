#!/usr/bin/env bash
# GPU check of the 3D (longitudinal-mri) training: bf16 mixed precision, host-device syncs, speed.
#
#   benchmarks/gpu_check.sh prepare   here (with network): wheels the GPU image lacks, the simulated
#                                     cohorts, and two snapshots of src/ (HEAD and HEAD + the working
#                                     tree's training files) under benchmarks/out/gpu_check (ignored)
#   benchmarks/gpu_check.sh run       on the GPU machine (no network), results under $OUT; carry
#                                     benchmarks/out/gpu_check. Stops its steps by an overall deadline
#                                     (GPU_CHECK_BUDGET seconds, default 370) so partial results come back.
#
# Steps of `run`: nvidia-smi and versions; benchmarks/gpu_sync_check.py on both snapshots (syncs per
# training step, layer dtypes); `alignome run recipes/longitudinal-mri.yaml --preset quick` and
# `alignome run benchmarks/gpu_check_mri.yaml` (96^3, 10 epochs) with the fixed snapshot, then the
# latter with HEAD. The CPU baseline is the same two commands run here; `--preset fp32` of
# benchmarks/gpu_check_mri.yaml is the 32-bit GPU comparison. Results: benchmarks/results/gpu_check.md.
set -u
G=benchmarks/out/gpu_check
mode=${1:-run}

if [ "$mode" = prepare ]; then
  set -e
  mkdir -p $G/whl
  py=${PYTHON:-.venv/bin/python}
  # what `alignome run` imports and the GPU image (python 3.12, torch, lightning, pandas …) lacks
  $py -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d $G/whl \
    annotated-types==0.8.0 colorlog==6.12.0 demes==0.2.3 jsonschema==4.26.0 jsonschema-specifications==2025.9.1 \
    referencing==0.37.0 rpds-py==2026.9.1 msprime==1.4.4 tskit==1.0.3 newick==1.11.0 nibabel==5.4.2 optuna==5.0.0 \
    pydantic==2.14.4 pydantic_core==2.50.5 pynndescent==0.7.0 ruamel.yaml==0.19.1 typing-inspection==0.4.5 \
    umap-learn==0.5.12 typer==0.28.0 typing_extensions==4.16.0 monai==1.6.1
  # simulated cohorts (the GPU image has no nilearn template): what `alignome run` would simulate
  for spec in "quick 24 [2,3]" "mid 64 [2,4]"; do
    set -- $spec
    if [ ! -f $G/data_$1/simulate.json ]; then
      $py -c "
import json, sys; from pathlib import Path
from alignome.simulate.mri3d import simulate_mri3d
params = {'seed': 0, 'subjects': $2, 'visits': $3, 'voxel_mm': 4.0}
simulate_mri3d(Path('$G/data_$1'), **params)
Path('$G/data_$1/simulate.json').write_text(json.dumps(params))"
    fi
  done
  # code snapshots: HEAD, and HEAD with the working tree's training files (other work in progress stays out)
  rm -rf $G/head $G/fixed && mkdir -p $G/head $G/fixed
  git archive HEAD src | tar -x -C $G/head
  git archive HEAD src | tar -x -C $G/fixed
  for f in src/alignome/objectives/contrastive.py src/alignome/imaging/augment.py \
           src/alignome/training/lightning_runs.py src/alignome/training/contrastive3d.py \
           src/alignome/training/supervised3d.py; do cp $f $G/fixed/$f; done
  du -sh $G
  exit 0
fi

OUT=${OUT:-/tmp/gpu_check_out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 ALIGNOME_CACHE_DIR=/tmp/alignome-cache MPLBACKEND=Agg
budget=${GPU_CHECK_BUDGET:-370}
start=$SECONDS
W=/tmp/gpu_check_runs
mkdir -p $W
step() {  # step NAME MAX_SECONDS LOG CMD...: run CMD with a timeout inside the overall deadline
  local name=$1 max=$2 log=$3; shift 3
  local left=$((budget - (SECONDS - start)))
  [ $left -lt $max ] && max=$left
  if [ $max -lt 15 ]; then echo "$name: skipped (deadline)" >> "$OUT/steps.txt"; return; fi
  local t0=$SECONDS
  timeout $max "$@" >> "$log" 2>&1
  echo "$name: rc=$? wall_s=$((SECONDS - t0)) limit_s=$max" >> "$OUT/steps.txt"
}
keep() {  # keep RUN_DIR TAG: metrics and curves of a CLI run into results.tar
  for f in metrics.json training_curves.csv run.log; do
    [ -f $W/$1/$f ] && cp $W/$1/$f $W/$2.$f
  done
  (cd $W && tar -rf "$OUT/results.tar" $(ls $2.* 2>/dev/null)) 2>/dev/null
}

{
  nvidia-smi
  python3 -c "import torch, lightning; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'lightning', lightning.__version__, torch.cuda.get_device_name(0), 'bf16', torch.cuda.is_bf16_supported())"
  python3 -m pip list 2>/dev/null | grep -iE '^(torch|lightning|pytorch-lightning|numpy|pandas|scipy|scikit-learn|rich|pyarrow|matplotlib|numba) '
} > "$OUT/env.txt" 2>&1
step pip_install 60 "$OUT/env.txt" python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site $G/whl/*.whl

for tree in fixed head; do
  step sync_check_$tree 90 "$OUT/sync_$tree.json" env PYTHONPATH=$G/$tree/src:/tmp/site python3 benchmarks/gpu_sync_check.py --epochs 3 --out $W/sync_$tree
done

mkdir -p $W/quick_fixed $W/mid_fixed $W/mid_head
cp -r $G/data_quick $W/quick_fixed/data
cp -r $G/data_mid $W/mid_fixed/data
cp -r $G/data_mid $W/mid_head/data
step cli_quick_fixed 100 "$OUT/quick_fixed.log" env PYTHONPATH=$G/fixed/src:/tmp/site python3 -m alignome.cli run recipes/longitudinal-mri.yaml --preset quick --out $W/quick_fixed
keep quick_fixed quick_fixed
step cli_mid_fixed 150 "$OUT/mid_fixed.log" env PYTHONPATH=$G/fixed/src:/tmp/site python3 -m alignome.cli run benchmarks/gpu_check_mri.yaml --out $W/mid_fixed
keep mid_fixed mid_fixed
step cli_mid_head 120 "$OUT/mid_head.log" env PYTHONPATH=$G/head/src:/tmp/site python3 -m alignome.cli run benchmarks/gpu_check_mri.yaml --out $W/mid_head
keep mid_head mid_head
echo "total_s=$((SECONDS - start))" >> "$OUT/steps.txt"
