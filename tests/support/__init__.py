"""Plain helpers for the template's tests, one idea per module; ``tests/conftest.py`` holds the fixtures."""
