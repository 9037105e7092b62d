#!/usr/bin/env bash
# Debian packages the project uses: speech synthesis for the corpus (espeak-ng, Festival and its voices, flite), PortAudio for the microphone,
# PulseAudio for the audio tests, ffmpeg/sox for the demo, alsa-utils, ktuberling-data and the Asterisk English prompts for their recorded
# speech (the real eval set), OSMesa/EGL for offscreen rendering. Installs only what is missing, and only as root; otherwise it
# lists what to install and carries on (tests that need them skip with a reason).
# --world-prompts: also the Asterisk prompts in Spanish, French, Italian and Russian (real speech for
# `talkface data synth --world-prompt-copies`, ~80 MB; keep in step with talkface_ros.data.world_prompts.debian_packages()).
# --speech-corpora: also Tux Paint's spoken stamp descriptions and Fish Fillets' Czech voice acting (the real-tuxpaint and
# real-fillets eval sets, ~270 MB download, ~340 MB installed; keep in step with talkface_ros.data.tuxpaint/fillets.DEBIAN_PACKAGES).
# The flags combine.
set -euo pipefail
world_prompt_packages=(asterisk-core-sounds-es asterisk-core-sounds-es-wav asterisk-core-sounds-fr asterisk-core-sounds-fr-wav
                       asterisk-core-sounds-it asterisk-core-sounds-it-wav asterisk-core-sounds-ru asterisk-core-sounds-ru-wav)
speech_corpus_packages=(tuxpaint-stamps-default fillets-ng-data fillets-ng-data-cs)
packages=(espeak-ng libespeak-ng1 festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts flite
          festvox-czech-dita festvox-czech-krb festvox-czech-ph festvox-italp16k festvox-itapc16k
          festvox-suopuhe-lj festvox-ru
          libportaudio2 pulseaudio pulseaudio-utils libasound2-plugins alsa-utils ktuberling-data sox ffmpeg
          asterisk-core-sounds-en-wav asterisk-core-sounds-en
          libosmesa6 libegl1 libgl1)
for flag in "$@"; do
  case "$flag" in
    --world-prompts) packages+=("${world_prompt_packages[@]}") ;;
    --speech-corpora) packages+=("${speech_corpus_packages[@]}") ;;
    *) echo "usage: $0 [--world-prompts] [--speech-corpora]" >&2; exit 2 ;;
  esac
done
not_installed() {  # prints those of its arguments that dpkg does not have installed
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}
mapfile -t missing < <(not_installed "${packages[@]}")
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "talkface_ros: please install these Debian packages: sudo apt-get install ${missing[*]}" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -gt 0 ]; then
  echo "talkface_ros: installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
