"""Command-line interface (Typer + Rich): thin commands that call one service each."""
