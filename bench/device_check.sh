#!/usr/bin/env bash
# The device checks of issues #4–#6 in one short run, for a session lent a GPU machine.
#
# What it runs (every ratio is against the simulator measured in the same run, on that
# machine's CPU, where the simulator runs), each step under its own time limit:
#   1. the device tests: tests/surrogate/test_twin_device.py (its CUDA comparison runs only
#      where CUDA is) and the surrogate backend's device test;
#   2. bench/surrogate --device $DEVICE (eager; COMPILE=1 adds the compiled rows): #4's
#      UE-super-steps/s at 64 and 256 scenes and the per-scene ratio;
#   3. bench/envs --device $DEVICE on hex7-uma and hex19-uma: #5's env-steps/s and ratios;
#   4. with AGENTS=1, bench/agents --update-ceiling --modes single-agent (SB3's PPO update
#      alone on that machine's CPU: the fps no env speed can exceed), then bench/agents
#      --modes single-agent --twin-device $DEVICE: #6's fps.
# Files land in $OUT (the device tool brings them back): device.txt, surrogate.json,
# envs.json, ceiling.json, agents.json and check.log (everything printed, the tests' output
# included).
#
# The device machine has torch and torch-geometric but not the RL packages. Before the
# call, here, in the repository root (pure-Python wheels, the versions this project tests):
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#     --implementation cp --platform manylinux2014_x86_64 -d .whl gymnasium==1.4.0 \
#     farama-notifications pettingzoo==1.27.0 stable-baselines3==2.9.2 scoringrules==0.10.0
# then call the device tool with command "bash bench/device_check.sh", carry [".whl"] and
# timeout_s 560 (AGENTS=1 needs about five minutes more: run it in a second call).
#
# Here, on the CPU: DEVICE=cpu QUICK=1 bash bench/device_check.sh (what its slow test runs;
# QUICK shortens every bench to a smoke run whose figures mean nothing).
set -uo pipefail
DEVICE=${DEVICE:-cuda}
OUT=${OUT:-$(mktemp -d)}
QUICK=${QUICK:-0}
mkdir -p "$OUT"
exec > >(tee "$OUT/check.log") 2>&1

if [ -d .whl ]; then  # the carried wheels (see above)
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi
if ! python3 -c "import rantwin" 2>/dev/null; then  # not installed: the checkout is the package
    mkdir -p /tmp/rantwin_pkg && ln -sfn "$PWD" /tmp/rantwin_pkg/rantwin
    export PYTHONPATH="/tmp/rantwin_pkg${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONUNBUFFERED=1

python3 - <<'PY' | tee "$OUT/device.txt"
import os, platform, torch
print("python", platform.python_version(), "| torch", torch.__version__, "| cpus", os.cpu_count())
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    print("cuda", torch.version.cuda, "|", p.name, f"| {p.total_memory / 2**30:.0f} GiB")
else:
    print("no CUDA device")
PY

status=0
step() {  # step NAME SECONDS COMMAND...: run with a time limit, note a failure, go on
    local name=$1 limit=$2
    shift 2
    echo "== $name (at most ${limit} s): $*"
    local t0=$SECONDS
    timeout "$limit" "$@"
    local rc=$?
    echo "== $name: exit $rc after $((SECONDS - t0)) s"
    [ $rc -eq 0 ] || status=1
}

if [ "$QUICK" = 1 ]; then
    sur=(--repeats 1 --no-compile)
    envs=(--steps 1 --scenario hex7-uma)
else
    sur=(--repeats 5)
    [ "${COMPILE:-0}" = 1 ] || sur+=(--no-compile)
    envs=(--steps 3 --scenario hex7-uma --scenario hex19-uma)
fi

step tests 150 python3 -m pytest -q -rs -p no:cacheprovider \
    tests/surrogate/test_twin_device.py tests/envs/test_surrogate_backend.py -k "device"
step surrogate 200 sh -c "python3 -m rantwin.bench.surrogate --checkpoint surrogate/default_twin \
    --device $DEVICE ${sur[*]} > $OUT/surrogate.json"
step envs 300 python3 -m rantwin.bench.envs --device "$DEVICE" "${envs[@]}" \
    --json "$OUT/envs.json"
if [ "${AGENTS:-0}" = 1 ]; then
    step ceiling 60 python3 -m rantwin.bench.agents --update-ceiling --modes single-agent \
        --threads 8 --json "$OUT/ceiling.json"
    step agents 480 python3 -m rantwin.bench.agents --modes single-agent \
        --twin-device "$DEVICE" --threads 8 --no-progress --json "$OUT/agents.json"
fi
echo "device check: $([ $status -eq 0 ] && echo all steps passed || echo a step failed)"
exit $status
