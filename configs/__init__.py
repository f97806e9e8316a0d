"""The configs that ship with the package: ``jepa-agent train --config reacher`` reads
``reacher.yaml`` here (``configurator.loading.shipped_configs`` lists them; ``jepa-agent
configs`` prints them). A config may name another as its ``base`` and hold only its
differences."""
