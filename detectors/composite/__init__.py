"""Composite pipelines built from the other detector families (the investigator)."""

from .investigator import Investigator

__all__ = ["Investigator"]
