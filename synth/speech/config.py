"""Model configs: `config.yml` as tensorflow-tts wrote it (model_type + <model_type>_params)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from synth.errors import ConfigError

# Vocabulary size per training dataset, as the checkpoints were built (the config names
# the dataset, not the vocabulary size).
DATASET_VOCAB = {"ljspeech": 149, "kss": 81, "baker": 219, "synpaflex": 84, "thorsten": 63}


def read_config(model_dir: str | Path, model_types: tuple[str, ...]) -> tuple[str, dict, dict]:
    """Return (model_type, params, whole config) from `model_dir/config.yml`."""
    path = Path(model_dir) / "config.yml"
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"no config.yml in {model_dir}", file=str(path)) from e
    except yaml.YAMLError as e:
        raise ConfigError(f"{path} is not valid YAML: {e}", file=str(path)) from e
    except (OSError, UnicodeDecodeError) as e:  # unreadable, or bytes that are not UTF-8 text
        raise ConfigError(f"{path} cannot be read as a config: {type(e).__name__}: {e}", file=str(path)) from e
    if not isinstance(config, dict) or "model_type" not in config:
        raise ConfigError(f"{path} has no 'model_type'; expected one of {list(model_types)}", file=str(path))
    model_type = config["model_type"]
    if not isinstance(model_type, str) or model_type not in model_types:
        raise ConfigError(f"{path}: model_type '{model_type}' is not supported here; "
                          f"expected one of {list(model_types)}", file=str(path))
    params = config.get(f"{model_type}_params")
    if not isinstance(params, dict):
        raise ConfigError(f"{path} has no '{model_type}_params' mapping", file=str(path))
    return model_type, params, config


def build(cls, params: dict, source: str):
    """Fill dataclass `cls` from `params`: fields without a default are required."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    missing = [name for name, f in fields.items() if name not in params
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ConfigError(f"{source}: missing keys {missing} for {cls.__name__}")
    return cls(**{k: v for k, v in params.items() if k in fields})


def _check_voice(config) -> None:
    """The vocabulary of the config's dataset (a config names the dataset, not the size;
    LJSpeech's may be given), and one speaker."""
    if config.vocab_size is None or config.dataset != "ljspeech":
        if config.dataset not in DATASET_VOCAB:
            raise ConfigError(f"unknown dataset '{config.dataset}'; expected one of {sorted(DATASET_VOCAB)}")
        object.__setattr__(config, "vocab_size", DATASET_VOCAB[config.dataset])
    if config.n_speakers != 1:
        raise ConfigError(f"n_speakers={config.n_speakers}: only single-speaker voices (n_speakers 1) are supported")


@dataclasses.dataclass(frozen=True)
class Tacotron2Config:
    n_mels: int
    reduction_factor: int
    embedding_hidden_size: int
    n_conv_encoder: int
    encoder_conv_filters: int
    encoder_conv_kernel_sizes: int
    encoder_conv_activation: str
    encoder_lstm_units: int
    n_prenet_layers: int
    prenet_units: int
    prenet_activation: str
    prenet_dropout_rate: float
    n_lstm_decoder: int
    decoder_lstm_units: int
    attention_dim: int
    attention_filters: int
    attention_kernel: int
    n_conv_postnet: int
    postnet_conv_filters: int
    postnet_conv_kernel_sizes: int
    dataset: str = "ljspeech"
    vocab_size: int | None = None
    n_speakers: int = 1
    attention_type: str = "lsa"
    layer_norm_eps: float = 1e-6

    def __post_init__(self):
        _check_voice(self)
        if self.attention_type != "lsa":
            raise ConfigError(f"attention_type '{self.attention_type}' is not supported; "
                              "expected 'lsa'")
        if self.reduction_factor < 1:
            raise ConfigError(f"reduction_factor must be >= 1, got {self.reduction_factor}")


@dataclasses.dataclass(frozen=True)
class MultiBandMelGANConfig:
    filters: int
    upsample_scales: tuple[int, ...]
    kernel_size: int = 7
    out_channels: int = 4
    stack_kernel_size: int = 3
    stacks: int = 3
    use_bias: bool = True
    is_weight_norm: bool = True  # the reference's default: a config must say false
    use_final_nolinear_activation: bool = True
    nonlinear_activation: str = "LeakyReLU"
    padding_type: str = "REFLECT"
    nonlinear_activation_params: dict = dataclasses.field(default_factory=lambda: {"alpha": 0.2})
    subbands: int = 4
    taps: int = 62
    cutoff_ratio: float = 0.142
    beta: float = 9.0

    def __post_init__(self):
        object.__setattr__(self, "upsample_scales", tuple(int(s) for s in self.upsample_scales))
        if self.is_weight_norm:
            raise ConfigError("is_weight_norm: true is not supported (the published "
                              "Multi-band MelGAN checkpoints are saved without weight norm)")
        if (self.nonlinear_activation, self.padding_type) != ("LeakyReLU", "REFLECT"):
            raise ConfigError(f"nonlinear_activation '{self.nonlinear_activation}' / padding_type "
                              f"'{self.padding_type}' not supported; expected LeakyReLU / REFLECT")
        if self.out_channels != self.subbands:
            raise ConfigError(f"out_channels ({self.out_channels}) must equal subbands "
                              f"({self.subbands})")

    @property
    def hop_size(self) -> int:
        hop = self.subbands
        for s in self.upsample_scales:
            hop *= s
        return hop


@dataclasses.dataclass(frozen=True)
class FastSpeech2Config:
    """tensorflow-tts' FastSpeech2Config: a key a config.yml leaves out takes the
    reference's default, as the reference itself did when it built the checkpoint."""
    dataset: str = "ljspeech"
    vocab_size: int | None = None
    n_speakers: int = 1
    encoder_hidden_size: int = 384
    encoder_num_hidden_layers: int = 4
    encoder_num_attention_heads: int = 2
    encoder_attention_head_size: int = 192
    encoder_intermediate_size: int = 1024
    encoder_intermediate_kernel_size: int = 3
    encoder_hidden_act: str = "mish"
    decoder_hidden_size: int = 384
    decoder_num_hidden_layers: int = 4
    decoder_num_attention_heads: int = 2
    decoder_attention_head_size: int = 192
    decoder_intermediate_size: int = 1024
    decoder_intermediate_kernel_size: int = 3
    decoder_hidden_act: str = "mish"
    layer_norm_eps: float = 1e-5
    max_position_embeddings: int = 2048
    variant_prediction_num_conv_layers: int = 2
    variant_predictor_filter: int = 256
    variant_predictor_kernel_size: int = 3
    num_mels: int = 80
    n_conv_postnet: int = 5
    postnet_conv_filters: int = 512
    postnet_conv_kernel_sizes: int = 5

    def __post_init__(self):
        _check_voice(self)
