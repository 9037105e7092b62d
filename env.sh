# Source this file (". ./env.sh") to use the project's ROS 2 environment from .venv.
# It works for bash and zsh, and is safe to source more than once.
# On a robot with a system ROS 2 install, source /opt/ros/<distro>/setup.bash instead; the
# discovery settings below still apply there.
if [ -n "${BASH_SOURCE:-}" ]; then _tf_root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
else _tf_root=$(cd "$(dirname "$0")" && pwd); fi
_tf_venv="${TALKFACE_VENV:-$_tf_root/.venv}"
if [ -d "$_tf_venv" ]; then
  _tf_site=$("$_tf_venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  _tf_libs="$_tf_venv/lib"
  for _d in "$_tf_site"/ros_*.libs; do [ -d "$_d" ] && _tf_libs="$_tf_libs:$_d"; done
  case ":${LD_LIBRARY_PATH:-}:" in *":$_tf_venv/lib:"*) ;; *) export LD_LIBRARY_PATH="$_tf_libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}";; esac
  case ":${AMENT_PREFIX_PATH:-}:" in *":$_tf_venv:"*) ;; *) export AMENT_PREFIX_PATH="$_tf_venv${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}";; esac
  case ":$PATH:" in *":$_tf_venv/bin:"*) ;; *) export PATH="$_tf_venv/bin:$PATH";; esac
  export VIRTUAL_ENV="$_tf_venv"
  # ros_wheels_bootstrapper re-execs python to set LD_LIBRARY_PATH; we did it already.
  export _ROS_WHEELS_BOOTSTRAP_COMPLETE=1
fi
export RMW_IMPLEMENTATION="${RMW_IMPLEMENTATION:-rmw_fastrtps_cpp}"
# Discovery never leaves this machine (Kilted ignores ROS_LOCALHOST_ONLY).
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
export ROS_DOMAIN_ID="${ROS_DOMAIN_ID:-42}"
export ROS_LOG_DIR="${ROS_LOG_DIR:-$_tf_root/.ros/log}"
mkdir -p "$ROS_LOG_DIR"
unset _tf_root _tf_venv _tf_site _tf_libs _d
