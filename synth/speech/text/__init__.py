"""Text front ends: text -> symbol ids, as each voice was trained."""
from synth.speech.text.processor import TextProcessor

__all__ = ["TextProcessor"]
