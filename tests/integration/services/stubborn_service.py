"""A service whose source ignores stop requests: ``python -m tests.integration.services.stubborn_service``.

Used to check that the runtime ends a shutdown that outlasts the grace period by itself.
It runs on the example service's settings and database; its source sleeps in steps of a
second and never looks at ``context.stopping``.
"""

from __future__ import annotations

import sys
import time

from ringrift.service.flags import load_settings
from ringrift.service.hooks import SourceContext
from ringrift.service.runtime import ServiceRuntime
from services.example.settings import ExampleSettings


def stubborn(context: SourceContext) -> int:
    for _ in range(600):
        context.beat()
        time.sleep(1)
    return 1


def main() -> int:
    runtime = ServiceRuntime(load_settings(ExampleSettings, sys.argv[1:]))
    runtime.source(stubborn)
    return runtime.run()


if __name__ == "__main__":
    sys.exit(main())
