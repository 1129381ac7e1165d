"""Collection strategy as code: segments, treatment paths, guardrails, decisions."""
