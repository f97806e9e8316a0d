"""``python -m jepa_agent ...`` is the ``jepa-agent`` command."""

from jepa_agent.agent.app.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
