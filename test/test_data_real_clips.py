"""Real clips from Debian packages (Tux Paint's stamp descriptions, Fish Fillets' Czech voices): text parsing,
the text-fits-audio filter, the held-out speaker split, and a few clips from the installed packages."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from talkface_ros.data import fillets, tuxpaint
from talkface_ros.data.alignment_cache import cached_json, cached_phones
from talkface_ros.data.clip_fit import FitConfig, ReadAlong, length_misfit, misfit
from talkface_ros.data.phones import Phone
from talkface_ros.data.real_clips import RealClip, clip_order
from talkface_ros.data.speaker_split import held_out_speakers, split_of

ROOT = Path(__file__).resolve().parents[1]

STAMP_TXT = """An albino peahen (a female peafowl, or peacock).
ach.utf8=Winyo ma kala ne oloke.
ca.utf8=Un paó reial albí (una femella).
ca@valencia.utf8=Un paó albí femella.
en_GB.utf8=An albino peahen (a female peafowl, or peacock).
fr.utf8=Une paonne (la femelle du paon) albinos.
hi.utf8=एक मोरनी|
pt_BR.utf8=Uma fêmea de pavão albino.
"""

DIALOGS_LUA = '''
dialogId("let-m-divna", "font_small", "What kind of strange ship is that?")
dialogStr("Co je to za divnou loď?")

-- a comment
dialogId("v-nenifer", "font_big", "It isn’t fair.")
dialogStr(
"Tohle není fér, měl jsem volnou cestu.")

dialogId("pap-kruci", "font_parrot", "Damn!")
dialogStr("Kruci \\"pikru\\"!")

dialogId("c-bez-fontu", "", "No font.")
dialogStr("Bez fontu.")

dialogId("untranslated", "font_big", "Only English.")
'''


# -- Tux Paint text ---------------------------------------------------------------------------------------

def test_a_stamp_description_gives_english_first_and_each_locale_by_its_key():
    texts = tuxpaint.parse_description(STAMP_TXT)
    assert texts["en"] == "An albino peahen (a female peafowl, or peacock)."
    assert texts["fr"] == "Une paonne (la femelle du paon) albinos."
    assert texts["ca"] == "Un paó reial albí (una femella)." and texts["ca@valencia"] == "Un paó albí femella."
    assert texts["pt_BR"] == "Uma fêmea de pavão albino."
    assert "en_GB" in texts and len(texts) == 8


def test_spoken_text_keeps_bracketed_words_and_drops_marks():
    assert tuxpaint.spoken_text("Une paonne (la femelle du paon) albinos.") == "Une paonne la femelle du paon albinos."
    assert tuxpaint.spoken_text("एक मोरनी|") == "एक मोरनी"
    assert tuxpaint.spoken_text(" 12. ") is None and tuxpaint.spoken_text("") is None


@pytest.mark.parametrize("name, expected", [
    ("adelaide-rosella_desc_fr.ogg", ("adelaide-rosella", "fr")),
    ("crow_desc.ogg", ("crow", "en")),
    ("butterfly_desc_pt_BR.wav", ("butterfly", "pt_BR")),
    ("pumpkin_small_desc_es.ogg", ("pumpkin_small", "es")),
    ("crow.ogg", None),  # the stamp's sound effect
    ("0_de.ogg", None),  # a localised sound, not a description
    ("inukshuk-photo_desc_da.ogg.ogg", None),
])
def test_clip_file_names(name, expected):
    assert tuxpaint.parse_clip_name(name) == expected


def test_find_clips_pairs_each_recording_with_its_locale_text(tmp_path):
    birds = tmp_path / "animals" / "birds"
    birds.mkdir(parents=True)
    (birds / "peahen.txt").write_text(STAMP_TXT, encoding="utf-8")
    for name in ("peahen_desc.ogg", "peahen_desc_fr.ogg", "peahen_desc_ru.ogg", "peahen_desc_xx.ogg",
                 "peahen.ogg", "lonely_desc_fr.ogg"):
        (birds / name).write_bytes(b"")
    clips, skipped = tuxpaint.find_clips(tmp_path)
    by_locale = {tuxpaint.locale_of(c): c for c in clips}
    assert set(by_locale) == {"en", "fr"}
    assert by_locale["fr"].text == "Une paonne la femelle du paon albinos." and by_locale["fr"].language == "fr"
    assert by_locale["en"].speaker == "tuxpaint:en" and by_locale["en"].path.name == "peahen_desc.ogg"
    assert by_locale["fr"].id == "tuxpaint-fr-animals_birds_peahen_desc_fr"
    # ru: no ru line in the txt; lonely: no txt at all; xx: no reader listed
    assert skipped == {"no text for its locale": 2, "locale without a listed reader": 1}


# -- Fish Fillets text ------------------------------------------------------------------------------------

def test_dialogs_lua_gives_font_and_czech_line_per_id():
    dialogs = fillets.parse_dialogs(DIALOGS_LUA)
    assert dialogs["let-m-divna"] == ("font_small", "Co je to za divnou loď?")
    assert dialogs["v-nenifer"] == ("font_big", "Tohle není fér, měl jsem volnou cestu.")  # dialogStr over two lines
    assert dialogs["pap-kruci"] == ("font_parrot", 'Kruci "pikru"!')
    assert dialogs["c-bez-fontu"] == ("", "Bez fontu.")
    assert "untranslated" not in dialogs


def test_fillets_find_clips_speakers_and_ambiguous_ids(tmp_path):
    (tmp_path / "script" / "airplane").mkdir(parents=True)
    (tmp_path / "script" / "share").mkdir(parents=True)
    (tmp_path / "script" / "airplane" / "dialogs_cs.lua").write_text(DIALOGS_LUA, encoding="utf-8")
    (tmp_path / "script" / "share" / "bore_dialogs_cs.lua").write_text(
        'dialogId("pap-kruci", "font_parrot", "Damn!")\ndialogStr("Jiný text.")\n', encoding="utf-8")
    sounds = tmp_path / "sound" / "airplane" / "cs"
    sounds.mkdir(parents=True)
    for stem in ("let-m-divna", "v-nenifer", "pap-kruci", "c-bez-fontu", "untranslated"):
        (sounds / f"{stem}.ogg").write_bytes(b"")
    clips, skipped = fillets.find_clips(tmp_path)
    speakers = {c.id: c.speaker for c in clips}
    assert speakers == {"fillets-airplane-let-m-divna": "fillets:small-fish", "fillets-airplane-v-nenifer": "fillets:big-fish",
                        "fillets-airplane-c-bez-fontu": fillets.OTHER_CHARACTERS}
    assert skipped == {"ambiguous text": 1, "no text": 1}
    assert all(c.language == "cs" for c in clips)
    # the other characters are in neither half; the two fish are in different halves
    test, train = fillets.split_clips(clips, "test"), fillets.split_clips(clips, "train")
    assert len(test) == len(train) == 1 and test[0].speaker != train[0].speaker
    assert len(fillets.split_clips(clips, None)) == 3


# -- the fit filter ---------------------------------------------------------------------------------------

def _fit(pace: float, cost: float) -> ReadAlong:
    return ReadAlong([Phone("a", 0.0, 0.5)], pace, cost)


def test_misfit_names_the_reason():
    config = FitConfig(min_pace=0.5, max_pace=2.0, max_cost=14.0)
    assert misfit(_fit(1.0, 12.0), config) is None
    assert misfit(None, config) == "no warp"
    assert misfit(_fit(0.3, 12.0), config) == "text too long for the audio"
    assert misfit(_fit(2.5, 12.0), config) == "text too short for the audio"
    assert misfit(_fit(1.0, 14.5), config) == "audio unlike the text"
    assert length_misfit(0.2, config) == "too short" and length_misfit(20.0, config) == "too long"
    assert length_misfit(3.0, config) is None


def test_the_fit_filter_rejects_a_recording_with_another_text(tmp_path):
    """espeak-ng's +m3 voice stands in for the speaker: its own sentence fits, a much longer one does not."""
    pytest.importorskip("torch")
    from talkface_ros.data.clip_fit import cached_read_along
    from talkface_ros.data.espeak import EspeakError, EspeakVoice
    from talkface_ros.data.synth import _synth

    said = "Un chat noir dort sur le toit."
    try:
        audio = _synth().synth(said, EspeakVoice("fr", "+m3", 170, 40)).audio
    except EspeakError as exc:
        pytest.skip(f"espeak-ng: {exc}")
    right = cached_read_along(audio, said, "fr", tmp_path)
    wrong = cached_read_along(audio, said + " Les enfants jouent dans le jardin pendant que leurs parents préparent le dîner.",
                              "fr", tmp_path)
    assert misfit(right) is None, right
    assert misfit(wrong) is not None, wrong
    assert right.phones[-1].end == pytest.approx(len(audio) / 16000)
    again = cached_read_along(audio, said, "fr", tmp_path)  # from the cache: the same
    assert (again.pace, again.cost, again.phones) == (right.pace, right.cost, right.phones)


def test_cached_json_recomputes_a_damaged_entry(tmp_path):
    path = tmp_path / "x.json"
    assert cached_json(path, lambda: {"a": 1}) == {"a": 1}
    assert cached_json(path, lambda: {"a": 2}) == {"a": 1}  # from disk
    path.write_text("{not json")
    assert cached_json(path, lambda: {"a": 3}) == {"a": 3}
    phones = tmp_path / "p.json"
    phones.write_text('{"valid json": "but not phones"}')
    assert cached_phones(phones, lambda: [Phone("a", 0.0, 1.0)]) == [Phone("a", 0.0, 1.0)]
    assert cached_phones(phones, lambda: None) == [Phone("a", 0.0, 1.0)]


# -- the held-out split -----------------------------------------------------------------------------------

def test_speaker_split_is_deterministic_and_independent_of_order():
    speakers = [f"s{k}" for k in range(14)]
    test = held_out_speakers(speakers, 0.5, "salt")
    assert held_out_speakers(list(reversed(speakers)), 0.5, "salt") == test
    assert len(test) == 7 and test < set(speakers)
    assert held_out_speakers(speakers, 0.5, "another salt") != test  # the salt matters
    assert len(held_out_speakers(["a", "b"], 0.01)) == 1 and len(held_out_speakers(["a", "b"], 0.99)) == 1
    with pytest.raises(ValueError):
        held_out_speakers(["only one"])
    with pytest.raises(ValueError):
        held_out_speakers(speakers, 1.0)


def test_no_speaker_is_in_both_halves():
    clips = [RealClip(f"c{k}", Path(f"/x/{k}.ogg"), "text", "fr", tuxpaint.speaker_name(r.locale))
             for k, r in enumerate(tuxpaint.READERS * 3)]
    test, train = tuxpaint.split_clips(clips, "test"), tuxpaint.split_clips(clips, "train")
    assert test and train and len(test) + len(train) == len(clips)
    assert not {c.speaker for c in test} & {c.speaker for c in train}
    assert {c.speaker for c in test} == tuxpaint.TEST_SPEAKERS
    assert all(split_of(c.speaker, tuxpaint.TEST_SPEAKERS) == "train" for c in train)
    assert fillets.TEST_SPEAKERS < set(fillets.FONT_SPEAKERS.values()) and len(fillets.TEST_SPEAKERS) == 1


def test_clip_order_is_a_fixed_mix():
    ids = [f"tuxpaint-fr-{k}" for k in range(50)]
    order = sorted(ids, key=lambda i: clip_order(RealClip(i, Path("/x"), "t", "fr", "s")))
    assert order != sorted(ids) and order == sorted(ids, key=lambda i: clip_order(RealClip(i, Path("/y"), "u", "ru", "t")))


# -- the install script -----------------------------------------------------------------------------------

def test_the_install_script_lists_the_packages_the_sources_read():
    script = (ROOT / "tools" / "install_system_deps.sh").read_text()
    listed = re.search(r"^speech_corpus_packages=\(([^)]*)\)", script, re.M)
    assert listed is not None and listed.group(1).split() == [*tuxpaint.DEBIAN_PACKAGES, *fillets.DEBIAN_PACKAGES]
    bad = subprocess.run(["bash", str(ROOT / "tools" / "install_system_deps.sh"), "--no-such-flag"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--speech-corpora" in bad.stderr


# -- the installed packages -------------------------------------------------------------------------------

needs_tuxpaint = pytest.mark.skipif(not tuxpaint.installed(), reason="tuxpaint-stamps-default not installed "
                                    "(bash tools/install_system_deps.sh --speech-corpora)")
needs_fillets = pytest.mark.skipif(not fillets.installed(), reason="fillets-ng-data(-cs) not installed "
                                   "(bash tools/install_system_deps.sh --speech-corpora)")


@needs_tuxpaint
@needs_fillets
def test_a_few_clips_from_the_installed_packages_become_eval_items(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    from talkface_ros.eval.real_set import build_fillets_set, build_tuxpaint_set

    monkeypatch.setenv("TALKFACE_CACHE_DIR", str(tmp_path))
    french = build_tuxpaint_set(["fr"], max_per_speaker=3)
    czech = build_fillets_set(max_per_speaker=3)
    assert len(french) == 3 and len(czech) == 3
    assert {i.speaker for i in french} == {"tuxpaint:fr"} and {i.speaker for i in czech} == set(fillets.TEST_SPEAKERS)
    for item in french + czech:
        assert item.audio.dtype == np.int16 and len(item.audio) > 0.4 * 16000
        assert len(item.phone_class) == -(-len(item.audio) // 320)
        assert (item.phone_class & 1).any()  # some open vowel frames: phones were found in the audio
    assert build_tuxpaint_set(["fr"], max_per_speaker=3)[0].id == french[0].id  # the same clips every time


@needs_tuxpaint
def test_a_training_half_language_is_refused_as_an_eval_set():
    from talkface_ros.eval.eval_cli import load_set

    train_locale = next(r.locale for r in tuxpaint.READERS if tuxpaint.speaker_name(r.locale) not in tuxpaint.TEST_SPEAKERS)
    with pytest.raises(SystemExit, match="training half"):
        load_set(f"real-tuxpaint:{train_locale}", "out/corpus", 3)
