"""Linewise HMI: the application (runtime, tags, storage, site projects, Qt shell)."""
