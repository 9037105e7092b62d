#!/usr/bin/env bash
# Debian packages the project uses: speech synthesis for the corpus (espeak-ng, Festival and its voices, flite), PortAudio for the microphone,
# PulseAudio for the audio tests, ffmpeg/sox for the demo, alsa-utils, ktuberling-data and the Asterisk English prompts for their recorded
# speech (the real eval set), and MBROLA's real-speaker voices from Debian's non-free section (training
# speech only; see talkface_ros/data/mbrola.py). Installs only what is missing, and only as root; otherwise it
# lists what to install and carries on (tests that need them skip with a reason).
# --world-prompts: also the Asterisk prompts in Spanish, French, Italian and Russian (real speech for
# `talkface data synth --world-prompt-copies`, ~80 MB; keep in step with talkface_ros.data.world_prompts.debian_packages()).
set -euo pipefail
world_prompt_packages=(asterisk-core-sounds-es asterisk-core-sounds-es-wav asterisk-core-sounds-fr asterisk-core-sounds-fr-wav
                       asterisk-core-sounds-it asterisk-core-sounds-it-wav asterisk-core-sounds-ru asterisk-core-sounds-ru-wav)
packages=(espeak-ng libespeak-ng1 festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts flite
          festvox-czech-dita festvox-czech-krb festvox-czech-ph festvox-italp16k festvox-itapc16k
          festvox-suopuhe-lj festvox-ru
          libportaudio2 pulseaudio pulseaudio-utils libasound2-plugins alsa-utils ktuberling-data sox ffmpeg
          asterisk-core-sounds-en-wav asterisk-core-sounds-en
          libosmesa6 libegl1 libgl1)
if [ "${1:-}" = "--world-prompts" ]; then packages+=("${world_prompt_packages[@]}"); fi
# keep in step with talkface_ros.data.mbrola.debian_packages() (a test checks)
mbrola_packages=(mbrola mbrola-us1 mbrola-us2 mbrola-us3 mbrola-en1 mbrola-de1 mbrola-de2 mbrola-de4 mbrola-de5 mbrola-de6 mbrola-de7 mbrola-fr1 mbrola-fr2 mbrola-fr4 mbrola-fr6 mbrola-es1 mbrola-es2 mbrola-it3 mbrola-br1 mbrola-br3 mbrola-br4 mbrola-pt1 mbrola-nl2 mbrola-nl3 mbrola-sw1 mbrola-sw2 mbrola-pl1 mbrola-cz2 mbrola-hu1 mbrola-tr1 mbrola-tr2 mbrola-gr2 mbrola-ro1 mbrola-id1 mbrola-in1 mbrola-ir1)
not_installed() {  # prints those of its arguments that dpkg does not have installed
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}
mapfile -t missing < <(not_installed "${packages[@]}")
mapfile -t missing_mbrola < <(not_installed "${mbrola_packages[@]}")
[ ${#missing[@]} -eq 0 ] && [ ${#missing_mbrola[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "talkface_ros: please install these Debian packages: sudo apt-get install ${missing[*]} ${missing_mbrola[*]}" >&2
  [ ${#missing_mbrola[@]} -eq 0 ] || echo "talkface_ros: (the mbrola ones are in Debian's non-free section; optional: the corpus leaves out voices that are not installed)" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -gt 0 ]; then
  echo "talkface_ros: installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ${#missing_mbrola[@]} -gt 0 ]; then
  # From a package list of this script's own, so the machine's apt sources stay as they are.
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  lists=$(mktemp -d)
  chmod 755 "$lists"  # apt downloads as its _apt user
  trap 'rm -rf "$lists"' EXIT
  mkdir -p "$lists/state/partial"
  echo "deb http://deb.debian.org/debian $codename main non-free" > "$lists/sources.list"
  apt_own=(-o "Dir::Etc::sourcelist=$lists/sources.list" -o "Dir::Etc::sourceparts=-" -o "Dir::State::Lists=$lists/state")
  echo "talkface_ros: installing ${#missing_mbrola[@]} mbrola packages (Debian non-free)"
  if ! { apt-get "${apt_own[@]}" update -qq && apt-get "${apt_own[@]}" install -y -qq --no-install-recommends "${missing_mbrola[@]}" >/dev/null; }; then
    echo "talkface_ros: could not install the mbrola voices; corpora will be made without them" >&2
  fi
fi
