"""Helpers the tests share: running a cell, reading the emulator's request log, kernels."""
