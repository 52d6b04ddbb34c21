"""`logits` mode (CoGenesis variant 2): token-level fusion of the local and the cloud model.

The local model holds the private context and leads; the cloud, which sees only the
sanitized instruction and a sanitized copy of the answer so far, drafts a few tokens with
top-k logprobs where the local model is unsure. Distributions are aligned through bytes
(the tokenizers may differ) and fused in log space with a weight from a small gate trained
by `cogate collab train-gate`.

    runner = LogitsRunner(settings, local_model, privacy, fallbacks={"sketch": sketch_runner})
    pipeline runners: {"logits": runner, ...}
"""

from .align import CloudStep, Draft
from .decode import LogitsOptions, Stats
from .fusion import DEFAULT_WEIGHT, FixedGate, MlpGate, load_gate
from .probe import Capability, CapabilityProbe
from .runner import LOGITS_FALLBACK_HEADER, LogitsRunner, LogitsUnavailable, default_gate_path

__all__ = [
    "DEFAULT_WEIGHT",
    "LOGITS_FALLBACK_HEADER",
    "Capability",
    "CapabilityProbe",
    "CloudStep",
    "Draft",
    "FixedGate",
    "LogitsOptions",
    "LogitsRunner",
    "LogitsUnavailable",
    "MlpGate",
    "Stats",
    "default_gate_path",
    "load_gate",
]
