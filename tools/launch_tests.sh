#!/usr/bin/env bash
# Every launch file of the package run for real: the launch stack installed (tools/install_ros_launch.sh), the
# package built with colcon into build/launch_ws, then each test/launch/*.launch_test.py with launch_test
# (launch_testing) and the `ros2 launch` CLI checks with pytest. On loopback, in a ROS domain of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
code=0
bash tools/install_ros_launch.sh || code=$?
if [ "$code" -eq 3 ]; then
  echo "SKIPPED: the launch tests need the launch stack (see tools/install_ros_launch.sh)"
  exit 0
elif [ "$code" -ne 0 ]; then
  exit "$code"
fi
source ./env.sh
export ROS_DOMAIN_ID="${TALKFACE_TEST_DOMAIN_ID:-$((100 + $$ % 100))}"
ws=build/launch_ws
set +u
source "$ws/install/local_setup.bash"
set -u
echo "== colcon build talkface_ros into $ws"
colcon --log-base "$ws/log" build --base-paths . --build-base "$ws/build" --install-base "$ws/install" \
  --symlink-install --packages-select talkface_ros >"$ws/talkface_build.log" 2>&1 || { tail -n 30 "$ws/talkface_build.log"; exit 1; }
set +u
source "$ws/install/local_setup.bash"
set -u
failed=()
for test in test/launch/*.launch_test.py; do
  echo "== launch_test $test"
  SECONDS=0
  if launch_test "$test"; then echo "== $test: passed (${SECONDS}s)"; else echo "== $test: FAILED (${SECONDS}s)"; failed+=("$test"); fi
done
echo "== ros2 launch as a user runs it"
TALKFACE_LAUNCH_TESTS=1 python -m pytest -q -rs -p no:cacheprovider test/launch/test_ros2_launch_cli.py test/test_graph_static.py || failed+=("test/launch (pytest)")
if [ ${#failed[@]} -gt 0 ]; then echo "launch tests FAILED: ${failed[*]}"; exit 1; fi
echo "every launch test passed"
