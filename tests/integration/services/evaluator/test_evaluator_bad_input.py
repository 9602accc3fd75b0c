"""Bad input on every topic the evaluator consumes is dead-lettered with its reason; it goes on.

On ``candidate-ready``: bytes that are no envelope, a candidate of an unknown config, one
whose envelope names another config, and one whose checkpoint artifact fails its sha256
(found by the job when it loads the model: the evaluation is marked failed); on
``model.lifecycle``: an event of an unknown config. Each lands in the topic's dead-letter
twin with a message naming what is wrong, and a valid candidate published after them is
evaluated as usual.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ringrift.events import deadletter
from ringrift.events.gen.model.v1.model_pb2 import ModelLifecycleChanged
from ringrift.events.producer import EventProducer, RawRecord
from ringrift.events.replay import list_dead_letters
from ringrift.events.topics import CANDIDATE_READY, EVALUATION_COMPLETED, MODEL_LIFECYCLE
from ringrift.storage.artifacts import DirectoryArtifactStore
from ringrift.storage.database import make_engine, session_scope
from services.evaluator.tables import Evaluation
from tests.fixtures.services import ServiceEnv
from tests.utils.evaluator import candidate, lifecycle

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
FLAGS = ("--simulations", "2", "--max-moves", "30", "--gate-batch-games", "2",
         "--gate-max-games", "2", "--baseline-games", "2")


def test_bad_input_is_dead_lettered_with_its_reason_and_the_service_goes_on(
        service_env: ServiceEnv, untrained_checkpoint, tmp_path) -> None:
    good = untrained_checkpoint.stored(service_env)
    store = DirectoryArtifactStore(service_env.directory / "artifacts")
    (tmp_path / "other.pt").write_bytes(untrained_checkpoint.path.read_bytes() + b"x")
    corrupt = store.put_file(tmp_path / "other.pt")
    stored = store.path_for(corrupt.sha256)
    stored.chmod(0o644)
    stored.write_bytes(stored.read_bytes()[:-10] + b"0123456789")  # bit rot behind the store
    url = service_env.migrate("evaluator")
    service_env.start("evaluator", *FLAGS)

    topic = service_env.topic(CANDIDATE_READY)
    with EventProducer(service_env.kafka, client_id="test-raw") as producer:
        delivery = producer.send([RawRecord(topic.name, "square8_2p", b"\x00not an envelope",
                                            partition=0)])
        assert delivery.wait(30) and not delivery.failures()
    service_env.publish(CANDIDATE_READY, [
        candidate("m-chess", "chess_2p"),
        candidate("m-mismatch", "hex8_2p", envelope_config="square8_2p"),
        candidate("m-corrupt", ref=corrupt),
    ])
    service_env.publish(MODEL_LIFECYCLE, [lifecycle(ModelLifecycleChanged.PROMOTED, "m1",
                                                    "go_2p")])
    service_env.publish(CANDIDATE_READY, [candidate(untrained_checkpoint.model_id, ref=good)])

    [completed] = service_env.read(EVALUATION_COMPLETED, 1, timeout=1200)
    assert completed.payload.model_id == untrained_checkpoint.model_id
    letters = list_dead_letters(service_env.kafka, topic.name)
    messages = sorted(letter.context[deadletter.ERROR_MESSAGE] for letter in letters)
    assert len(messages) == 4, messages
    expected = ["not a ringrift.events.v1.Envelope", "config 'chess_2p', which is not one of",
                "envelope config 'square8_2p' differs from the payload's 'hex8_2p'",
                "the candidate m-corrupt of square8_2p cannot be loaded"]
    for text in expected:
        assert any(text in message for message in messages), (text, messages)
    corrupt_reason = next(m for m in messages if "m-corrupt" in m)
    assert "cannot be loaded: ArtifactCorrupt: artifact file://" in corrupt_reason
    [lifecycle_letter] = list_dead_letters(service_env.kafka,
                                           service_env.topic(MODEL_LIFECYCLE).name)
    assert "'go_2p', which is not one of" in lifecycle_letter.context[deadletter.ERROR_MESSAGE]

    engine = make_engine(url)
    try:
        with session_scope(engine, read_only=True) as session:
            states = {row.model_id: row.state for row in session.scalars(select(Evaluation))}
    finally:
        engine.dispose()
    assert states == {"m-corrupt": "failed", untrained_checkpoint.model_id: "done"}
