#!/usr/bin/env bash
# Debian packages the project uses: speech synthesis for the corpus (espeak-ng, Festival and its voices, flite), PortAudio for the microphone,
# PulseAudio for the audio tests, ffmpeg/sox for the demo, alsa-utils and ktuberling-data for their recorded
# speech (the real eval set). Installs only what is missing, and only as
# root; otherwise it lists what to install and carries on (tests that need them skip with a reason).
set -euo pipefail
packages=(espeak-ng libespeak-ng1 festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts flite
          festvox-czech-dita festvox-czech-krb festvox-czech-ph festvox-italp16k festvox-itapc16k
          festvox-suopuhe-lj festvox-ru
          libportaudio2 pulseaudio pulseaudio-utils libasound2-plugins alsa-utils ktuberling-data sox ffmpeg
          libosmesa6 libegl1 libgl1)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "talkface_ros: please install these Debian packages: sudo apt-get install ${missing[*]}" >&2
  exit 0
fi
echo "talkface_ros: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
