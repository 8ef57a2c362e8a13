"""Sec. 5.3 / App. C: a causal language model summarizing news, with oracle, weak, self and random selection."""
