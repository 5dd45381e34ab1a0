"""Resumable photo uploads over tus 1.0 (``/v1/uploads``); the rules live in :mod:`media.tus`."""
