"""The pages, one file per page (served through app.py\x27s st.navigation; see docs/ARCHITECTURE.md)."""
