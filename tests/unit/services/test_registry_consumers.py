"""The topic registry names exactly the topics each service's ``main.py`` reads.

The registry's consumer lists feed the deploy files (consumer groups, scaling on lag) and
``ringrift events topics``; a service that stops reading a topic, or starts reading a new
one, without the registry saying so would leave them wrong. The wiring is read from the
source (the calls ``runtime.consume([...])``, ``runtime.table(X)`` and
``runtime.cluster(...)``, which reads the cluster status), so no service is started.
"""

from __future__ import annotations

import ast
from pathlib import Path

from ringrift.events import topics
from ringrift.events.topics import CLUSTER_STATUS, SERVICES, TOPICS

SERVICES_DIR = Path(__file__).resolve().parents[3] / "services"


def _topic(node: ast.expr) -> str:
    assert isinstance(node, ast.Name), ast.dump(node)
    return getattr(topics, node.id).name


def read_topics(main: Path) -> set[str]:
    """Names of the topics ``main`` wires its runtime to read."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(main.read_text())):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr == "consume" and node.args and isinstance(node.args[0], ast.List):
            names |= {_topic(element) for element in node.args[0].elts}
        elif node.func.attr == "table" and node.args:
            names.add(_topic(node.args[0]))
        elif node.func.attr == "cluster":
            names.add(CLUSTER_STATUS.name)
    return names


def test_each_service_reads_what_the_registry_says() -> None:
    for service in sorted(SERVICES):
        main = SERVICES_DIR / service.replace("-", "_") / "main.py"
        assert main.is_file(), f"{service}: no {main}"
        registered = {spec.name for spec in TOPICS if service in spec.consumers}
        assert read_topics(main) == registered, service


def test_the_reader_sees_every_kind_of_wiring(tmp_path: Path) -> None:
    main = tmp_path / "main.py"
    main.write_text("def wire(runtime):\n"
                    "    runtime.table(MODEL_CURRENT)\n"
                    "    runtime.cluster(route=True)\n"
                    "    runtime.consume([GAME_COMPLETED, SHARD_WRITTEN], handle)\n")
    assert read_topics(main) == {topics.MODEL_CURRENT.name, CLUSTER_STATUS.name,
                                 topics.GAME_COMPLETED.name, topics.SHARD_WRITTEN.name}
