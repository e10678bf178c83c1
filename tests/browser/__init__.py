"""Tests that drive JupyterLab in headless Chromium."""
