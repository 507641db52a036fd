"""Small Streamlit helpers shared by the pages: the one place in ``mltrl`` that imports streamlit.

* ``context``  -- the cached engine, the acting user, cached reads keyed on the data version
* ``current``  -- the current technology, followed from page to page and kept in the URL
* ``feedback`` -- running a use case from a form: errors, warnings and flash messages
"""
