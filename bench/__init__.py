"""The benchmark (``make bench``): synthetic portfolios at S/M/L and the pages' cost against the floor.

Never part of ``make test``: it is reported against targets, not asserted.
"""
