"""The pure domain: the MLTRL rules, their arithmetic and the card's model.

Nothing here imports streamlit, the database or the services; every module is a function of its
arguments (levels and moves, risk bands, gates, OKR quarters, analytics over DataFrames, the TRL
card's model, Markdown layout and HTML, days and instants, text fields). The layers above
(models and db, services, ui, the CLI and the pages) may import from here; nothing here imports
them back: `make lint` checks that contract (import-linter, see pyproject.toml).
"""
