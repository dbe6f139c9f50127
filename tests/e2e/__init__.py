"""End-to-end browser tests (JupyterLab in headless Chromium)."""
