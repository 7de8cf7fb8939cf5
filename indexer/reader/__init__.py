"""The reader: e5-small fine-tuned to find the answer span in a passage and say whether the passage answers."""
