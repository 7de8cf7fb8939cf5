"""The old home of the `/ask` component, now `service/ask/answerer.py`: kept only for the reader training
(`eval/reader_train/judge_fit.py` imports `Answerer` from here); import from `isnad.service.ask` instead."""

from isnad.service.ask.answerer import Answerer

__all__ = ["Answerer"]
