"""The built-in repairs; importing this package registers them."""

from . import augment, confident, group_balance, jtt, llm_flip, table_counterfactuals  # noqa: F401
