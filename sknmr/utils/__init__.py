"""Utilities for developers of sknmr: finding its estimators."""

from .discovery import all_estimators

__all__ = ["all_estimators"]
