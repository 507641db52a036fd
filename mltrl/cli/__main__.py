"""``python -m mltrl.cli``: the same as the ``mltrl`` console script."""

from mltrl.cli import main

main()
