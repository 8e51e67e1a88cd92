"""The models people can pick: names, labels, Hub repos pinned to full commit SHAs."""
from __future__ import annotations

import dataclasses

from synth.errors import ConfigError, UnknownModel

# The files each loader reads, each name written here only: this module imports no
# TensorFlow, so `synth download` and `synth models` know what to fetch before TensorFlow
# loads. The loaders (speech/checkpoint.py, speech/text/processor.py, image/loaders.py)
# import these names.
CONFIG_YML, MODEL_H5 = "config.yml", "model.h5"                     # Tacotron2, FastSpeech2, MultiBandMelGAN
PROCESSOR_JSON = "processor.json"                                    # TextProcessor
NATIVE_CONFIG, NATIVE_WEIGHTS = "config.json", "model.safetensors"   # Generator, our format
SAVED_MODEL, SAVED_VARIABLES = "saved_model.pb", "variables"         # Generator, Keras-2 SavedModel
TORCH_WEIGHTS = "latest_net_G.pth"   # Generator, the CycleGAN authors' PyTorch state dict (converted on load)

# What a loader needs: sets of file patterns (as in snapshot_download's allow_patterns), any
# one of which is enough; a generator comes in any of three formats.
FileSets = tuple[tuple[str, ...], ...]
REPO_TYPES = ("model", "space", "dataset")
CHECKPOINT_FILES: FileSets = ((CONFIG_YML, MODEL_H5),)
PROCESSOR_FILES: FileSets = ((PROCESSOR_JSON,),)
GENERATOR_FILES: FileSets = ((NATIVE_CONFIG, NATIVE_WEIGHTS), (SAVED_MODEL, f"{SAVED_VARIABLES}/*"), (TORCH_WEIGHTS,))
# role -> what a repo in that role holds for us (a voice's text-to-mel repo also holds the
# symbol table its TextProcessor reads).
ROLE_FILES: dict[str, FileSets] = {
    "text_to_mel": ((CONFIG_YML, MODEL_H5, PROCESSOR_JSON),),
    "vocoder": CHECKPOINT_FILES,
    "generator": GENERATOR_FILES,
}


@dataclasses.dataclass(frozen=True)
class Repo:
    """One Hub repository at a pinned revision (its role in a Model says which files we read).

    `repo_type` is huggingface_hub's: "model", or "space" for weights a demo Space holds.
    `subfolder`: where the model's files are, in a repo that holds several models (only the
    files there are downloaded)."""
    repo_id: str
    revision: str
    size_mb: float
    repo_type: str = "model"
    subfolder: str = ""

    def __post_init__(self):
        if self.repo_type not in REPO_TYPES:
            raise ConfigError(f"repo_type {self.repo_type!r}: expected one of {', '.join(REPO_TYPES)}",
                              reason="bad_value", value=self.repo_type, choices=REPO_TYPES)

    @property
    def display(self) -> str:
        """The repo as its Hub address says it: `org/name`, `spaces/org/name`."""
        return f"{self.repo_type}s/{self.repo_id}" if self.repo_type != "model" else self.repo_id


# A voice's text-to-mel family (its config's model_type): the name people see, and which of
# speed / pitch / energy it can change (the model classes say the same in CONTROLS; a test
# holds the two together). The page builds its sliders from this before any model loads.
FAMILIES = {"tacotron2": "Tacotron2", "fastspeech2": "FastSpeech2"}
FAMILY_CONTROLS = {"tacotron2": ("speed",), "fastspeech2": ("speed", "pitch", "energy")}


@dataclasses.dataclass(frozen=True)
class Model:
    name: str
    task: str                       # "voice" or "style"
    label: dict[str, str]           # display label by UI language ("en", "ko")
    language: str
    repos: dict[str, Repo]          # role -> repo: text_to_mel + vocoder, or generator
    license: str
    description: str
    sample_rate: int | None = None
    unavailable: str | None = None  # why it cannot be used yet; None when it can
    family: str = ""                # a voice's text-to-mel model_type (a key of FAMILIES)
    inverse: str | None = None      # a style: the catalog style that maps its output back (a round trip)

    @property
    def available(self) -> bool:
        return self.unavailable is None

    def display(self, language: str = "en") -> str:
        """The name people see: the label in `language`, and a voice's model family."""
        label = self.label.get(language, self.label["en"])
        return f"{label} · {FAMILIES[self.family]}" if self.family else label

    @property
    def controls(self) -> tuple[str, ...]:
        return FAMILY_CONTROLS.get(self.family, ())

    @property
    def size_mb(self) -> float:
        return sum(r.size_mb for r in self.repos.values())


def _voice(name, language, label_en, label_ko, t2m, t2m_sha, voc, voc_sha, rate, description,
           vocoder_mb=10.2, text_to_mel_mb=128.0, family="tacotron2"):
    return Model(name, "voice", {"en": label_en, "ko": label_ko}, language,
                 {"text_to_mel": Repo(f"tensorspeech/{t2m}", t2m_sha, text_to_mel_mb),
                  "vocoder": Repo(f"tensorspeech/{voc}", voc_sha, vocoder_mb)},
                 "Apache-2.0", description, rate, family=family)


# The Multi-band MelGAN vocoders, one per language, shared by both families of voices.
MELGAN = {"en": ("tts-mb_melgan-ljspeech-en", "21641421f4de5d5c1406bacf20473b8ae2445cae"),
          "ko": ("tts-mb_melgan-kss-ko", "8934a51e7dee1961897375f3de0413fb679c0e90"),
          "zh": ("tts-mb_melgan-baker-ch", "14292f026b09d55e84a7e1a26b1c21b9bc84cf57")}
FASTSPEECH2 = ("FastSpeech2 predicts how long, how high and how loud each sound is, then makes "
               "every frame at once: fast, steady on long sentences, with pitch and energy controls.")


# The CycleGAN authors' pretrained generators (junyanz/pytorch-CycleGAN-and-pix2pix, the paper's
# ResNet-9), as a Space re-hosts their download script's result: one folder per style holding
# the PyTorch latest_net_G.pth, which synth converts to its own format on first load.
# The licence is the Space's README's (`license: bsd-2-clause`), which is that of the authors'
# code (Copyright (c) 2017, Jun-Yan Zhu and Taesung Park); the authors state none for the
# weights themselves. `license` stays an SPDX id (pages show it in any language); the
# description says where it comes from.
AUTHORS_SPACE = ("davidpiscasio/unpaired-img2img", "3ce13dcd9fafca8f086ff5a532cf2cc34431995e")
AUTHORS_LICENSE = "BSD-2-Clause"
AUTHORS_LICENSE_NOTE = ("Licence: BSD-2-Clause, as the Space that re-hosts the weights states it; that is the "
                        "authors' code licence (Jun-Yan Zhu and Taesung Park, 2017), and they state none for "
                        "the weights themselves.")


def _authors_style(name, style, label_en, label_ko, description, inverse=None):
    """One of the authors' styles: `style` is its name in their download script."""
    return Model(name, "style", {"en": label_en, "ko": label_ko}, "",
                 {"generator": Repo(*AUTHORS_SPACE, 45.5, repo_type="space", subfolder=f"checkpoints/{style}_pretrained")},
                 AUTHORS_LICENSE, "The CycleGAN authors' ResNet-9 generator (PyTorch, converted on first load). "
                 + description + " " + AUTHORS_LICENSE_NOTE, inverse=inverse)


MODELS: dict[str, Model] = {m.name: m for m in [
    _voice("ljspeech-en", "en", "English (LJSpeech)", "영어 (LJSpeech)",
           "tts-tacotron2-ljspeech-en", "6b1d2d740e38deae627f22626e3a88e1048fe8cc",
           *MELGAN["en"], 22050,
           "A female US English reader (LJSpeech audiobooks): Tacotron2 + Multi-band MelGAN."),
    _voice("kss-ko", "ko", "Korean (KSS)", "한국어 (KSS)",
           "tts-tacotron2-kss-ko", "a08c55282a4d14d02ac0effd67555f3c0d241487",
           *MELGAN["ko"], 22050,
           "A female Korean speaker (Korean Single Speaker dataset): Tacotron2 + Multi-band MelGAN."),
    _voice("thorsten-de", "de", "German (Thorsten)", "독일어 (Thorsten)",
           "tts-tacotron2-thorsten-ger", "1ed2cd985705de5fc41b1f12fe3b5aab46fae696",
           "tts-mb_melgan-thorsten-ger", "edc9f156baacf9212983af52341932c9ace7d0fa", 22050,
           "A male German speaker (Thorsten dataset): Tacotron2 + Multi-band MelGAN."),
    _voice("synpaflex-fr", "fr", "French (SynPaFlex)", "프랑스어 (SynPaFlex)",
           "tts-tacotron2-synpaflex-fr", "732c1078edeb6d15fec7528460925a22672188f0",
           "tts-mb_melgan-synpaflex-fr", "1f4643c5480443269ea076b02960fda4d3e5ac82", 22050,
           "A female French reader (SynPaFlex corpus): Tacotron2 + Multi-band MelGAN. Numbers are "
           "written out in words before it reads them."),
    _voice("baker-zh", "zh", "Mandarin (Baker)", "중국어 (Baker)",
           "tts-tacotron2-baker-ch", "c325a6eeac61b20250b0a28b9a3bd9526df105a2",
           *MELGAN["zh"], 24000,
           "A female Mandarin speaker (Databaker corpus): Tacotron2 + Multi-band MelGAN. Chinese "
           "characters and numbers; Latin letters are skipped.", vocoder_mb=7.54),
    _voice("ljspeech-en-fastspeech2", "en", "English (LJSpeech)", "영어 (LJSpeech)",
           "tts-fastspeech2-ljspeech-en", "187216f3596f3638b845333dd9e0e81051270af5", *MELGAN["en"], 22050,
           "The LJSpeech reader again, with FastSpeech2 + Multi-band MelGAN. " + FASTSPEECH2,
           text_to_mel_mb=125.0, family="fastspeech2"),
    _voice("kss-ko-fastspeech2", "ko", "Korean (KSS)", "한국어 (KSS)",
           "tts-fastspeech2-kss-ko", "863989e7adebb8052a411b00e6906063d4851767", *MELGAN["ko"], 22050,
           "The KSS speaker again, with FastSpeech2 + Multi-band MelGAN. " + FASTSPEECH2,
           text_to_mel_mb=125.0, family="fastspeech2"),
    _voice("baker-zh-fastspeech2", "zh", "Mandarin (Baker)", "중국어 (Baker)",
           "tts-fastspeech2-baker-ch", "225aa04bd0fc08d9558d2f29547c7a0fe8c4f648", *MELGAN["zh"], 24000,
           "The Baker speaker again, with FastSpeech2 + Multi-band MelGAN. " + FASTSPEECH2,
           vocoder_mb=7.54, text_to_mel_mb=65.5, family="fastspeech2"),
    Model("horse2zebra", "style", {"en": "Horse → zebra", "ko": "말 → 얼룩말"}, "",
          {"generator": Repo("keras-io/CycleGAN", "4196a07fe2b504e8cb126329a975e54b5fe45a5b", 47.2)},
          "CC0-1.0", "CycleGAN ResNet-9 generator from the keras.io example, trained on horse "
                     "and zebra photos: paints zebra stripes on horses.", inverse="zebra2horse"),
    _authors_style("zebra2horse", "zebra2horse", "Zebra → horse", "얼룩말 → 말",
                   "Turns zebras into horses. keras.io's horse2zebra was trained apart from it, so the "
                   "round trip horse → zebra → horse joins two independent trainings.",
                   inverse="horse2zebra"),
    _authors_style("monet", "style_monet", "Photo → Monet", "사진 → 모네",
                   "Paints a landscape photo the way Claude Monet might have (trained on his paintings "
                   "and Flickr landscapes)."),
    _authors_style("vangogh", "style_vangogh", "Photo → Van Gogh", "사진 → 반 고흐",
                   "Paints a landscape photo in Vincent van Gogh's colours and brushwork (trained on his "
                   "paintings and Flickr landscapes)."),
    _authors_style("apple2orange", "apple2orange", "Apple → orange", "사과 → 오렌지",
                   "Turns apples into oranges (ImageNet photos); orange2apple goes the other way.",
                   inverse="orange2apple"),
    _authors_style("orange2apple", "orange2apple", "Orange → apple", "오렌지 → 사과",
                   "Turns oranges into apples (ImageNet photos); apple2orange goes the other way.",
                   inverse="apple2orange"),
]}


def in_family(voice: Model, family: str) -> Model | None:
    """The catalog's voice of the same speaker (the same vocoder) in model family `family`."""
    return next((m for m in models("voice") if m.family == family
                 and m.repos["vocoder"] == voice.repos["vocoder"] and m.available), None)


def get(name: str) -> Model:
    """The catalog entry `name`; the error lists the valid names."""
    if name not in MODELS:
        raise UnknownModel(f"unknown model '{name}'; valid names: {', '.join(MODELS)}")
    return MODELS[name]


def models(task: str | None = None) -> list[Model]:
    return [m for m in MODELS.values() if task is None or m.task == task]
