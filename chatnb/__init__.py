"""chatnb: chat with LLMs inside Jupyter."""
