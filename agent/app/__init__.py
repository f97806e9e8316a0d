"""The application layer: the ``jepa-agent`` command line (``cli``), run folders (``run``),
offline datasets (``dataset``) and pretraining (``pretrain``), videos, metrics, the config
reference and the planner bench. It sits above the agent and its loops; nothing below
imports it."""
