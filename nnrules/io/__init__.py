"""Everything that crosses the program's edge: models, data, files."""
