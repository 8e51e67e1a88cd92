"""Requests for one voice that wait are decoded together, each getting its own mels back."""
import threading
import time

import numpy as np
import pytest

from conftest import FIXTURES
from synth.serving.batching import Batcher
from synth.speech import SpeechOptions, Voice
from synth.speech.mel import MelOutput


class Recorder:
    """A stand-in model: each mel holds its input's ids; every call is recorded. Its calls
    wait for `free`: the first holds the model until every other request is in line."""

    def __init__(self, fail=False):
        self.calls, self.fail, self.free = [], fail, threading.Event()

    def __call__(self, ids, options):
        self.calls.append(([list(i) for i in ids], options))
        assert self.free.wait(60)
        if self.fail:
            raise ValueError("the model broke")
        return MelOutput([np.array(i, np.float32)[:, None] for i in ids], durations=[np.ones(len(i)) for i in ids])


def _until(condition):
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, "the requests never got in line"
        time.sleep(0.001)


def _ask_at_once(call, requests, batcher, free):
    """Each request on its own thread: the first finds the model idle and holds it (its call
    waits for `free`), the others get in line behind it in this order; then `free` is set."""
    results, errors = [None] * len(requests), [None] * len(requests)

    def ask(index):
        try:
            results[index] = call(*requests[index])
        except Exception as e:
            errors[index] = e

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(requests))]
    for index, thread in enumerate(threads):
        thread.start()
        if index == 0:
            _until(lambda: batcher._decoding)
        else:
            _until(lambda: len(batcher._waiting) == index)
    free.set()
    for thread in threads:
        thread.join(timeout=30)
    return results, errors


def test_waiting_requests_share_calls_and_get_their_own_mels():
    model = Recorder()
    batcher = Batcher(model, max_items=4)
    options = SpeechOptions()
    requests = [([[i, 100 + i]], options) for i in range(9)] + [([[50], [51]], options)]
    results, errors = _ask_at_once(batcher, requests, batcher, model.free)
    assert errors == [None] * 10
    for (ids, _), result in zip(requests, results):
        assert [m[:, 0].tolist() for m in result.mels] == ids
        assert [len(d) for d in result.durations] == [len(i) for i in ids]
    sizes = [len(ids) for ids, _ in model.calls]
    assert sizes[0] == 1  # the first request found the model idle: decoded at once, alone
    assert all(size <= 4 for size in sizes) and sum(sizes) == 11
    assert batcher.calls == len(model.calls) <= 5  # 11 sentences in at most 1 + ceil(10 / 4) calls


def test_requests_with_other_options_are_not_mixed():
    model = Recorder()
    batcher = Batcher(model, max_items=8)
    slow, fast = SpeechOptions(speed=0.8), SpeechOptions(speed=1.5)
    requests = [([[i]], slow if i % 2 else fast) for i in range(6)]
    results, errors = _ask_at_once(batcher, requests, batcher, model.free)
    assert errors == [None] * 6
    for ids, options in model.calls:
        assert all(requests[i[0]][1] == options for i in ids)
    assert [r.mels[0][0, 0] for r in results] == list(range(6))


def test_a_failure_reaches_every_request_of_its_batch():
    model = Recorder(fail=True)
    batcher = Batcher(model, max_items=8)
    results, errors = _ask_at_once(batcher, [([[i]], SpeechOptions()) for i in range(4)], batcher, model.free)
    assert results == [None] * 4 and all(isinstance(e, ValueError) for e in errors)


@pytest.mark.slow
def test_a_voice_speaks_for_many_visitors_at_once():
    """Tacotron2 (the tiny one never stops: each sentence runs to its step cap) through the
    batcher, four visitors at once: each gets exactly its own audio's length, in fewer model calls."""
    voice = Voice.from_pretrained(str(FIXTURES / "tts_tiny" / "tacotron2"), vocoder=str(FIXTURES / "tts_tiny" / "mb_melgan"))
    free, to_mel = threading.Event(), voice.to_mel

    def held(ids, options):  # the first call holds the model until every visitor is in line
        assert free.wait(60)
        return to_mel(ids, options)

    voice.to_mel = batcher = Batcher(held, voice.text_to_mel.BATCH_SIZE)
    texts = ["Hello there.", "A longer sentence comes here.", "Good day to you.", "Hi."]
    expected = [voice.text_to_mel.default_max_steps(len(ids)) * voice.text_to_mel.config.reduction_factor
                * voice.vocoder.hop_size for ids in voice.ids(texts)]
    results, errors = _ask_at_once(lambda text: voice.speak(text), [(t,) for t in texts], batcher, free)
    assert errors == [None] * 4
    assert [len(r.audio) for r in results] == expected
    assert [r.words[-1].text for r in results] == ["there", "here", "you", "Hi"]
    assert batcher.calls < 4
