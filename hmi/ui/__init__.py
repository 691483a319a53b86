"""The Qt shell: main window, screens built from the site project."""
